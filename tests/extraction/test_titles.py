"""Titles a person would write (extraction/titles.py): the event's phrase and object, no date or time,
no greeting or hedge, at most 60 characters, the amount of a payment kept; the sentence stays evidence."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from extraction.dates import TIME, find_dates
from extraction.prompt import SYSTEM_PROMPT
from extraction.providers.rules import extract
from extraction.titles import MAX_TITLE, MONEY, event_title
from extraction.types import Context, EmailInput

# (kind, sentence, title): one per line, by kind and language.
TITLES = [
    # Meetings: the event noun with its modifiers, and its place or person.
    ("meeting", "Can we move the shot-list meeting to Thursday at 3pm instead?", "Shot-list meeting"),
    ("meeting", "Let's do the kickoff at the bakery on Tuesday at 10am.", "Kickoff at the bakery"),
    ("meeting", "Hi Olivia, can we do a kickoff meeting next Tuesday at 10am?", "Kickoff meeting"),
    ("meeting", "The site meeting is confirmed for 9 December at 8:00 on site.", "Site meeting"),
    ("meeting", "Could we have a quick call with Sam on Friday at 2pm?", "Quick call with Sam"),
    ("meeting", "Our weekly catch-up moves to Wednesday 11 March.", "Weekly catch-up"),
    ("meeting", "We will hold the case management hearing on 14 April at 10:30.", "Case management hearing"),
    (
        "meeting",
        "I've booked the meeting room for our workshop with the ops team on 12/03.",
        "Workshop with the ops team",
    ),
    ("meeting", "Let's meet at your office on Monday at 9.", "Meeting at your office"),
    ("meeting", "How about Tuesday 1st at 7pm at our Dublin office?", "Meeting at our Dublin office"),
    ("meeting", "Can we do Thursday at 10am instead?", "Meeting"),
    ("meeting", "Tuesday at 10am works, I've sent an invite.", "Meeting"),
    ("meeting", "¿Podemos hacer la reunión el martes a las 10?", "Reunión"),
    ("meeting", "Potremmo fare il sopralluogo giovedì alle 9?", "Sopralluogo"),
    ("meeting", "Vi har befaring på tirsdag 14. januar kl. 09.00.", "Befaring"),
    ("meeting", "Kan vi holde mødet fredag den 12. marts kl. 13?", "Mødet"),
    ("meeting", "A reunião com o cliente fica para quinta-feira às 15h.", "Reunião com o cliente"),
    ("meeting", "Kunnen we het overleg verplaatsen naar donderdag 14:00?", "Overleg"),
    ("meeting", "12月10日（木）14時から現場で打ち合わせをお願いします。", "現場で打ち合わせ"),
    # Deadlines: what is due.
    ("deadline", "The revised budget is due on Friday.", "Revised budget due"),
    (
        "deadline",
        "Just a reminder that the statement of defence must be filed by 12 March.",
        "Statement of defence due",
    ),
    ("deadline", "Please send us the signed contract by Friday.", "Signed contract due"),
    ("deadline", "We'd like to see a first draft by next Thursday.", "First draft due"),
    ("deadline", "The deadline for comments is 5 March.", "Comments due"),
    ("deadline", "Deadline: final copy for the brochure, 12 March.", "Final copy for the brochure due"),
    ("deadline", "All RSVPs need to be in by Friday 5 May.", "RSVPs due"),
    ("deadline", "Reminder: the tender closes on 14 February at noon.", "Tender closes"),
    ("deadline", "Please confirm the tile order by Monday at the latest.", "Confirm the tile order"),
    ("deadline", "Bitte schicken Sie uns die Pläne bis spätestens 12. März.", "Pläne schicken"),
    ("deadline", "Merci de nous envoyer les plans avant le 12 mars.", "Envoyer les plans"),
    ("deadline", "La fecha límite para la propuesta es el 3 de abril.", "Fecha límite para la propuesta"),
    ("deadline", "La scadenza per la consegna dei disegni è il 20 marzo.", "Scadenza per la consegna dei disegni"),
    ("deadline", "Sista dag för att skicka in offerten är den 20 mars.", "Sista dag för att skicka in offerten"),
    ("deadline", "Frist for tilbakemelding på skissene er fredag 14. mars.", "Frist for tilbakemelding på skissene"),
    ("deadline", "Fristen for aflevering af tegningerne er den 12. marts.", "Fristen for aflevering af tegningerne"),
    ("deadline", "O prazo para entrega do projeto é 30 de abril.", "Prazo para entrega do projeto"),
    ("deadline", "資料の提出期限は3月15日です。", "資料の提出期限"),
    # Milestones: the milestone noun and its object, or the object and what happens to it.
    ("milestone", "The cabinets are delivered on 8 December.", "Cabinets delivered"),
    ("milestone", "Handover of the keys is planned for 20 June.", "Handover of the keys"),
    ("milestone", "The website goes live on Monday 7 December.", "Website go-live"),
    ("milestone", "We'll launch the new site on 3 May.", "Launch of the new site"),
    ("milestone", "The building permit was approved this morning.", "Building permit approved"),
    ("milestone", "Passed inspection this morning.", "Inspection passed"),
    ("milestone", "Die Übergabe der Wohnung ist am 30. Juni.", "Übergabe der Wohnung"),
    ("milestone", "La livraison des meubles est prévue le 4 mai.", "Livraison des meubles"),
    ("milestone", "De oplevering van de woning staat gepland op 1 juli.", "Oplevering van de woning"),
    ("milestone", "Il collaudo dell'impianto è previsto per il 12 giugno.", "Collaudo dell'impianto"),
    ("milestone", "Leveransen av möblerna sker den 12 maj.", "Leveransen av möblerna"),
    ("milestone", "O lançamento da loja online será no dia 5 de maio.", "Lançamento da loja online"),
    # Payments: the noun with its number, its state, and the amount as written.
    ("payment", "Invoice 2 (€4,500) is due on 15 March.", "Invoice 2 due — €4,500"),
    ("payment", "The deposit of $2,400 will be paid by Friday.", "Deposit due — $2,400"),
    ("payment", "We have received your payment of £1,250 today, thanks!", "Payment received — £1,250"),
    ("payment", "I've attached invoice #1042 for $3,200.", "Invoice #1042 sent — $3,200"),
    ("payment", "We transferred the retainer of 2.500 EUR yesterday.", "Retainer paid — 2.500 EUR"),
    ("payment", "Die Anzahlung von 4.500 € ist bis zum 15. März fällig.", "Anzahlung fällig — 4.500 €"),
    ("payment", "La facture n° 12 de 2 300 € a été payée hier.", "Facture n° 12 payée — 2 300 €"),
    ("payment", "La factura de 1.250 € vence el 15 de mayo.", "Factura vence — 1.250 €"),
    ("payment", "Il saldo di 3.200 € va pagato entro il 30 aprile.", "Saldo va pagato — 3.200 €"),
    ("payment", "De aanbetaling van € 2.000 is ontvangen.", "Aanbetaling ontvangen — € 2.000"),
    ("payment", "Fakturan på 45 000 kr förfaller den 30 april.", "Fakturan förfaller — 45 000 kr"),
    ("payment", "Forskuddet på NOK 25 000 forfaller 1. mars.", "Forskuddet forfaller — NOK 25 000"),
    ("payment", "O sinal de R$ 5.000 foi pago hoje.", "Sinal pago — R$ 5.000"),
    ("payment", "請求書（45万円）を3月15日までにお支払いください。", "請求書 — 45万円"),
    # Decisions: the object and what became of it.
    ("decision", "We decided to go with the oak flooring.", "Oak flooring chosen"),
    ("decision", "The board approved the budget yesterday.", "Budget approved"),
    ("decision", "Great news: the client signed off the design on Friday.", "Design signed off"),
    ("decision", "The client approved the layout on Friday's call.", "Layout approved"),
    ("decision", "We'd like to go ahead with the website redesign.", "Website redesign approved"),
    ("decision", "Board sign-off is expected on 14 March.", "Board sign-off"),
    ("decision", "The partners agreed to extend the deadline by two weeks.", "Agreed to extend the deadline"),
    ("decision", "Wir haben uns für die Variante B entschieden.", "Variante B gewählt"),
    ("decision", "Der Kunde hat den Entwurf freigegeben.", "Entwurf freigegeben"),
    ("decision", "Nous avons choisi le parquet en chêne.", "Choix : parquet en chêne"),
    ("decision", "Hemos optado por la propuesta B.", "Elección: propuesta B"),
    ("decision", "Abbiamo scelto il pavimento in rovere.", "Scelta: pavimento in rovere"),
    ("decision", "We hebben gekozen voor de eiken vloer.", "Eiken vloer gekozen"),
    ("decision", "Styret har godkjent konseptet.", "Konseptet godkjent"),
    ("decision", "Decidimos seguir com a opção B.", "Escolha: opção B"),
    ("decision", "デザイン案の承認をいただきました。", "デザイン案の承認"),
    # Status changes: the object and its new state.
    ("status_change", "The project is on hold until January.", "Project on hold"),
    ("status_change", "We've signed the contract!", "Contract signed"),
    ("status_change", "Good news, we won the tender.", "Tender won"),
    ("status_change", "We're pausing the project until January.", "Project paused"),
    ("status_change", "The board voted to award us the balcony contract.", "Balcony contract awarded"),
    ("status_change", "Das Projekt ist ab sofort pausiert.", "Projekt pausiert"),
    # Action items: the task, as a short imperative or infinitive.
    ("action_item", "Can you send me the logo files by Friday?", "Send the logo files"),
    ("action_item", "Marcus, could you confirm the loading dock dimensions?", "Confirm the loading dock dimensions"),
    ("action_item", "I'll send the updated quote tomorrow so you can review it.", "Send the updated quote"),
    ("action_item", "Action item: Marcus to confirm the map provider by next Wednesday.", "Confirm the map provider"),
    ("action_item", "Kannst du bitte die Fotos bis Freitag hochladen?", "Fotos hochladen"),
    ("action_item", "Pourriez-vous nous transmettre les plans de l'étage ?", "Transmettre les plans de l'étage"),
    ("action_item", "Kan du skicka över ritningarna?", "Skicka över ritningarna"),
    ("action_item", "Você pode enviar as fotos da loja?", "Enviar as fotos da loja"),
    ("action_item", "見積書を金曜日までにお送りください。", "見積書の送付"),
]


@pytest.mark.parametrize(("kind", "sentence", "title"), TITLES, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(TITLES)])
def test_the_title_is_the_events_phrase_and_object(kind: str, sentence: str, title: str) -> None:
    assert event_title(sentence, kind) == title


# More sentences, checked for what every title must be rather than word for word.
MORE = [
    ("meeting", "Looking forward to seeing you at the design review on 3 March at 2pm."),
    ("meeting", "Sam from Harbour Foods will come by the studio on Friday 13th at 11:00 to look at the samples."),
    ("meeting", "The final walkthrough with the building inspector is set for Tuesday 17 December at 9am."),
    ("meeting", "Please join us for the launch party on 5 June at 6pm!"),
    ("meeting", "Dinner with the client on Thursday at 7.30pm at Luca's."),
    ("meeting", "Agenda for Monday, December 7th at 3:00 PM EST:"),
    ("meeting", "Kan vi ta möte på torsdag kl 10?"),
    ("meeting", "Können wir den Termin auf Mittwoch, 14.30 Uhr verschieben?"),
    ("meeting", "On se retrouve pour la réunion de chantier lundi 12 mai à 9h ?"),
    ("meeting", "来週の火曜日（3月10日）午後2時から弊社でキックオフミーティングを行います。"),
    ("deadline", "Could you get us your comments on the draft lease by COB Thursday?"),
    ("deadline", "We need your decision on the worktop by next Monday at the latest."),
    ("deadline", "Bitte senden Sie uns die unterschriebene Vereinbarung bis Freitag, 12.03., zurück."),
    ("deadline", "Por favor, envíanos el presupuesto revisado antes del viernes 10 de mayo."),
    ("deadline", "Graag ontvangen we de tekeningen uiterlijk vrijdag 14 maart."),
    ("deadline", "Precisamos do orçamento até o dia 4 de dezembro."),
    ("deadline", "https://example.com/booking — book your slot by 3 May"),
    ("milestone", "Practical completion is forecast for 28 November."),
    ("milestone", "Photos of the finished space will be ready by 10 April."),
    ("milestone", "Der Baubeginn ist für den 2. Mai geplant."),
    ("milestone", "La mise en ligne du site est prévue le 3 juin."),
    ("milestone", "Lanseringen av nettsiden er satt til 3. juni."),
    ("milestone", "Afleveringen af huset er planlagt til 1. juli."),
    ("milestone", "納品は4月15日を予定しております。"),
    ("payment", "Payment of the second instalment (£7,250) is due 14 days after handover."),
    ("payment", "Deposit received with thanks: €1,500."),
    ("payment", "Our invoice INV-2041 for USD 8,400 is attached, payable within 30 days."),
    ("payment", "Invoice 3 – 4,500 € – please pay by 31 March."),
    ("payment", "Fakturaen på 12 500 kr er betalt."),
    ("payment", "Rechnung über 1.234,56 € anbei."),
    ("payment", "The first payment of £4,500 will follow next week."),
    ("decision", "After some back and forth we've settled on the matte black fixtures for the bathroom."),
    ("decision", "Let's go for the second venue, the one by the river."),
    ("decision", "Colour scheme confirmed: sage and cream."),
    ("decision", "Vi har valt det mörka alternativet."),
    ("status_change", "Unfortunately the build is running late because of the weather."),
    ("status_change", "Works resumed on site this morning."),
    ("status_change", "We have put the project on hold until the funding is confirmed."),
    ("action_item", "Anna will prepare the mood board for the next session."),
    ("action_item", "Don't forget to bring the samples to the site meeting."),
    ("action_item", "Could you please check whether the parking permit covers Saturdays?"),
    ("action_item", "¿Puedes enviarme las fotos del local?"),
    ("action_item", "Kan dere sende oss plantegningene?"),
    ("action_item", "Puoi mandarmi le foto del negozio?"),
    (
        "action_item",
        "Hi Priya, as discussed on the phone earlier today, could you please ask your landlord whether the "
        "contractors can use the rear entrance and the freight lift on weekday mornings before the shop opens?",
    ),
]
ALL = [(kind, sentence) for kind, sentence, _ in TITLES] + MORE

OPENINGS = re.compile(
    r"^(?:hi|hello|dear|thanks|please|can we|could we|can you|could you|i think|we'd like|let's|just|so|also|"
    r"reminder|as discussed|bitte|merci de|por favor|kan vi|kunnen we)\b",
    re.IGNORECASE,
)
MONTH_OR_WEEKDAY = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|december|monday|"
    r"tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|today|next week|mars|mai|juin|maj|marzo|"
    r"abril|dezembro|maart|marts|montag|freitag|mittwoch|lundi|vendredi|martes|viernes|giovedì|torsdag|"
    r"tirsdag|fredag|donderdag|vrijdag|quinta-feira)\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize(("kind", "sentence"), ALL, ids=[f"{k}-{i}" for i, (k, _) in enumerate(ALL)])
def test_every_title_is_short_dateless_capitalised_and_read_as_a_title(kind: str, sentence: str) -> None:
    title = event_title(sentence, kind)
    words = MONEY.sub("", title)  # "4.500 €" is an amount, not a time

    assert 0 < len(title) <= MAX_TITLE
    assert title != sentence.strip(" .?!")
    assert not find_dates(words, datetime(2026, 3, 2, tzinfo=UTC), day_first=True), title
    assert not TIME.search(words), title
    assert not MONTH_OR_WEEKDAY.search(words), title
    assert not re.search(r"\d{1,2}[:/.]\d{2}|\d+\s*(?:am|pm)\b|\d+月|\d+日|\d+時", words, re.IGNORECASE), title
    assert not OPENINGS.match(title), title
    assert title[:1] == title[:1].upper()
    assert not re.search(r"[?¿!¡]|\s(?:on|at|by|the|of|to|and|für|de|på|il)$", title), title


@pytest.mark.parametrize(("kind", "sentence"), [p for p in ALL if p[0] == "payment"])
def test_a_payment_title_keeps_the_amount_as_written(kind: str, sentence: str) -> None:
    title = event_title(sentence, kind)
    amounts = re.findall(
        r"(?:R\$|[$€£]|EUR|USD|GBP|NOK)\s?\d[\d.,' ]*\d|\d[\d.,' ]*\d\s?(?:€|kr|EUR)|\d+万円", sentence
    )

    assert amounts, sentence
    assert amounts[0].strip() in title


def test_a_long_sentence_is_cut_at_a_word_and_a_payment_keeps_its_amount_when_cut() -> None:
    task = event_title(
        "Could you ask the building management company whether the contractors' vans can park in the loading "
        "bay behind the shop?",
        "action_item",
    )
    payment = event_title(
        "The final instalment for the complete refurbishment of the ground floor and basement kitchens "
        "(€128,450.00) is due on 30 June.",
        "payment",
    )

    assert len(task) <= MAX_TITLE and task.startswith("Ask the building management company")
    assert re.search(
        rf"(?<!\w){re.escape(task.lower())}(?!\w)",
        "could you ask the building management company whether the contractors' vans can park in the loading bay",
    )
    assert payment == "Final instalment due — €128,450.00"


@pytest.mark.parametrize(
    ("kind", "sentence", "label"),
    [
        ("meeting", "Thursday 10am?", "Meeting"),
        ("meeting", "See you then!", "Meeting"),
        ("deadline", "By Friday at the latest.", "Deadline"),
        ("milestone", "On 3 May.", "Milestone"),
        ("action_item", "Thanks!", "To do"),
    ],
)
def test_a_sentence_that_names_nothing_is_titled_by_its_kind(kind: str, sentence: str, label: str) -> None:
    assert event_title(sentence, kind) == label


def test_the_rules_provider_titles_its_events_and_keeps_the_sentence_as_evidence() -> None:
    body = (
        "Hi Tom,\n\nCan we move the shot-list meeting to Thursday 26 November at 3pm instead?\n\n"
        "Invoice 2 (€4,500) is due on 1 December. We decided to go with the oak flooring.\n\n"
        "Could you send the revised drawings by Friday?\n\nThanks,\nSarah"
    )
    email = EmailInput(
        message_id="<t@x>",
        subject="Kitchen renovation",
        from_address="sarah@hendersonfamily.co.uk",
        from_name="Sarah Henderson",
        to=["tom@brightline.studio"],
        cc=[],
        date=datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
        text=body,
    )

    events = extract(email, Context(organization_domains=["brightline.studio"])).events

    assert [(e.kind, e.title) for e in events] == [
        ("meeting", "Shot-list meeting"),
        ("payment", "Invoice 2 due — €4,500"),
        ("decision", "Oak flooring chosen"),
        ("deadline", "Revised drawings due"),
    ]
    assert [e.evidence for e in events] == [
        "Can we move the shot-list meeting to Thursday 26 November at 3pm instead?",
        "Invoice 2 (€4,500) is due on 1 December.",
        "We decided to go with the oak flooring.",
        "Could you send the revised drawings by Friday?",
    ]


def test_the_claude_prompt_asks_for_the_same_short_titles() -> None:
    prompt = " ".join(SYSTEM_PROMPT.split())

    assert "no date, time, greeting or hedge, at most 60 characters" in prompt
    assert '"Invoice 2 due — €4,500", "Board sign-off"' in prompt
    assert 'the whole sentence goes in "evidence"' in prompt
