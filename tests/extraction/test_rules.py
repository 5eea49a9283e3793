"""The offline provider: project decisions, event kinds, dates, and what it must ignore."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from extraction.providers.rules import extract
from extraction.types import Context, EmailInput, EventRef, ProjectRef, ThreadEmail

TUESDAY = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
OURS = ["brightline.studio"]


def email(text: str, **kw: Any) -> EmailInput:
    values: dict[str, Any] = {
        "message_id": "<m@x>",
        "subject": "Kitchen renovation at 14 Elm Road",
        "from_address": "sarah@hendersonfamily.co.uk",
        "from_name": "Sarah Henderson",
        "to": ["Tom <tom@brightline.studio>"],
        "cc": ["brightline@in.projectr.example"],
        "date": TUESDAY,
        "text": text,
    }
    values.update(kw)
    return EmailInput(**values)


def context(**kw: Any) -> Context:
    return Context(organization_domains=OURS, **kw)


def events_of(text: str, **kw: Any) -> list[tuple[str, date | None]]:
    return [(e.kind, e.date) for e in extract(email(text, **kw), context()).events]


KITCHEN = ProjectRef(
    id=3, name="Kitchen renovation", client_name="Hendersonfamily", client_email="sarah@hendersonfamily.co.uk"
)
LOBBY = ProjectRef(id=5, name="Acme HQ lobby redesign", client_name="Acmecorp", client_email="jmoore@acmecorp.com")


def test_a_reply_goes_to_its_threads_project() -> None:
    thread = [ThreadEmail(message_id="<root@x>", subject="Kitchen", project_id=3)]

    result = extract(email("Sounds good.", subject="Re: anything"), context(projects=[KITCHEN, LOBBY], thread=thread))

    assert (result.project.action, result.project.project_id) == ("existing", 3)


def test_the_same_normalised_subject_matches_a_project() -> None:
    lobby = ProjectRef(id=5, name="Lobby", recent_subjects=["Acme HQ lobby redesign - kickoff"])

    result = extract(
        email("Noted.", subject="RE: AW: [EXT] Acme HQ lobby redesign - kickoff", from_address="x@other.example"),
        context(projects=[KITCHEN, lobby]),
    )

    assert result.project.project_id == 5


def test_a_known_clients_new_thread_on_their_projects_words_joins_it() -> None:
    result = extract(
        email("Tiles chosen for the lobby.", subject="Lobby tiles", from_address="accounts@acmecorp.com"),
        context(projects=[KITCHEN, LOBBY]),
    )

    assert (result.project.project_id, result.project.confidence >= 0.6) == (5, True)


def test_a_known_clients_thread_on_a_subject_none_of_their_projects_has_asks_a_person() -> None:
    result = extract(
        email("Tiles chosen.", subject="Something else entirely", from_address="accounts@acmecorp.com"),
        context(projects=[KITCHEN, LOBBY]),
    )

    assert result.project.confidence < 0.6
    assert {c.project_id for c in result.project.candidates} == {None, 5}


def test_a_known_client_announcing_a_new_project_gets_a_new_one() -> None:
    result = extract(
        email(
            "We'd like you to design our Chicago office.",
            subject="New project: Chicago office fit-out",
            from_address="jmoore@acmecorp.com",
        ),
        context(projects=[LOBBY]),
    )

    assert (result.project.action, result.project.name, result.project.client_email) == (
        "new",
        "Chicago office fit-out",
        "jmoore@acmecorp.com",
    )


def test_a_new_project_is_named_from_the_subject_and_the_clients_domain() -> None:
    result = extract(
        email(
            "Hello, we'd like a quote.",
            subject="Re: Büroumbau Leipzig – Angebot",
            from_address="a.schmidt@mueller-bau.de",
            from_name="Anna",
        ),
        context(),
    )

    assert (result.project.name, result.project.client_name) == ("Büroumbau Leipzig", "Mueller Bau")


def test_a_private_client_on_a_mail_provider_is_named_after_the_person() -> None:
    result = extract(
        email(
            "Hello!", subject="Loft conversion enquiry", from_address="priya.patel@outlook.com", from_name="Priya Patel"
        ),
        context(),
    )

    assert (result.project.name, result.project.client_name) == ("Priya Patel – Loft conversion", "Priya Patel")


def test_staff_talking_about_a_project_by_its_clients_name_reach_that_project() -> None:
    result = extract(
        email(
            "I've ordered the tiles for the Henderson kitchen.",
            subject="Tile order",
            from_address="maya@brightline.studio",
            to=["tom@brightline.studio"],
            cc=[],
        ),
        context(projects=[LOBBY, KITCHEN]),
    )

    assert result.project.project_id == 3


def test_internal_chatter_belongs_to_no_project() -> None:
    result = extract(
        email(
            "Team lunch this Friday at 12:30.",
            subject="Friday lunch",
            from_address="tom@brightline.studio",
            to=["maya@brightline.studio"],
            cc=[],
        ),
        context(projects=[KITCHEN, LOBBY]),
    )

    assert result.project.action == "none"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("The site visit is on Thursday 26 November at 2pm.", [("meeting", date(2026, 11, 26))]),
        ("Please send the signed contract by Friday.", [("deadline", date(2026, 11, 27))]),
        ("The deposit of £2,500 has been paid today.", [("payment", date(2026, 11, 24))]),
        ("We've decided to go with the oak worktops.", [("decision", date(2026, 11, 24))]),
        ("The cabinets are delivered on 8 December.", [("milestone", date(2026, 12, 8))]),
        ("The project is on hold until the permit arrives.", [("status_change", date(2026, 11, 24))]),
        ("I'll send the revised drawings tomorrow.", [("action_item", date(2026, 11, 25))]),
        (
            "Delivery on 8 December and installation is finished by 18 December.",
            [("milestone", date(2026, 12, 8)), ("milestone", date(2026, 12, 18))],
        ),
        ("Please send the lighting spec by 5pm on Friday.", [("deadline", date(2026, 11, 27))]),
        ("Agenda for Monday, December 7th at 3:00 PM EST:", [("meeting", date(2026, 12, 7))]),
        ("We're pausing the project until January.", [("status_change", date(2026, 11, 24))]),
        ("The client approved the layout on Friday's call.", [("decision", date(2026, 11, 20))]),
        ("The board approved the quote yesterday.", [("decision", date(2026, 11, 23))]),
        ("After that she's out until 4 January.", []),
        ("Thanks for hosting the workshop today.", []),
        (
            "deposit sent by e-transfer today ($14,200). see you friday",
            [("payment", date(2026, 11, 24)), ("meeting", date(2026, 11, 27))],
        ),
        ("Rain delay, we lost Thurs and Fri. Now finishing Monday the 30th.", [("milestone", date(2026, 11, 30))]),
        ("Passed inspection this morning.", [("milestone", date(2026, 11, 24))]),
        ("The board voted to award us the balcony contract.", [("status_change", date(2026, 11, 24))]),
        ("50% deposit due before we mobilize.", [("payment", None)]),
        ("Merci de nous envoyer le devis d'ici vendredi.", [("deadline", date(2026, 11, 27))]),
        ("Necesitamos los planos antes del viernes.", [("deadline", date(2026, 11, 27))]),
        ("Il pagamento di 3.000 € sarà effettuato entro il 30 novembre.", [("payment", date(2026, 11, 30))]),
        ("Das Angebot schicke ich Ihnen bis Mittwoch, 2.12.", [("deadline", date(2026, 12, 2))]),
        ("Das Angebot passt, wir erteilen Ihnen den Auftrag.", [("decision", date(2026, 11, 24))]),
        (
            "As agreed: data extract by 1/12, workshop in Leeds on 14/1.",
            [("deadline", date(2026, 12, 1)), ("meeting", date(2027, 1, 14))],
        ),
        ("Scope confirmed: all 14 sites.", [("decision", date(2026, 11, 24))]),
        ("Attached is the countersigned SOW.", [("status_change", date(2026, 11, 24))]),
        ("We would like the final report by the end of February.", [("deadline", date(2027, 2, 28))]),
        ("Our offices are closed from 24 December to 2 January.", []),
        ("Can you book the camera for the recording on Thursday?", [("action_item", date(2026, 11, 26))]),
        ("Please find our proposal attached.", []),
        ("Questions are due by 5:00 p.m. on November 20.", [("deadline", date(2026, 11, 20))]),
        ("The design review is moved to Tuesday 1/12 at 4pm.", [("meeting", date(2026, 12, 1))]),
        ("Can we push our design review from Thursday to next Tuesday?", [("meeting", date(2026, 12, 1))]),
        ("The building permit was approved this morning.", [("milestone", date(2026, 11, 24))]),
        ("Harbor & Pine Architects has been selected for the annex.", [("status_change", date(2026, 11, 24))]),
        ("Notes from today's pre-proposal meeting are attached.", []),
        ("Can you pull the fee proposal together by 1/12?", [("deadline", date(2026, 12, 1))]),
        ("How about Tuesday 1st at 7pm at our Dublin office?", [("meeting", date(2026, 12, 1))]),
        ("We'd love to go with the Gold package.", [("decision", date(2026, 11, 24))]),
        ("We'd like to view both venues. Could we do Thursday 26 November?", [("meeting", date(2026, 11, 26))]),
        ("Thanks for the call today.", []),
        ("Are you free on Monday or Tuesday?", []),
    ],
)
def test_it_finds_each_kind_of_event(text: str, expected: list[tuple[str, date]]) -> None:
    assert events_of(text) == expected


def test_a_payment_carries_its_amount_and_currency() -> None:
    [payment] = extract(email("Die Anzahlung in Höhe von 15.000,00 EUR wurde heute überwiesen."), context()).events

    assert (payment.kind, payment.amount, payment.currency) == ("payment", Decimal("15000.00"), "EUR")


def test_events_keep_their_sentence_as_evidence_and_their_time() -> None:
    [meeting] = extract(
        email("Hi Tom,\n\nThe site visit is on Thursday\n26 November at 2pm.\n\nSarah"), context()
    ).events

    assert meeting.evidence == "The site visit is on Thursday 26 November at 2pm."
    assert meeting.time is not None and meeting.time.hour == 14


@pytest.mark.parametrize(
    "text,sender,expected",
    [
        ("Meeting next Friday at 10am.", "a@client.co.uk", date(2026, 12, 4)),
        ("Drawings due EOD tomorrow.", "a@client.co.uk", date(2026, 11, 25)),
        ("Invoice due on the 21st.", "a@client.co.uk", date(2026, 12, 21)),
        ("Site meeting on 3/10 at 9am.", "a@client.co.uk", date(2027, 10, 3)),
        ("Site meeting on 3/10 at 9am.", "a@client.de", date(2027, 10, 3)),
        ("Site meeting on 3/10 at 9am.", "a@client.com", date(2027, 3, 10)),
    ],
)
def test_it_resolves_every_date_form_in_the_senders_convention(text: str, sender: str, expected: date) -> None:
    mail = email(text, from_address=sender, date=datetime(2026, 11, 24, 9, 30, tzinfo=timezone(timedelta(hours=-5))))
    assert [e.date for e in extract(mail, context()).events] == [expected]


def test_quoted_text_and_signatures_yield_no_events() -> None:
    text = (
        "Sounds good, thanks.\n\nBest,\nSarah\n--\nSarah Henderson\nMeeting room booked until 31 December\n\n"
        "On Mon, 23 Nov 2026 at 10:00, Tom wrote:\n> The site visit is on Friday at 3pm.\n> Invoice due 1 December."
    )

    assert events_of(text) == []


@pytest.mark.parametrize(
    "kw",
    [
        {"subject": "Automatic reply: Kitchen", "headers": [("Auto-Submitted", "auto-replied")]},
        {"subject": "Out of Office: Kitchen renovation"},
        {"subject": "Winter sale", "headers": [("List-Unsubscribe", "<mailto:u@x>")]},
        {"subject": "Weekly digest", "headers": [("Precedence", "bulk")]},
        {"from_address": "noreply@service.example"},
        {"from_address": "notifications@calendly.com"},
        {"from_address": "quickbooks@notification.intuit.com"},
    ],
)
def test_auto_replies_and_newsletters_yield_nothing(kw: dict[str, Any]) -> None:
    result = extract(email("I am away. Meeting on Friday 27 November at 10am.", **kw), context(projects=[KITCHEN]))

    assert result.events == [] and result.project.action == "none"


def test_a_forward_is_read_as_the_original_message_with_its_own_date() -> None:
    text = (
        "For the timeline.\n\n---------- Forwarded message ---------\n"
        "From: Catherine Evans <c.evans@harbourlane-library.org.uk>\nDate: Fri, 20 Nov 2026 at 16:02\n"
        "Subject: Reading room refurbishment\nTo: Tom <tom@brightline.studio>\n\n"
        "Dear Tom,\n\nThe tender deadline is tomorrow at noon.\n\nYours sincerely,\nCatherine"
    )
    result = extract(
        email(
            text,
            subject="Fwd: Reading room refurbishment",
            from_address="tom@brightline.studio",
            to=["brightline@in.projectr.example"],
            cc=[],
        ),
        context(),
    )

    assert (result.project.action, result.project.client_email) == ("new", "c.evans@harbourlane-library.org.uk")
    assert [(e.kind, e.date) for e in result.events] == [("deadline", date(2026, 11, 21))]


def test_a_move_refers_to_the_earlier_event() -> None:
    earlier = EventRef(
        id=9, kind="milestone", title="Cabinets are delivered on 8 December", date=date(2026, 12, 8), project_id=3
    )
    thread = [ThreadEmail(message_id="<root@x>", subject="Kitchen", project_id=3)]

    [event] = extract(
        email("Done – the cabinet delivery is moved to Thursday 10 December."),
        context(projects=[KITCHEN], thread=thread, recent_events=[earlier]),
    ).events

    assert (event.kind, event.date, event.updates_event_id, event.update_action) == (
        "milestone",
        date(2026, 12, 10),
        9,
        "reschedule",
    )


def test_a_cancellation_refers_to_the_earlier_event() -> None:
    earlier = EventRef(id=4, kind="meeting", title="Final walkthrough", date=date(2026, 12, 17), project_id=3)
    thread = [ThreadEmail(message_id="<root@x>", subject="Kitchen", project_id=3)]

    [event] = extract(
        email("We'll have to cancel the walkthrough on the 17th."),
        context(projects=[KITCHEN], thread=thread, recent_events=[earlier]),
    ).events

    assert (event.updates_event_id, event.update_action, event.date) == (4, "cancel", date(2026, 12, 17))


@pytest.mark.parametrize(
    "sentence",
    [
        "Het overleg van donderdag mag daarom vervallen.",  # Dutch: "may lapse"
        "Das Treffen am Donnerstag fällt aus.",
        "Mötet på torsdag ställs in.",
        "La réunion de jeudi n'aura pas lieu.",
    ],
)
def test_a_cancellation_is_read_in_the_languages_of_the_mail(sentence: str) -> None:
    earlier = EventRef(id=4, kind="meeting", title="Overleg", date=date(2026, 11, 26), project_id=3)
    thread = [ThreadEmail(message_id="<root@x>", subject="Kitchen", project_id=3)]

    events = extract(email(sentence), context(projects=[KITCHEN], thread=thread, recent_events=[earlier])).events

    assert [(e.updates_event_id, e.update_action) for e in events] == [(4, "cancel")]


def test_the_writers_own_undated_word_is_no_action_item_but_a_request_is() -> None:
    assert events_of("I'll be your implementation lead for the move, and Raj looks after the data.") == []
    assert events_of("We'll block the books from 12 til 3 so everyone can come.") == []
    assert events_of("Please send the logo files when you can.") == [("action_item", None)]
    assert events_of("I'll send the drawings on Friday 27 November.") != []


def test_the_week_of_a_date_is_no_meeting_on_that_day() -> None:
    found = events_of("Sophie is here the week of the 30th, so she'll run the training on Tuesday 1 December at 10am.")

    assert found == [("meeting", date(2026, 12, 1))]


def test_it_records_a_zero_cost_usage_row() -> None:
    [usage] = extract(email("Hello"), context()).usage

    assert (usage.provider, usage.cost_usd) == ("rules", Decimal("0"))


def test_it_never_returns_more_than_25_events() -> None:
    text = (
        "\n".join(f"- Delivery {i} on {i} December." for i in range(1, 31))
        + "\n"
        + "\n".join(f"- Meeting {i} on {i} January at 10am." for i in range(1, 31))
    )

    assert len(extract(email(text), context()).events) == 25


def test_a_domain_named_like_the_organization_is_ours() -> None:
    mail = email(
        "Schedule attached.",
        subject="Henderson kitchen – schedule",
        from_address="tom@brightline-studio.com",
        to=["sarah@hendersonfamily.co.uk"],
        cc=[],
    )

    result = extract(mail, Context(organization_name="Brightline Studio"))

    assert result.project.client_email == "sarah@hendersonfamily.co.uk"


def test_a_slip_refers_to_the_earlier_event() -> None:
    launch = EventRef(id=1, kind="milestone", title="Website launch", date=date(2026, 12, 7), project_id=3)

    [event] = extract(
        email("Heads-up: the launch is pushed back a week, to 14 December."),
        context(projects=[KITCHEN], recent_events=[launch]),
    ).events

    assert (event.date, event.updates_event_id, event.update_action) == (date(2026, 12, 14), 1, "reschedule")


@pytest.mark.parametrize(
    "subject,sender,expected",
    [
        ("Re: Henderson kitchen – installation schedule", "sarah@hendersonfamily.co.uk", "Henderson kitchen"),
        (
            "Oakridge Dental – surgery refurbishment",
            "liam@oakridgedental.com.au",
            "Oakridge Dental surgery refurbishment",
        ),
        ("Projet Café Lumière – rénovation", "julien@cafe-lumiere.fr", "Café Lumière"),
        ("Fwd: Quote request", "x@acme.example", "Acme project"),
    ],
)
def test_new_projects_get_names_a_person_would_use(subject: str, sender: str, expected: str) -> None:
    result = extract(email("Hello.", subject=subject, from_address=sender), context())

    assert result.project.name == expected


def test_a_generic_subject_does_not_join_another_clients_project() -> None:
    invoices = ProjectRef(id=8, name="Loft conversion", client_email="priya@outlook.com", recent_subjects=["Invoice"])

    result = extract(
        email("Invoice attached.", subject="Re: Invoice", from_address="bob@newclient.example"),
        context(projects=[invoices]),
    )

    assert result.project.action == "new"


def test_a_dated_line_that_names_nothing_takes_the_subjects_kind() -> None:
    assert events_of("Thursday works for us.", subject="Site visit") == [("meeting", date(2026, 11, 26))]
    assert events_of("Thanks for today.", subject="Site visit") == []


@pytest.mark.parametrize(
    "text,amount,currency",
    [
        ("Invoice for $4,200 attached.", Decimal("4200"), "USD"),
        ("Invoice for €12.5k attached.", Decimal("12500.0"), "EUR"),
        ("Rechnung über 1.234,56 € anbei.", Decimal("1234.56"), "EUR"),
        ("Invoice: GBP 950 due on Friday.", Decimal("950"), "GBP"),
    ],
)
def test_it_reads_amounts_in_their_local_format(text: str, amount: Decimal, currency: str) -> None:
    [payment] = extract(email(text), context()).events

    assert (payment.amount, payment.currency) == (amount, currency)


def test_list_items_take_the_kind_of_their_heading() -> None:
    text = (
        "Recap below.\n\nDecisions:\n- We'll build on Shopify Plus.\n- Launch target: 1 March 2027.\n\n"
        "Action items:\n- Mike to send brand assets by Friday.\n- The final design is due 15 December.\n"
        "- Weekly status call every Tuesday at 10am."
    )

    assert events_of(text) == [
        ("decision", date(2026, 11, 24)),
        ("milestone", date(2027, 3, 1)),
        ("action_item", date(2026, 11, 27)),
        ("deadline", date(2026, 12, 15)),
        ("meeting", date(2026, 12, 1)),
    ]


def test_the_party_the_subject_names_is_the_client_when_our_domains_are_unknown() -> None:
    mail = email(
        "Recap below.",
        subject="Harvest Foods website – kickoff recap",
        from_address="hannah@copperleaf.io",
        to=["Mike <mike@harvestfoods.com>"],
        cc=[],
    )

    result = extract(mail, Context())

    assert result.project.client_email == "mike@harvestfoods.com"


def test_a_first_name_in_a_company_address_does_not_pull_mail_into_that_project() -> None:
    staff_as_client = ProjectRef(
        id=1, name="Harvest Foods website", client_name="Copperleaf", client_email="hannah@copperleaf.io"
    )

    result = extract(
        email(
            "Hi Hannah, the board approved your quote.",
            subject="Northpeak app – quote approved",
            from_address="erin@northpeak.co.uk",
        ),
        Context(projects=[staff_as_client]),
    )

    assert result.project.action == "new"


def test_mail_among_one_company_domain_is_internal_even_when_the_domain_is_unknown() -> None:
    roof = ProjectRef(id=1, name="Roof replacement 88 King St", client_email="brian@kowalskiproperties.com")

    result = extract(
        email(
            "Guys - King St roof starts Mon 7am sharp.",
            subject="crew schedule",
            from_address="dave@summitbuild.ca",
            to=["crew@summitbuild.ca"],
            cc=["summit@in.projectr.example"],
        ),
        Context(projects=[roof]),
    )

    assert result.project.project_id == 1


def test_two_statements_joined_by_and_give_two_events() -> None:
    assert events_of("We've signed the contract and the deposit has been paid.") == [
        ("status_change", date(2026, 11, 24)),
        ("payment", date(2026, 11, 24)),
    ]
    assert events_of("We decided to go with oak and the install is on 8 December.") == [
        ("decision", date(2026, 11, 24)),
        ("milestone", date(2026, 12, 8)),
    ]
    assert events_of("Please send the drawings and the invoice.") == [("action_item", None)]


def test_a_street_address_from_a_projects_subjects_files_the_email_there() -> None:
    deck = ProjectRef(id=4, name="Backyard makeover", recent_subjects=["DA lodgement - 14 Ocean View Rd (Nguyen deck)"])

    result = extract(
        email(
            "Application for 14 Ocean View Rd was approved on 11 December 2026.",
            subject="Notice of determination",
            from_address="planning@council.example",
        ),
        context(projects=[KITCHEN, deck]),
    )

    assert result.project.project_id == 4
    assert [(e.kind, e.date) for e in result.events] == [("milestone", date(2026, 12, 11))]


def test_a_request_with_a_clock_time_is_a_meeting() -> None:
    assert events_of("Can you do a site measure Wed 2/12 in the afternoon, say 3pm?") == [
        ("meeting", date(2026, 12, 2))
    ]


def test_portuguese_mail_yields_its_events() -> None:
    text = (
        "A reunião será na próxima segunda-feira às 10h. Precisamos do orçamento até o dia 4 de dezembro. "
        "Decidimos seguir com a opção B. O sinal de R$ 5.000 foi pago hoje."
    )
    events = extract(email(text, from_address="x@cliente.com.br"), context()).events

    assert [(e.kind, e.date) for e in events] == [
        ("meeting", date(2026, 11, 30)),
        ("deadline", date(2026, 12, 4)),
        ("decision", date(2026, 11, 24)),
        ("payment", date(2026, 11, 24)),
    ]
    assert (events[-1].amount, events[-1].currency) == (Decimal("5000"), "BRL")


def test_a_client_writing_only_to_our_inbound_address_is_still_the_client() -> None:
    mail = email(
        "The site meeting is on 20 November 2026 at 10:00.",
        subject="Harbour refit",
        from_address="pm@client.test",
        to=["testorg@in.projectr.example"],
        cc=[],
    )

    result = extract(mail, Context())

    assert (result.project.action, result.project.client_email) == ("new", "pm@client.test")


TRAINING = EventRef(id=41, kind="meeting", title="Staff training", date=date(2026, 12, 10), project_id=3)
SITE_VISIT = EventRef(id=42, kind="meeting", title="Site visit", date=date(2026, 12, 11), project_id=3)


def moved(text: str, *events: EventRef) -> list[tuple[int | None, str, date | None]]:
    result = extract(
        email(text, in_reply_to="<earlier@x>"),
        context(projects=[KITCHEN], thread=[ThreadEmail("<earlier@x>", "", 3)], recent_events=list(events)),
    )
    return [(e.updates_event_id, e.update_action, e.date) for e in result.events if e.update_action]


def test_can_we_do_another_day_instead_moves_the_event_the_sentence_before_names() -> None:
    text = "Thursday is a problem for the training, sorry. Could we do Wednesday 16 December at 12:30 instead?"

    assert moved(text, TRAINING, SITE_VISIT) == [(41, "reschedule", date(2026, 12, 16))]


def test_the_sentence_after_a_move_can_name_the_day_it_leaves() -> None:
    text = "One thing: can we do it on Wednesday 16 December instead? Friday the 11th is our big bake day, sorry."

    assert moved(text, TRAINING, SITE_VISIT) == [(42, "reschedule", date(2026, 12, 16))]


def test_instead_moves_the_threads_only_plan_when_no_word_names_it() -> None:
    assert moved("Can we do Monday 14 December instead?", TRAINING) == [(41, "reschedule", date(2026, 12, 14))]


def test_a_swedish_reply_that_moves_a_meeting_moves_it() -> None:
    text = "Kan vi ta utbildningen måndag 14 december istället?"

    assert moved(text, TRAINING) == [(41, "reschedule", date(2026, 12, 14))]


DEPOSIT = EventRef(id=51, kind="payment", title="Invoice 2026-118 due", date=date(2026, 12, 4), project_id=3)


def test_a_payment_reported_paid_settles_the_open_one_instead_of_adding_a_second() -> None:
    assert moved("Invoice 2026-118 was paid this morning.", DEPOSIT, TRAINING) == [(51, "paid", TUESDAY.date())]


def test_a_swedish_paid_report_settles_the_threads_only_payment() -> None:
    assert moved("Fakturan är nu betald.", DEPOSIT) == [(51, "paid", TUESDAY.date())]


def test_the_client_of_a_2026_project_writing_about_2027_is_asked_about_a_new_project() -> None:
    grant = ProjectRef(id=8, name="Fundação Atlântica – Oceano Vivo 2026 grant", client_email="ana@fundacao.example")

    result = extract(
        email(
            "Attached the call.", subject="Oceano Vivo 2027 – call for proposals", from_address="ana@fundacao.example"
        ),
        context(projects=[grant]),
    )

    assert (result.project.action, result.project.confidence < 0.6) == ("new", True)
    assert {c.project_id for c in result.project.candidates} == {None, 8}


def test_a_compound_shares_its_head_word_with_the_project() -> None:
    lease = ProjectRef(id=9, name="Gouden Korst – huurcontract verlenging", client_email="jan@goudenkorst.example")

    result = extract(
        email("Bijgaand de nota.", subject="Voorschotnota huurverlenging", from_address="jan@goudenkorst.example"),
        context(projects=[lease]),
    )

    assert (result.project.project_id, result.project.confidence >= 0.6) == (9, True)


def test_our_own_people_naming_a_project_word_in_passing_are_not_filed_there() -> None:
    app = ProjectRef(id=10, name="Wattle member app", client_email="po@wattle.example")

    result = extract(
        email(
            "I'd like to take leave 21 Dec to 8 Jan; the member app release is covered.",
            subject="Leave request",
            from_address="maya@brightline.studio",
            to=["tom@brightline.studio"],
            cc=[],
        ),
        context(projects=[app]),
    )

    assert result.project.confidence < 0.6


def test_a_visit_that_happened_is_not_a_deadline() -> None:
    assert events_of("The bailiff came by on Friday with the summons.") == []


def test_a_farewell_that_names_a_day_is_the_meeting_not_a_deadline() -> None:
    assert events_of("Até amanhã, Tiago") == [("meeting", TUESDAY.date() + timedelta(days=1))]


def test_an_invoices_date_line_and_terms_line_make_one_payment() -> None:
    text = "Invoice date: 2 November 2026. Amount: $4,200.00.\nTerms: Net 30 days from invoice date."

    assert events_of(text, subject="Invoice INV-77") == [("payment", date(2026, 12, 2))]


def test_an_invoice_subject_does_not_make_a_site_update_a_payment() -> None:
    kinds = {kind for kind, _ in events_of("The temporary laundry opens on Friday 27/11.", subject="Faktura 2026-118")}

    assert "payment" not in kinds


def test_instructions_that_come_with_a_meeting_are_not_tasks() -> None:
    assert events_of("Please have your catering questions ready.") == []
    assert events_of("If you have any questions about this invoice please reply to this email.") == []


@pytest.mark.parametrize(
    "text",
    [
        "Als ik het goed begrijp loopt de oppositietermijn af op 4 december.",
        "Van Dijk & Meijer to provide the draft Disclosure Letter: Friday 4 December",
        "Rebecca will circulate the funds flow memo on Friday 4 December.",
        "Journalist RSVPs close on Friday 4 December.",
        "Tiago, vocês conseguem me mandar as fotos até sexta (4/12)?",
    ],
)
def test_what_runs_out_or_is_delivered_on_a_day_is_a_deadline(text: str) -> None:
    assert events_of(text) == [("deadline", date(2026, 12, 4))]


def test_a_compound_inspection_with_a_time_is_a_meeting() -> None:
    assert events_of("Vi föreslår förbesiktning onsdag 2 december kl 10.00 på plats.") == [
        ("meeting", date(2026, 12, 2))
    ]
