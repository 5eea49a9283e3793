"""Short titles for timeline events, as a person would write them, from the sentence an event came from.

"Can we move the shot-list meeting to Thursday at 3pm instead?" is the evidence; the title is
"Shot-list meeting". The sentence itself stays on the event (`evidence`); the title is what the
timeline, the digest and the calendar feed show, so it names the event and nothing else.

How a title is built (`event_title`), in every language the engine reads:

1. The sentence is cleaned: links and addresses, greetings and openers ("Hi Sam,", "Just a reminder
   that", "Wie besprochen,"), labels ("Action item:"), a vocative ("Marcus, could you …"),
   politeness ("please", "bitte", "s'il vous plaît", "instead"), and dates and clock times — found
   by extraction.dates, the finder that dates the events, plus the Nordic and clock forms it does
   not read — with the words that led into them ("on", "by", "am", "avant le", "entro il", "på").
2. The kind's builder looks for the event's phrase:
   - meeting: an event noun (meeting, call, site visit, kickoff, workshop, hearing, Besprechung,
     réunion, sopralluogo, befaring …) with up to two modifiers before it ("shot-list meeting") and
     a place or person after it ("at the bakery", "with the architect");
   - deadline: what is due ("The revised budget is due …", "send us the signed contract by …",
     "the deadline for comments …" → "Revised budget due", "Signed contract due", "Comments due"),
     or, in other languages, the deadline noun with its object ("Frist for tilbakemelding på skissene");
   - milestone: a milestone noun (handover, launch, go-live, delivery, completion, Übergabe,
     livraison, oplevering …) with its "of …" object, or an object and what happens to it
     ("The cabinets are delivered …" → "Cabinets delivered");
   - payment: the payment noun with its number ("Invoice 2", "Rechnung Nr. 3"), its state (due,
     paid, received, sent; other languages keep their own word) and the amount as written
     ("Invoice 2 due — €4,500");
   - decision: the object and what became of it ("We'll go with the oak flooring" → "Oak flooring
     chosen", "The board approved the budget" → "Budget approved", "Nous avons choisi le parquet" →
     "Choix : parquet"), or a decision noun ("Board sign-off");
   - status change: the object and its new state ("Project on hold", "Contract signed");
   - action item: the task as a short imperative ("Can you send me the logo files by Friday?" →
     "Send the logo files"; "Kannst du die Fotos hochladen?" → "Fotos hochladen").
3. When no builder finds a phrase, a fallback that works in any language splits the sentence into
   clauses (punctuation and words such as "because", "damit", "parce que", "så att") and takes the
   shortest informative one, one naming the kind (a lexicon word) first.
4. The title is capitalised and cut at a word to at most 60 characters (a payment's amount is always
   kept); if nothing is left, it is named after its kind ("Meeting"). Japanese, written without
   spaces, has its own short path: dates out, the clause with the kind's noun cut after it.

Why word lists and regular expressions rather than a parser: a title needs the event's noun, the
noun phrase around it, an amount and what to drop, which a small lexicon finds. A parser such as
spaCy or Stanza would add a model of tens to hundreds of megabytes per language (eleven of them,
Japanese with its own tokenizer) and seconds of start-up to a provider that must stay offline,
deterministic and quick, and its parses of one-line, half-grammatical email sentences ("Invoice 2 –
€4,500 due Friday") are least reliable exactly where a title needs them. Dates reuse the kept
extraction.dates (regular expressions and dateparser), so a title never repeats what the event's
date and time already say.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from extraction.dates import TIME, WEEKDAY_RE, find_dates

MAX_TITLE = 60

KIND_LABELS = {
    "meeting": "Meeting",
    "deadline": "Deadline",
    "milestone": "Milestone",
    "decision": "Decision",
    "action_item": "To do",
    "payment": "Payment",
    "status_change": "Status change",
}

# Any date will do as the base: only where the date phrases are is used, not what they mean.
_BASE = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
_GAP = "\x00"  # where a date or a time was


def _rx(words: Iterable[str], *, heads: Iterable[str] = ()) -> re.Pattern[str]:
    """Whole words (\\w boundaries, so "recall" is not "call"), and compound heads for the languages
    that write compounds as one word ("Baubesprechung", "Schlussrechnung", "byggemøde")."""
    parts = [r"(?<![\w-])(?:" + "|".join(sorted(words, key=len, reverse=True)) + r")(?!\w)"]
    head_list = sorted(heads, key=len, reverse=True)
    if head_list:
        parts.append(r"(?<![\w-])[\w-]*(?:" + "|".join(head_list) + r")(?!\w)")
    return re.compile("|".join(parts), re.IGNORECASE)


# -- Lexicons: the nouns that name an event, by kind ---------------------------------------------

MEETING_NOUNS = _rx(
    [
        # English
        r"meetings?", r"calls?", r"phone calls?", r"video calls?", r"zoom(?: call)?", r"teams call",
        r"kick[- ]?offs?", r"kick[- ]?off meetings?", r"catch[- ]?ups?", r"check[- ]?ins?", r"site visits?",
        r"site meetings?", r"site walks?", r"walk[- ]?throughs?", r"workshops?", r"demos?", r"presentations?",
        r"interviews?", r"review sessions?", r"reviews?", r"visits?", r"inspections?", r"tastings?", r"fittings?",
        r"viewings?", r"rehearsals?", r"appointments?", r"hearings?", r"consultations?", r"briefings?",
        r"debriefs?", r"stand-?ups?", r"syncs?", r"sessions?", r"webinars?", r"lunch", r"dinner", r"coffee",
        r"surveys?", r"measure-?ups?", r"site measures?", r"readouts?", r"retros?", r"retrospectives?", r"mediation",
        r"conferences?", r"trial", r"shoots?", r"photo ?shoots?", r"open house", r"part(?:y|ies)",
        r"launch party", r"drinks", r"celebration", r"open day", r"training", r"tour",
        # German
        r"termine?", r"besprechung(?:en)?", r"treffen", r"sitzung(?:en)?", r"telefonat", r"anruf",
        r"besichtigung", r"ortstermin", r"videokonferenz", r"vor-ort-termin", r"begehung", r"verhandlung",
        r"jour fixe", r"abstimmung", r"schulung",
        # French
        r"réunions?", r"reunions?", r"rendez-vous", r"rdv", r"visites?", r"appels?", r"ateliers?",
        r"entretiens?", r"audiences?", r"dégustation", r"visio(?:conférence)?", r"formation",
        # Spanish, Italian, Portuguese
        r"reuniones", r"reunión", r"llamadas?", r"visitas?", r"talleres", r"taller", r"citas?", r"juicio",
        r"riunioni", r"riunione", r"chiamata", r"incontri", r"incontro", r"sopralluoghi", r"sopralluogo",
        r"udienza", r"appuntamento", r"degustazione", r"reuniões", r"reunião", r"reuniao", r"chamada",
        r"audiência", r"ligação",
        # Dutch
        r"vergaderingen", r"vergadering", r"overleg", r"afspraak", r"bezoek", r"gesprek", r"zitting",
        r"kennismaking",
        # Swedish, Norwegian, Danish
        r"möte(?:t)?", r"møte(?:t)?", r"møde(?:t)?", r"samtal(?:et)?", r"samtale(?:n)?", r"besök(?:et)?",
        r"besøk(?:et)?", r"besøg(?:et)?", r"befaring(?:en)?", r"opkald(?:et)?", r"genomgång(?:en)?",
        r"gjennomgang(?:en)?", r"gennemgang(?:en)?", r"workshop(?:pen|en)?", r"besigtigelse(?:n)?",
        r"visning(?:en)?",
    ],
    heads=[r"besprechung", r"termin", r"sitzung", r"treffen", r"vergadering", r"overleg", r"möte", r"møte",
           r"møde", r"mötet", r"møtet", r"mødet", r"besök", r"besøk", r"besøg"],
)  # fmt: skip

DEADLINE_NOUNS = _rx(
    [
        r"deadlines?", r"cut-?off", r"due date", r"frist(?:en)?", r"abgabe(?:termin)?", r"einreichung",
        r"date limite", r"échéance", r"remise", r"rendu", r"plazo", r"fecha límite", r"fecha limite",
        r"vencimiento", r"scadenza", r"termine", r"consegna", r"prazo", r"data limite", r"uiterste datum",
        r"inleverdatum", r"inlevering", r"sista dag(?:en)?", r"tidsfrist(?:en)?", r"innlevering(?:en)?",
        r"svarsfrist(?:en)?", r"indlevering(?:en)?",
    ],
    heads=[r"frist", r"fristen", r"abgabe", r"deadline"],
)  # fmt: skip

MILESTONE_NOUNS = _rx(
    [
        r"hand-?overs?", r"hand-?offs?", r"launch(?:es)?", r"soft launch", r"go-?live", r"go live",
        r"deliver(?:y|ies)", r"completion", r"practical completion", r"installation", r"install",
        r"grand opening", r"opening", r"move-?in", r"start of works", r"start on site", r"project start",
        r"topping out", r"first fix", r"second fix", r"commissioning", r"release", r"publication", r"premiere",
        r"print run", r"go-ahead",
        r"übergabe", r"abnahme", r"lieferung", r"montage", r"fertigstellung", r"eröffnung", r"baubeginn",
        r"richtfest", r"einzug", r"livegang", r"inbetriebnahme", r"veröffentlichung",
        r"livraison", r"réception", r"lancement", r"mise en ligne", r"mise en service", r"ouverture",
        r"inauguration", r"pose", r"démarrage", r"début des travaux",
        r"entrega", r"lanzamiento", r"inauguración", r"instalación", r"apertura", r"inicio de obra",
        r"puesta en marcha", r"finalización", r"lancio", r"inaugurazione", r"installazione", r"collaudo",
        r"inizio lavori", r"messa online", r"posa", r"lançamento", r"inauguração", r"instalação", r"abertura",
        r"início da obra", r"conclusão",
        r"oplevering", r"lancering(?:en)?", r"levering(?:en)?", r"installatie", r"ingebruikname",
        r"leverans(?:en)?", r"lansering(?:en)?", r"överlämning(?:en)?", r"driftstart", r"invigning(?:en)?",
        r"byggstart", r"slutbesiktning(?:en)?", r"overlevering(?:en)?", r"installasjon(?:en)?", r"åpning(?:en)?",
        r"öppning(?:en)?", r"oppstart(?:en)?", r"ferdigstillelse", r"idriftsettelse", r"aflevering(?:en)?",
        r"åbning(?:en)?", r"opstart(?:en)?", r"ibrugtagning",
    ],
    heads=[r"übergabe", r"abnahme", r"lieferung", r"montage", r"oplevering", r"levering", r"leverans",
           r"lansering", r"lancering"],
)  # fmt: skip

PAYMENT_NOUNS = _rx(
    [
        r"invoices?", r"final invoice", r"deposit", r"down ?payment", r"payments?", r"final payment",
        r"instal+ments?", r"balance", r"retainer", r"fees?", r"remittance", r"advance", r"transfer",
        r"rechnung(?:en)?", r"schlussrechnung", r"abschlagsrechnung", r"teilrechnung", r"anzahlung",
        r"zahlung(?:en)?", r"restzahlung", r"rate", r"vorschuss", r"honorar",
        r"facture", r"factures", r"acompte", r"paiement", r"versement", r"solde", r"règlement", r"virement",
        r"factura", r"facturas", r"anticipo", r"pago", r"pagos", r"abono", r"saldo", r"cuota", r"transferencia",
        r"señal", r"fattura", r"fatture", r"acconto", r"pagamento", r"rata", r"bonifico",
        r"fatura", r"faturas", r"sinal", r"parcela", r"prestação", r"adiantamento", r"transferência",
        r"factuur", r"facturen", r"aanbetaling", r"betaling", r"termijn", r"voorschot", r"restbedrag",
        r"overboeking", r"faktura(?:n|en|er)?", r"handpenning(?:en)?", r"betalning(?:en)?",
        r"delbetalning(?:en)?", r"slutbetalning(?:en)?", r"förskott(?:et)?", r"forskudd(?:et)?",
        r"betaling(?:en)?", r"delbetaling(?:en)?", r"sluttbetaling(?:en)?", r"depositum(?:et)?",
        r"innbetaling(?:en)?", r"acontobetaling(?:en)?", r"forudbetaling(?:en)?", r"restbeløb(?:et)?",
    ],
    heads=[r"rechnung", r"zahlung", r"faktura", r"fakturaen", r"fakturan", r"factuur", r"betaling", r"betalning"],
)  # fmt: skip

DECISION_NOUNS = _rx(
    [
        r"sign-?off", r"approval", r"go-ahead", r"green light", r"decision", r"freigabe", r"entscheidung",
        r"beschluss", r"zusage", r"validation", r"décision", r"aprobación", r"decisión", r"approvazione",
        r"decisione", r"goedkeuring", r"besluit", r"beslut(?:et)?", r"godkännande(?:t)?", r"godkjenning(?:en)?",
        r"beslutning(?:en)?", r"vedtak(?:et)?", r"godkendelse(?:n)?", r"aprovação", r"decisão",
    ],
)  # fmt: skip

STATUS_NOUNS = _rx(
    [
        r"on hold", r"paused", r"resumed", r"back on track", r"behind schedule", r"running late", r"delayed",
        r"pausiert", r"gestoppt", r"en pause", r"suspendu", r"en espera", r"pausado", r"in pausa", r"sospeso",
        r"gepauzeerd", r"pausad", r"pausat", r"satt på vent", r"på vent", r"sat i bero", r"på is",
    ],
)  # fmt: skip

KIND_NOUNS: dict[str, re.Pattern[str]] = {
    "meeting": MEETING_NOUNS,
    "deadline": DEADLINE_NOUNS,
    "milestone": MILESTONE_NOUNS,
    "payment": PAYMENT_NOUNS,
    "decision": DECISION_NOUNS,
    "status_change": STATUS_NOUNS,
}
# A noun that only qualifies another one: "meeting room", "payment details", "call notes".
NOT_THE_EVENT = re.compile(
    r"\s+(?:rooms?|notes|minutes|invites?|invitations?|links?|agenda|requests?|slots?|details|address|terms|"
    r"portal|template|summary|recap|reminders?)\b",
    re.IGNORECASE,
)

# -- Word classes --------------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    return set(text.split())


# Determiners and possessives: dropped at the start of a title's noun phrase.
DETERMINERS = _words(
    """
    the a an our your their my his her its this that these those some any all both each every
    der die das den dem des ein eine einen einem einer eines unser unsere unseren unserem unserer
    ihr ihre ihren ihrem euer eure le la les un une notre nos votre vos leur leurs ce cet cette ces
    el los las una uno unos unas nuestro nuestra nuestros nuestras su sus este esta estos estas il lo
    gli i nostro nostra nostri nostre vostro vostra de het een onze uw jullie deze dit den det ett
    vår våra vårt er ert ei vores jeres deres o os as um uma nosso nossa nossos nossas seu l' un'
    """
)
# Copulas and adverbs that may stand between a subject and its state ("ist ab sofort pausiert").
BETWEEN = _words(
    """
    is are was were be been will would ist sind war wird werden wurde est sont sera seront es son será
    está están è sono sarà é são er är blir bliver wordt zijn was now currently also still finally
    officially temporarily ab sofort derzeit aktuell vorerst nun jetzt vorübergehend maintenant
    désormais ahora ora adesso nu nå nu midlertidig midlertidigt tillfälligt tijdelijk agora já
    """
)
# Function words of the supported languages, and the commonest verbs: a modifier, a noun phrase
# or a clause's content stops at them.
FUNCTION_WORDS = (
    DETERMINERS
    | BETWEEN
    | _words(
        """
        to of for on in at by with from into onto about as than then so and or but if when while because
        before after until till since be being am shall should can could may might must do does did done
        have has had having we i you he she it they me us him them who whom which what where how why there
        here not no yes just also only still already again instead please kindly let let's lets get got
        make made need needs want wants like i'll we'll you'll we're i'm it's that's there's we've i've
        you've we'd i'd you'd it'll can't won't don't doesn't isn't aren't wasn't weren't haven't hasn't
        next last coming upcoming following go going goes went see move moved moving push pushed
        schedule scheduled reschedule rescheduled book booked set arrange arranged hold held plan planned
        confirm confirmed suggest suggested propose proposed attend join organise organize organised
        organized put fix shift shifted postpone postponed bring come came meet host expect expected hope
        try keep kept around approx up out attached enclosed sent issued received paid
        listed due take targeting looking forward forecast happens occurs
        ta har ha hade holde hålla avholde gjennomføre planlegge booke boka hacer fare doen houden machen
        avoir faire tenir tener ter fazer haben halten fica ficar staat gepland prévue prévu prévues
        prévus prevista previsto findet statt står planlagt planerad planerat geplant vorgesehen voorzien
        sker skjer satt sat gebeurt passiert erfolgt ocorre acontece avviene ocurre
        zu zum zur am im um bis von vom mit bei für auf an aus nach vor über und oder aber wenn weil dass
        hat haben kann können könnten sollen sollten müssen wir ich sie er es du bitte noch schon auch
        nur nicht kein keine dann also dieser diesen dieses nächste nächsten kommenden gerne gern ab
        à avec pour par sur dans en chez et ou mais si que qui ont nous je vous il elle ils on pas ne
        plus merci svp prochain prochaine del al con para por sobre y pero ha han hemos nosotros yo
        usted ustedes próximo próxima da alla dei delle degli di e ma se che hanno abbiamo noi io lei
        questo questa prossimo prossima van voor op met bij aan te tot maar als dat heeft hebben wij
        ik jij je ze ons volgende graag och eller men om att var vi jag ni hon han med till av från hos
        nästa denna detta dessa og jeg dere hun fra neste denne dette disse næste dos das no na nas
        ao com em mas foi temos nós eu você vocês d' dell' dall' all' nell' sull' qu'
        """
    )
)
# Words that may join the parts of a noun phrase ("statement of defence", "Frist für die Stellungnahme").
LINKS = _words(
    "of for on de du des della dello del di da do das dos van der für zur zum av af för til på para pour per "
    "voor d' dell' dall' degli delle dei"
)
# What may not end a title ("Meeting at", "Facture de", "… is").
TRAILING_WORDS = (
    DETERMINERS
    | LINKS
    | BETWEEN
    | _words(
        """
        to at by on in with from and or but so if as than und oder et ou y o e en och og med till på i à a
        al alla zu zum zur am im um bis avec para por per op met bij fra av af then before until dann puis
        luego poi dan sedan deretter derefter depois que
        """
    )
)
# Prepositions that lead a meeting's place or person ("at the bakery", "with the architect").
PLACE_PREPS = _words("at with in bei mit im chez avec con presso met bij med hos com na no em")
PRONOUNS = _words(
    """
    it this that them they these those everything something anything all one you us me him her
    es das sie ihn ça cela le la lo esto eso esso questo dat het det den dette detta isso isto
    """
)
# Words that say nothing on their own ("Tuesday works", "Sounds good").
EMPTY = _words(
    "works work suits fine good ok okay great perfect sounds thanks sure agenda update note notes reminder info "
    "question questions fyi subject"
)

# -- Dates and times out -------------------------------------------------------------------------

PREPS_BEFORE_DATE = (
    r"on|at|by|for|from|to|until|till|before|after|around|about|between|and|or|next|this|the|of|"
    r"starting|no later than|latest by|as of|du|au|le|la|les|à|a|avant|jusqu'au|jusqu'à|dès|"
    r"am|um|bis|bis zum|bis spätestens|spätestens|zum|zur|vom|von|ab|vor|den|dem|der|el|los|las|para|"
    r"antes del|antes de|del|de|hasta el|hasta|desde|entro il|entro|il|lo|dal|al|alle|op|om|voor|tot|"
    r"vanaf|uiterlijk|på|innan|före|till|senast|fra|til|innen|senest|inden|em|no|na|até|ao|às|das|"
    r"o dia|no dia|el día|le jour|am tag|kl\.?|klockan|klokken|klokka|ca\.|circa|d'ici|d’ici|pour le"
)
_LEAD_INTO_GAP = re.compile(rf"(?<![\w-])(?:(?:{PREPS_BEFORE_DATE})\s+)+{_GAP}", re.IGNORECASE)
_AFTER_GAP = re.compile(
    rf"{_GAP}(?:['’]s\b|\s*(?:at the latest|at the earliest|latest|onwards|or so|instead|morning|afternoon|"
    rf"evening|spätestens|au plus tard|como muy tarde|al più tardi|uiterlijk|senast|senest)\b)",
    re.IGNORECASE,
)
NORDIC_MONTHS = (
    r"januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december|januar|"
    r"februar|mai|august|desember|marts|maart|jan|feb|mar|apr|jun|jul|aug|sep|sept|okt|nov|des|dec"
)
NORDIC_WEEKDAYS = (
    r"måndag|tisdag|onsdag|torsdag|fredag|lördag|söndag|mandag|tirsdag|lørdag|søndag|maandag|dinsdag|"
    r"woensdag|donderdag|vrijdag|zaterdag|zondag"
)
EXTRA_DATES = re.compile(
    rf"\b\d{{1,2}}\.?\s*(?:{NORDIC_MONTHS})\b\.?(?:\s+\d{{4}})?"
    rf"|\b(?:{NORDIC_WEEKDAYS})(?:en)?\b(?:\s+(?:den\s+)?\d{{1,2}}\.?(?:\s*(?:{NORDIC_MONTHS})\b)?)?"
    rf"|(?<!\w)(?:{WEEKDAY_RE})(?!\w)\.?"
    r"|\b(?:uke|uge|vecka|week|woche|kw|semaine|semana|settimana)\.?\s*\d{1,2}\b"
    r"|\b(?:i\s+morgen|imorgon|i\s+dag|idag|i\s+övermorgon|nästa\s+vecka|neste\s+uke|næste\s+uge|"
    r"denne\s+uken|den\s+här\s+veckan|denne\s+uge|i\s+eftermiddag|i\s+ettermiddag|i\s+formiddag|"
    r"volgende\s+week|deze\s+week|nächste\s+woche|diese\s+woche|la\s+semaine\s+prochaine|cette\s+semaine|"
    r"la\s+próxima\s+semana|esta\s+semana|la\s+settimana\s+prossima|la\s+prossima\s+settimana|"
    r"questa\s+settimana|próxima\s+semana|semana\s+que\s+vem|this\s+week|later\s+today|ab\s+sofort|"
    r"asap|as\s+soon\s+as\s+possible|so\s+bald\s+wie\s+möglich|dès\s+que\s+possible|lo\s+antes\s+posible|"
    r"il\s+prima\s+possibile|zo\s+snel\s+mogelijk|så\s+snart\s+som\s+möjligt|så\s+snart\s+som\s+mulig)\b"
    r"|\b(?:at|um|à|a\s+las|alle|om|kl\.?|klockan|klokka|klokken|às|ore)\s*\d{1,2}(?:[:.]\d{2})?(?:\s*(?:uhr|h|uur))?\b"
    r"|\b\d{1,2}[:.]\d{2}\s*[-–—]\s*\d{1,2}[:.]\d{2}\b"
    r"|\b\d{1,2}\s*[-–—]\s*\d{1,2}\s*(?:am|pm|uhr|h)\b",
    re.IGNORECASE,
)
MONEY = re.compile(
    r"(?:R\$|US\$|A\$|C\$|[$€£¥￥]|\b(?:USD|EUR|GBP|CHF|CAD|AUD|SEK|NOK|DKK|BRL|MXN|JPY|kr\.?)\s?)\s?\d[\d,.' \u00a0]*\d(?:\s?[kK]\b)?"
    r"|(?:R\$|US\$|A\$|C\$|[$€£¥￥])\s?\d"
    r"|\b\d(?:[\d,.' \u00a0]*\d)?(?:\s?[kK])?\s?(?:€|\b(?:USD|EUR|GBP|CHF|CAD|AUD|SEK|NOK|DKK|JPY|kr|kroner|kronor|euros?|Euro|dollars?|pounds?)\b)"
    r"|\d[\d,]*(?:万)?円",
    re.IGNORECASE,
)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _without_dates(text: str) -> str:
    """Dates and clock times out, with the words that led into them ("on", "by", "am", "avant le")."""
    spans = [(m.start, m.end) for m in find_dates(text, _BASE, day_first=True)]
    spans += [m.span() for m in TIME.finditer(text)]
    spans += [m.span() for m in EXTRA_DATES.finditer(text)]
    money = [m.span() for m in MONEY.finditer(text)]
    spans = [s for s in spans if not any(a < s[1] and s[0] < b for a, b in money)]
    for start, end in reversed(_merged(spans)):
        text = text[:start] + _GAP + text[end:]
    joined = rf"{_GAP}(?:[\s,]*(?:[-–—/]|at|um|à|a las|alle|om|kl\.?|and|und|et|y|e|og|och|en|to|bis|au)?\s*{_GAP})+"
    text = re.sub(joined, _GAP, text, flags=re.IGNORECASE)
    # "approved the layout on Friday's call": a time, not the thing approved.
    text = re.sub(
        rf"(?<!\w)(?:on|at|in|during|after|before|since|by|from)\s+(?:the\s+)?{_GAP}['’]s\s+(?:{MEETING_NOUNS.pattern})",
        _GAP,
        text,
        flags=re.IGNORECASE,
    )
    for _ in range(3):
        text = _AFTER_GAP.sub(_GAP, text)
        text = _LEAD_INTO_GAP.sub(_GAP, text)
    text = re.sub(rf"[(\[]\s*{_GAP}\s*[)\]]", " ", text)
    # "… die Vereinbarung bis Freitag, 12.03., zurück": the clause goes on after the date.
    text = re.sub(rf"{_GAP}\.?,\s*(?=[a-zäöüéèàòùåæø])", f"{_GAP} ", text)
    text = text.replace(_GAP, " ")
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    return re.sub(r"\s+", " ", text).strip(" ,;:–—-")


# -- Cleaning ------------------------------------------------------------------------------------

LINK_OR_ADDRESS = re.compile(r"https?://\S+|www\.\S+|[\w.+-]+@[\w-]+\.[\w.-]+", re.IGNORECASE)
GREETING = re.compile(
    r"^(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|hallo|hej|hei|moin|servus|liebe[rs]?|"
    r"sehr geehrte[rs]?|guten (?:morgen|tag)|bonjour|bonsoir|salut|cher|chère|hola|buenos días|buenas|"
    r"estimad[oa]s?|querid[oa]s?|ciao|buongiorno|gentile|car[oa]|beste|goedemorgen|goedemiddag|"
    r"olá|oi|prezad[oa]|god morgen|goddag|kære)\b[^,!:\n]{0,40}[,!:]\s*",
    re.IGNORECASE,
)
OPENERS = re.compile(
    r"^(?:so|also|and|but|then|well|plus|next|finally|lastly|additionally|in addition|btw|by the way|fyi|"
    r"heads[- ]up|as discussed|as agreed(?: on the call)?|as promised|as mentioned|as requested|"
    r"following (?:up on )?our (?:call|meeting|conversation)|"
    r"just a (?:quick )?(?:note|reminder|heads[- ]up)(?: that)?|quick (?:note|update|reminder)|"
    r"a (?:quick |friendly )?reminder(?: that)?|reminder|update|note|important|good news|great news|"
    r"unfortunately|sorry|hopefully|firstly|secondly|action items?|action|to-?do|next steps?|milestone|"
    r"decision|status|wie besprochen|wie vereinbart|außerdem|zudem|übrigens|zur info|kurze info|"
    r"erinnerung|hinweis|aufgabe|entscheidung|leider|comme convenu|comme discuté|pour info|pour rappel|"
    r"rappel|par ailleurs|malheureusement|décision|como acordamos|como hablamos|por cierto|recordatorio|"
    r"lamentablemente|tarea|decisión|come concordato|come d'accordo|promemoria|inoltre|purtroppo|"
    r"decisione|zoals besproken|zoals afgesproken|ter herinnering|verder|helaas|besluit|actie|som avtalt|"
    r"som aftalt|som överenskommet|som vi snakket om|påminnelse|påmindelse|tyvärr|dessverre|desværre|"
    r"beslut|beslutning|vedtak|uppgift|oppgave|opgave|conforme combinado|como combinado|lembrete|"
    r"além disso|infelizmente|decisão|tarefa)\b[,:!.—–-]*\s+",
    re.IGNORECASE,
)
# "As discussed on the phone earlier today, could you …": the lead-in up to its comma.
AS_DISCUSSED = re.compile(
    r"^(?:as (?:discussed|agreed|mentioned|promised|requested)|following (?:up on )?our (?:call|meeting|chat)|"
    r"wie (?:besprochen|vereinbart)|comme (?:convenu|discuté)|como (?:acordamos|hablamos|combinado)|"
    r"come (?:concordato|d'accordo)|zoals (?:besproken|afgesproken)|som (?:avtalt|aftalt|överenskommet))"
    r"\b[^,.;:!?]{0,60}[,:]\s*",
    re.IGNORECASE,
)
THANKS = re.compile(
    r"^(?:ok(?:ay)?|great|perfect|thanks|thank you|many thanks|cheers|sure|yes|noted|got it|sounds good|"
    r"danke|vielen dank|perfekt|super|prima|merci|parfait|d'accord|gracias|perfecto|vale|grazie|perfetto|"
    r"bedankt|dank je|tack|takk|tak|bra|flott|fint|obrigad[oa]|ótimo|perfeito|certo)\b[^,.!:\n]{0,40}[,.!:—–-]+\s*",
    re.IGNORECASE,
)
VOCATIVE = re.compile(
    r"^[A-ZÄÖÜÅÆØÉ][\w'’-]+(?:\s[A-ZÄÖÜÅÆØÉ][\w'’-]+)?,\s+(?=(?:can|could|would|will|please|pls|just|do|did|"
    r"kannst|könnten|können|pourriez|pouvez|peux|puedes|podrías|podrias|potresti|puoi|kun je|kunt u|"
    r"kan du|kan ni|kan dere|kan i|podes|pode|você|bitte|merci|por favor|per favore)\b)",
)
POLITENESS = re.compile(
    r"(?<!\w)(?:please|pls|kindly|bitte|s'il vous plaît|s'il te plaît|svp|por favor|per favore|"
    r"alsjeblieft|alstublieft|vänligen|snälla|vennligst|venligst|gerne|instead|again|stattdessen|"
    r"plutôt|en su lugar|invece|in plaats daarvan|i stället|i stedet|em vez disso|if possible|"
    r"if that works(?: for you)?|if you can|wenn möglich|si possible|si es posible|se possibile|"
    r"indien mogelijk|om möjligt|om mulig|hvis muligt|se possível)(?!\w)[,!]?",
    re.IGNORECASE,
)


def _clean(sentence: str) -> str:
    text = LINK_OR_ADDRESS.sub(" ", sentence)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"^[-*•·–—¿¡]+\s*", "", text)
    for _ in range(4):
        before = text
        text = GREETING.sub("", text)
        text = AS_DISCUSSED.sub("", text)
        if THANKS.sub("", text).strip():
            text = THANKS.sub("", text)
        text = OPENERS.sub("", text)
        text = VOCATIVE.sub("", text)
        text = re.sub(r"^[-*•·–—¿¡]+\s*", "", text)
        if text == before:
            break
    text = _without_dates(text)
    text = POLITENESS.sub("", text)
    text = re.sub(r"[¿¡]", "", text)
    return re.sub(r"\s+", " ", text).strip(" ,")


# -- Noun phrases --------------------------------------------------------------------------------

# Words, with elided articles apart ("l'étage", "dell'impianto") and English contractions whole.
_TOKEN = re.compile(
    r"(?:[lLdDjJnNcCsS]|[Qq]u|[Dd]ell|[Dd]all|[Nn]ell|[Aa]ll|[Ss]ull|[Uu]n)['’](?=\w)"
    r"|[^\W_](?:[\w&/+.-]*\w)?(?:['’](?:s|ll|d|re|ve|m|t)\b)?|\S"
)


def _tokens(text: str) -> list[re.Match[str]]:
    return list(_TOKEN.finditer(text))


def _lower(token: re.Match[str] | str) -> str:
    word = token if isinstance(token, str) else token.group()
    return word.lower().replace("’", "'")


def _is_word(token: str) -> bool:
    return bool(re.match(r"[^\W_]", token))


def _is_function(token: str) -> bool:
    return _lower(token) in FUNCTION_WORDS


def _is_content(token: str) -> bool:
    return _is_word(token) and not _is_function(token)


def _token_at(tokens: list[re.Match[str]], position: int) -> int:
    for i, token in enumerate(tokens):
        if position < token.end():
            return i
    return len(tokens)


def _phrase(
    text: str, tokens: list[re.Match[str]], index: int, *, limit: int = 4, links: bool = True, keep_det: bool = False
) -> tuple[str, int]:
    """The noun phrase from tokens[index]: leading determiners dropped (unless keep_det), then content
    words until a function word or punctuation, at most `limit` of them; "of"/"für"/"de"… may join a
    second part ("statement of defence"). Returns the phrase and the index after it."""
    i = index
    while i < len(tokens) and _lower(tokens[i]) in DETERMINERS:
        i += 1
    first = i
    words = 0
    end = i
    while i < len(tokens) and words < limit:
        if _is_content(tokens[i].group()):
            words += 1
            i += 1
            end = i
            continue
        if links and _lower(tokens[i]) in LINKS and end > first:
            j = i + 1
            while j < len(tokens) and _lower(tokens[j]) in DETERMINERS:
                j += 1
            if j < len(tokens) and _is_content(tokens[j].group()):
                i = j
                continue
        break
    if end <= first:
        return "", index
    phrase = text[tokens[index if keep_det else first].start() : tokens[end - 1].end()]
    return ("", index) if _lower(phrase) in PRONOUNS else (phrase, end)


def _object_after(text: str, position: int, *, limit: int = 4, keep_det: bool = False) -> str:
    tokens = _tokens(text)
    return _phrase(text, tokens, _token_at(tokens, position), limit=limit, keep_det=keep_det)[0]


def _np_before(text: str, position: int, *, limit: int = 6) -> str:
    """The noun phrase that ends at `position`: "Just so you know the revised budget| is due" → "revised
    budget". Copulas and adverbs just before it are skipped ("Das Projekt ist ab sofort| pausiert")."""
    head = text[:position].rstrip()
    head = re.split(
        r"[,;:!?()]|\s[–—-]\s|(?<!\w)(?:that|dass|que|che|dat|att|which|and|und|et|y|och|og|e)\s", head, flags=re.I
    )[-1]
    tokens = _tokens(head)
    i = len(tokens)
    while i > 0 and _lower(tokens[i - 1]) in BETWEEN:
        i -= 1
    last = i
    while i > 0 and last - i < limit:
        word = tokens[i - 1].group()
        if _is_content(word) or _lower(word) in LINKS or _lower(word) in DETERMINERS or word in {"#", "&"}:
            i -= 1
            continue
        break
    kept = tokens[i:last]
    while kept and (_lower(kept[0]) in DETERMINERS or _lower(kept[0]) in LINKS):
        kept = kept[1:]
    if not kept or not any(_is_content(t.group()) for t in kept):
        return ""
    phrase = head[kept[0].start() : kept[-1].end()]
    return "" if _lower(phrase) in PRONOUNS else phrase


def _noun_phrase(text: str, pattern: re.Pattern[str], *, places: bool = False, links: bool = True) -> str:
    """The first lexicon noun (one that is not just qualifying another, like "meeting room") with up
    to two modifiers before it, its number ("Invoice 2"), and its "of …" object or, for a meeting,
    its place or person ("at the bakery", "with Anna")."""
    match = next((m for m in pattern.finditer(text) if not NOT_THE_EVENT.match(text, m.end())), None)
    if match is None:
        return ""
    tokens = _tokens(text)
    noun = _token_at(tokens, match.start())
    last = _token_at(tokens, match.end() - 1)
    start = noun
    while start > 0 and noun - start < 2 and _is_content(tokens[start - 1].group()):
        if tokens[start - 1].group().isdigit() or re.search(r"['’](?:ll|d|re|ve)$", tokens[start - 1].group()):
            break
        start -= 1
    if start == noun and start > 1 and tokens[start - 1].group() == "%" and tokens[start - 2].group().isdigit():
        start -= 2  # "50% deposit"
    end = last + 1
    rest = text[tokens[last].end() :]
    number = re.match(r"\s*(?:(?:no\.|nr\.?|n[°º]|#)\s*)?[A-Z]{0,4}-?\d+[\w/-]*", rest, re.IGNORECASE)
    if number and not MONEY.match(rest.lstrip()) and not re.match(r"\s*\d+\s*(?:%|days?|weeks?|months?)", rest):
        end = _token_at(tokens, tokens[last].end() + number.end() - 1) + 1
    phrase_end = tokens[end - 1].end()
    if end + 1 < len(tokens):
        after, follow = _lower(tokens[end]), tokens[end + 1].group()
        if links and after in LINKS:
            obj, obj_end = _phrase(text, tokens, end + 1, limit=3, keep_det=True)
            if obj:
                phrase_end = tokens[obj_end - 1].end()
        elif (
            places
            and after in PLACE_PREPS
            and (_lower(follow) in DETERMINERS or (follow[:1].isupper() and _lower(follow) not in PRONOUNS))
        ):
            obj, obj_end = _phrase(text, tokens, end + 1, limit=2, keep_det=True, links=False)
            if obj:
                phrase_end = tokens[obj_end - 1].end()
    return _strip_determiners(text[tokens[start].start() : phrase_end])


def _strip_determiners(phrase: str) -> str:
    tokens = _tokens(phrase)
    i = 0
    while i < len(tokens) - 1 and _lower(tokens[i]) in DETERMINERS:
        i += 1
    return phrase[tokens[i].start() :] if tokens else ""


COPULA = re.compile(
    r"\s(?:is|are|was|will be|ist|sind|wird|est|sont|sera|es|son|será|è|sono|sarà|é|são|er|är|blir|bliver|wordt|zijn)(?:\s|$)",
    re.IGNORECASE,
)


def _clause_from(text: str, position: int) -> str:
    """From `position` to the end of its clause, or to its verb ("Fristen for innlevering | er …")."""
    rest = CLAUSE_SPLIT.split(text[position:], maxsplit=1)[0]
    rest = TRAILING.split(rest, maxsplit=1)[0]
    return COPULA.split(rest, maxsplit=1)[0]


# -- Builders, one per kind ----------------------------------------------------------------------

MEET_VERB = re.compile(r"(?<!\w)(?:meet|meet up|see you|come (?:by|round|over|in)|drop by|pop in)(?!\w)", re.I)


def _meeting(text: str) -> str:
    found = _noun_phrase(text, MEETING_NOUNS, places=True)
    if found:
        return found
    verb = MEET_VERB.search(text)
    if verb is None:
        # "How about Tuesday at our Dublin office?"
        place = re.search(
            r"(?<!\w)(at|in)\s+((?:our|your|the|their)\s+(?:[\w-]+\s+)?(?:office|studio|showroom|site|place|shop|store|"
            r"house|home|premises|workshop|factory|warehouse))\b",
            text,
            re.I,
        )
        return f"Meeting {place.group(1).lower()} {place.group(2)}" if place else ""
    place = re.match(r"\s+(?:up\s+)?(at|in|with)\s+", text[verb.end() :], re.I)
    if place:
        obj = _object_after(text, verb.end() + place.end(), limit=2, keep_det=True)
        if obj and (obj.split()[0].lower() in DETERMINERS or obj[:1].isupper()):
            return f"Meeting {place.group(1).lower()} {obj}"
    return "Meeting"


DEADLINE_LABEL = re.compile(r"^(?:deadlines?|due(?: date)?|cut-?off)\s*[:–—-]\s*", re.I)
DEADLINE_FOR = re.compile(r"(?<!\w)(?:deadlines?|due date|cut-?off)\s+(?:for|to|of|on)\s+", re.I)
DEADLINE_STATE = re.compile(r"\s+(closes|close|expires|expire|ends|runs out|lapses)\b", re.I)
DUE_AFTER_SUBJECT = re.compile(
    r"\s+(?:(?:is|are|was|were)\s+(?:now\s+|still\s+|also\s+)?due"
    r"|(?:is|are|will be|must be|should be|needs? to be|has to be|have to be|is to be|are to be|gets?|got)\s+"
    r"(?:now\s+|still\s+|also\s+)?(?:due|submitted|sent|delivered|ready|filed|returned|signed|done|finished|"
    r"completed|uploaded|handed in|in|back|lodged|served|received)"
    r"|(?:must|should|needs? to|has to|have to) be\s*$"
    r"|due)\b",
    re.I,
)
DELIVERABLE_VERBS = re.compile(
    r"(?<!\w)(?:send|send over|send through|send across|send back|submit|file|return|deliver|provide|share|upload|"
    r"finish|complete|finali[sz]e|prepare|write|draft|lodge|serve|hand in|turn in|get|have|see|need|receive|give|"
    r"would like|'d like|want|expect|require|await|"
    r"let (?:us|me) have|get back to (?:us|me) with|come back to (?:us|me) with)(?!\w)"
    r"(?:\s+(?:us|me|them|him|her|over|through|across|back|in|along|off|up))*\s+",
    re.I,
)
ACTION_VERBS = re.compile(
    r"(?<!\w)(confirm|approve|review|sign|choose|pick|decide on|decide|book|order|pay|register|rsvp|reply to|"
    r"respond to|comment on|check|select|agree on|sign off on|sign off)(?!\w)\s*",
    re.I,
)
ENGLISH_HINT = re.compile(
    r"(?<!\w)(?:the|is|are|was|will|be|has|have|been|of|we|you|please|by|our|your|to|for|with)(?!\w)", re.I
)


def _deadline(text: str) -> str:
    label = DEADLINE_LABEL.match(text)
    if label:
        rest = _strip_determiners(_clause_from(text, label.end()).strip(" .,"))
        if rest and _informative(rest):
            return f"{rest} due" if ENGLISH_HINT.search(rest) or len(rest.split()) <= 3 else rest
    deadline_for = DEADLINE_FOR.search(text)
    if deadline_for and (obj := _object_after(text, deadline_for.end())):
        return f"{obj} due"
    state = DEADLINE_STATE.search(text)
    if state and (subject := _np_before(text, state.start())):
        return f"{subject} {state.group(1).lower()}"
    due = DUE_AFTER_SUBJECT.search(text)
    if due and (subject := _np_before(text, due.start())) and not DEADLINE_NOUNS.fullmatch(subject):
        return f"{subject} due"
    verb = DELIVERABLE_VERBS.search(text)
    if verb and (obj := _object_after(text, verb.end())):
        return f"{obj} due"
    action = ACTION_VERBS.search(text)
    if action and (obj := _object_after(text, action.end(), keep_det=True)):
        return f"{action.group(1)} {obj}"
    noun = next((m for m in DEADLINE_NOUNS.finditer(text) if not NOT_THE_EVENT.match(text, m.end())), None)
    if noun is None:
        return ""
    if not ENGLISH_HINT.search(text):
        # "Fristen for innlevering av tilbudet er …": the deadline with all it says is for.
        clause = _tidy(_clause_from(text, noun.start()))
        if len(clause) <= 45 and len(clause.split()) > 1:
            return clause
    found = _noun_phrase(text, DEADLINE_NOUNS)
    return "" if re.fullmatch(r"(?:the\s+)?deadlines?", found, re.I) else found


MILESTONE_STATE = re.compile(
    r"\s+(?:(?:is|are|will be|should be|gets|get|has been|have been|was|were|to be|be)\s+(?:now\s+|finally\s+|also\s+)?"
    r"(?P<done>live|delivered|installed|launched|completed|complete|finished|handed over|ready|published|printed|"
    r"approved|granted|issued|passed|signed|received|confirmed|submitted|accepted|"
    r"released|done|shipped|geliefert|montiert|fertig|übergeben|eröffnet|livrée?s?|installée?s?|terminée?s?|"
    r"entregad[oa]s?|terminad[oa]s?|instalad[oa]s?|consegnat[oa]|installat[oa]|completat[oa]|geleverd|"
    r"opgeleverd|klaar|levererad|levererat|levert|leveret|klar|ferdig|færdig|entregue|concluíd[oa]))\b"
    r"|\s+(?P<now>goes live|go live|going live|opens|open|starts|begins|begin|arrives|arrive|ships)\b"
    r"|\s+(?P<last>delivered|installed|launched|completed|complete|finished|handed over|ready|live|done)\s*$",
    re.I,
)
MILESTONE_VERBS = {
    "launch": "Launch", "deliver": "Delivery", "install": "Installation", "hand over": "Handover",
    "complete": "Completion", "finish": "Completion", "open": "Opening", "start": "Start", "publish": "Publication",
    "release": "Release", "ship": "Shipping", "go live with": "Go-live",
}  # fmt: skip
STATE_NOUNS = {
    "goes live": "go-live", "go live": "go-live", "going live": "go-live", "opens": "opening", "open": "opening",
    "starts": "start", "begins": "start", "begin": "start", "arrives": "arrival", "arrive": "arrival",
    "ships": "shipping", "complete": "completed",
}  # fmt: skip
MILESTONE_VERB = re.compile(
    r"(?:'ll|(?<!\w)(?:will|shall|to|can|should|we|i|they))\s+"
    r"(launch|deliver|install|hand over|complete|finish|open|publish|release|ship|go live with)\s+(?!on\b|at\b|by\b)",
    re.I,
)


def _milestone(text: str) -> str:
    passed = re.match(r"(?:we(?:'ve| have)?\s+)?(passed|failed|reached|hit|completed|finished)\s+", text, re.I)
    if passed and (obj := _object_after(text, passed.end())):
        return f"{obj} {passed.group(1).lower()}"
    verb = MILESTONE_VERB.search(text)
    noun = MILESTONE_NOUNS.search(text)
    if verb and (noun is None or verb.start(1) <= noun.start()):
        obj = _object_after(text, verb.end(), keep_det=True)
        if obj and _strip_determiners(obj):
            return f"{MILESTONE_VERBS[verb.group(1).lower()]} of {obj}"
    if noun:
        found = _noun_phrase(text, MILESTONE_NOUNS)
        state = MILESTONE_STATE.match(text, noun.end())
        if found and (len(found.split()) > 1 or state is None or state.group("now") is None):
            return found
    state = MILESTONE_STATE.search(text)
    if state and (subject := _np_before(text, state.start())):
        word = (state.group("done") or state.group("now") or state.group("last")).lower()
        return f"{subject} {STATE_NOUNS.get(word, word)}"
    return _noun_phrase(text, MILESTONE_NOUNS) if noun else ""


PAYMENT_STATE = [
    ("due", re.compile(r"(?<!\w)(?:will be|is to be|are to be|to be|should be|must be|needs to be|has to be) (?:paid|transferred|settled|wired)(?!\w)", re.I)),
    ("paid", re.compile(r"(?<!\w)(?:paid|settled|transferred|wired|cleared|gone through|went through|went out|remitted)(?!\w)", re.I)),
    ("received", re.compile(r"(?<!\w)(?:received|arrived|came in|landed)(?!\w)", re.I)),
    ("due", re.compile(r"(?<!\w)(?:due|payable|outstanding|overdue|to pay|pay|will follow)(?!\w)", re.I)),
    ("sent", re.compile(r"(?<!\w)(?:sent|issued|attached|raised|enclosed)(?!\w)", re.I)),
]  # fmt: skip
# Other languages keep their own word, as written (an auxiliary before a participle is dropped).
PAYMENT_STATE_OTHER = re.compile(
    r"(?<!\w)(?:(?:wurde|ist|a été|est|ha sido|fue|è stato|è stata|werd|is|blev|ble|er|är|foi|har|hat|hemos|abbiamo|hebben)\s+)?"
    r"(ist zu zahlen|zu zahlen|fällig|bezahlt|überwiesen|eingegangen|erhalten|gestellt|versendet|verschickt|"
    r"à payer|à régler|payée?s?|réglée?s?|versée?s?|reçue?s?|envoyée?s?|a pagar|pagad[oa]s?|vence|vencida|"
    r"recibid[oa]|enviad[oa]|va pagat[oa]|da pagare|pagat[oa]|ricevut[oa]|scade|in scadenza|inviat[oa]|"
    r"te betalen|betaald|ontvangen|verstuurd|vervalt|ska betalas|betald|betalt|mottagen|mottatt|modtaget|"
    r"skal betales|förfaller|forfaller|forfalder|skickad|sendt|pag[oa]|recebid[oa]|vence|enviad[oa]|anbei|ci-jointe?|"
    r"adjunt[oa]|in allegato|allegat[oa]|bijgevoegd|bifogad|bifogat|vedlagt|em anexo|anex[oa])(?!\w)",
    re.I,
)


def _payment(text: str) -> str:
    body = re.sub(r"\s+", " ", re.sub(r"\(\s*\)", " ", MONEY.sub(" , ", text)))
    noun = _noun_phrase(body, PAYMENT_NOUNS)
    noun = re.sub(r"\s+(?:of|for|über|de|di|van|på|af|av|for)$", "", noun, flags=re.I)
    anchor = PAYMENT_NOUNS.search(text)
    after = text[anchor.end() :] if anchor else text
    english = ""
    for where in (after, text):
        english = next((name for name, pattern in PAYMENT_STATE if pattern.search(where)), "")
        if english:
            break
    other = PAYMENT_STATE_OTHER.search(after) or PAYMENT_STATE_OTHER.search(text)
    if len(noun) > 30:  # "Payment of the second instalment" → "Second instalment"
        head, *rest = re.split(r"\s(?:of|for|für|de|di|van|för|til|af|av|para|pour|per)\s", noun, maxsplit=1)
        noun = _strip_determiners(rest[0]) if rest and PAYMENT_NOUNS.search(rest[0]) else head
    if english and (ENGLISH_HINT.search(text) or other is None):
        state = english
        if state == "due" and re.search(r"(?<!\w)(?:sent|issued|attached)(?!\w)", text, re.I):
            state = "sent" if not re.search(r"(?<!\w)(?:due|payable)(?!\w)", text, re.I) else state
        if not noun:
            noun, state = ("Payment", state) if state != "paid" else ("Payment", "made")
    else:
        state = other.group(1).lower() if other else ""
    return " ".join(part for part in (noun, state) if part)


CHOICE = re.compile(
    r"(?<!\w)(?:(?:have |'ve )?decided (?:to )?(?:go with|use|choose|pick|keep|on)|(?:we|i)(?:'ll| will)? go with|"
    r"(?:let'?s|we'll|we will|we'd like to|we would like to|want to|going to)? ?(?:go|going|went) (?:with|for)|"
    r"opt(?:ed)? for|chose|chosen|choose|settled on|settle on|pick(?:ed)?|select(?:ed)?|stick with|sticking with|"
    r"let'?s (?:use|reuse|keep)|we(?:'ll| will) use|agreed (?:to use|on)|use)\s+",
    re.I,
)
GO_AHEAD = re.compile(
    r"(?<!\w)(?:(?:go|going|went) ahead with|proceed(?:ing)? with|mov(?:e|ing) forward with|green light (?:for|on)|"
    r"green-?lit|approved? (?:the )?go-ahead for)\s+",
    re.I,
)
# Other languages: the verb that chose and how the title says it. Germanic participles follow the
# object ("Variante B gewählt"); where a participle would have to agree, a noun leads ("Choix : …").
CHOICE_OTHER = [
    (re.compile(r"(?<!\w)(?:für|zugunsten)\s+(?P<obj>.+?)\s+(?:entschieden|beschlossen)(?!\w)", re.I), "{} gewählt"),
    (re.compile(r"(?<!\w)(?:entschieden|beschlossen),?\s+(?:für|uns für)\s+", re.I), "{} gewählt"),
    (re.compile(r"(?<!\w)(?:choisi|opté pour|retenu|décidé de prendre|décidé d'utiliser)\s+", re.I), "Choix : {}"),
    (re.compile(r"(?<!\w)(?:elegido|elegimos|optado por|optamos por|(?:decidimos |vamos a )?seguir con|decidimos usar(?= (?:el|la|los|las|un|una) )|nos quedamos con)\s+", re.I), "Elección: {}"),
    (re.compile(r"(?<!\w)(?:scelto|optato per|deciso di usare|andiamo con)\s+", re.I), "Scelta: {}"),
    (re.compile(r"(?<!\w)(?:escolhemos|escolhido|optamos por|optou por|decidimos usar|vamos com|(?:decidimos |vamos )?seguir com)\s+", re.I), "Escolha: {}"),
    (re.compile(r"(?<!\w)(?:gekozen voor|kiezen voor|kozen voor)\s+", re.I), "{} gekozen"),
    (re.compile(r"(?<!\w)(?:valt|väljer|bestämt oss för|kör på)\s+", re.I), "Val: {}"),
    (re.compile(r"(?<!\w)(?:valgt|velger|vælger|bestemt oss for|går for|går med)\s+", re.I), "{} valgt"),
]  # fmt: skip
DECIDED_VERB = re.compile(
    r"(?<!\w)(approved|approve|approves|signed off on|signed off|signs off on|signs off|accepted|accept|confirmed|"
    r"finali[sz]ed|rejected|declined|agreed on|godkjent|godkänt|godkänd|godkendt|approuvé|validé|aprobado|"
    r"aprovado|approvato|accepté|aceptado|accettato)\s+",
    re.I,
)
DECIDED_STATE = re.compile(
    r"\s+(?:(?:is|are|was|were|has been|have been|got|gets)\s+)?(?:now\s+|finally\s+)?"
    r"(approved|signed off|signed-off|confirmed|agreed|accepted|finali[sz]ed|chosen|selected|rejected|declined|"
    r"freigegeben|genehmigt|beschlossen|abgenommen|bestätigt|akzeptiert|validée?s?|approuvée?s?|aprobad[oa]s?|"
    r"approvat[oa]|goedgekeurd|godkänd|godkänt|godkjent|godkendt|aprovad[oa]s?|acceptée?s?|aceptad[oa]s?|"
    r"accettat[oa])\b",
    re.I,
)
PARTICIPLES = {
    "approve": "approved", "approves": "approved", "accept": "accepted", "signed off on": "signed off",
    "signs off on": "signed off", "signs off": "signed off", "agreed on": "agreed", "signed-off": "signed off",
}  # fmt: skip


def _words_after(text: str, position: int, limit: int = 5) -> str:
    """The rest of the clause after `position`, at most `limit` words ("le parquet en chêne")."""
    rest = _clause_from(text, position).strip(" .,;:!?")
    words = rest.split()[:limit]
    return _strip_determiners(_tidy(" ".join(words)))


def _decision(text: str) -> str:
    for pattern, outcome in ((GO_AHEAD, "approved"), (CHOICE, "chosen")):
        match = pattern.search(text)
        if match and (obj := _object_after(text, match.end())):
            return f"{obj} {outcome}"
    for pattern, form in CHOICE_OTHER:
        match = pattern.search(text)
        if match is None:
            continue
        obj = _strip_determiners(match.group("obj")) if "obj" in pattern.groupindex else _words_after(text, match.end())
        if obj and len(obj.split()) <= 5 and _lower(obj) not in PRONOUNS:
            return form.format(obj)
    # "The board approved the budget": the object, not who approved it.
    verb = DECIDED_VERB.search(text)
    if verb and (obj := _object_after(text, verb.end())):
        word = verb.group(1).lower()
        return f"{obj} {PARTICIPLES.get(word, word)}"
    agreed = re.search(r"(?<!\w)(?:decided|agreed) to\s+", text, re.I)
    if agreed and (rest := _action(text[agreed.end() :])):
        return f"Agreed to {rest[:1].lower()}{rest[1:]}"
    state = DECIDED_STATE.search(text)
    if state and (subject := _np_before(text, state.start())):
        word = state.group(1).lower()
        return f"{subject} {PARTICIPLES.get(word, word)}"
    found = _noun_phrase(text, DECISION_NOUNS)
    return "" if found.lower() in {"decision", "approval"} else found


STATUS_STATE = re.compile(
    r"\s+(?:(?:is|are|was|were|has been|have been|will be|goes|went|got|gets)\s+)?(?:now\s+|officially\s+|currently\s+)?"
    r"(on hold|paused|resumed|back on track|behind schedule|running late|delayed|closed|complete|completed|cancelled|"
    r"canceled|live|started|signed|counter-?signed|won|awarded|approved|kicked off|underway|under way|selected|chosen|"
    r"shortlisted|appointed)\b",
    re.I,
)
STATUS_VERB = re.compile(
    r"(?<!\w)(signed|counter-?signed|won|awarded|lost|paused|resumed|closed|completed|started|cancelled|canceled|"
    r"put|kicked off|pausing|pause|resuming|resume|closing|close|stopping|stop|cancelling|canceling|cancel|"
    r"award(?:ed)? (?:us|you)|award)\s+",
    re.I,
)
STATUS_WORDS = {
    "pausing": "paused", "pause": "paused", "resuming": "resumed", "resume": "resumed", "closing": "closed",
    "close": "closed", "stopping": "stopped", "stop": "stopped", "cancelling": "cancelled", "canceling": "cancelled",
    "cancel": "cancelled", "award us": "awarded", "awarded us": "awarded", "award you": "awarded",
    "awarded you": "awarded", "award": "awarded",
}  # fmt: skip


def _status_change(text: str) -> str:
    verb = STATUS_VERB.search(text)
    if verb:
        tokens = _tokens(text)
        obj, end = _phrase(text, tokens, _token_at(tokens, verb.end()))
        word = re.sub(r"\s+", " ", verb.group(1).lower())
        if word != "put" and obj:
            return f"{obj} {STATUS_WORDS.get(word, word)}"
        hold = re.match(r"\s*(on hold|on pause)", text[tokens[end - 1].end() :], re.I) if obj else None
        if hold:
            return f"{obj} {hold.group(1).lower()}"
    state = STATUS_STATE.search(text)
    if state:
        subject = _np_before(text, state.start()) or ("Project" if ENGLISH_HINT.search(text) else "")
        if subject:
            return f"{subject} {state.group(1).lower()}"
    noun = STATUS_NOUNS.search(text)
    if noun:
        subject = _np_before(text, noun.start())
        return f"{subject} {noun.group()}" if subject else noun.group()
    return ""


# Hedges and the subject and modal in front of what is asked or announced.
HEDGE = re.compile(
    r"^(?:(?:i|we) (?:just )?wanted to (?:let you know|confirm|check|say|mention)(?: that)?|"
    r"(?:i'm|i am|we're|we are) (?:writing|happy|pleased|glad) to (?:let you know|confirm|say|share)(?: that)?|"
    r"(?:i|we) (?:think|believe|guess|suppose|reckon|expect|hope|assume)(?: that)?|it (?:seems|looks like)(?: that)?|"
    r"(?:would|will|could|can) (?:it|that) be possible (?:for (?:you|us) )?to|is it possible (?:for (?:you|us) )?to|"
    r"(?:can|could|would|will|shall) (?:you|we|i|u)(?: (?:please|kindly|maybe|perhaps|also|still))?(?: be able to)?|"
    r"(?:would|do) you mind|are you able to|(?:it )?would be (?:great|good|helpful|ideal) if (?:you|we) could|"
    r"(?:i|we)(?:'d| would) (?:like|love|prefer) (?:to|you to|it if you could)|"
    r"(?:i|we) (?:want|need|have|plan|hope|aim|intend) to|(?:i|we) (?:need|want|would like|'d like)(?! to\b)|"
    r"(?:you|they) (?:need|have) to|(?:i|we) (?:still )?(?:must|should|can|could)|let'?s|let us|"
    r"(?:i|we|you|they)(?:'ll| will| shall)(?: (?:also|then|now|still|probably|likely))?|"
    r"(?:i|we)(?:'re| are| am|'m) (?:going|planning|hoping|aiming) to|"
    r"don'?t forget to|do not forget to|remember to|make sure (?:to|you)|be sure to|"
    r"[A-Z][a-z]+ (?:will|can|should|is going to|needs to|has to|to)|"
    r"(?:können|könnten|kannst|könntest) (?:sie|wir|du|ihr)(?: uns| mir)?|wir (?:möchten|würden gerne|werden|brauchen|benötigen)|"
    r"ich (?:denke|glaube|werde)|(?:pourriez|pouvez|pourrions|pouvons)-(?:vous|nous)|(?:pourriez|pouvez) vous|"
    r"merci de|je pense que|nous allons|nous avons besoin d[e']|"
    r"(?:podemos|podríamos|podrias|podrías|puedes|puede)|creo que|vamos a|necesitamos|"
    r"(?:possiamo|potremmo|potresti|puoi|può)|credo che|penso che|abbiamo bisogno di|"
    r"(?:kunnen|zullen) (?:we|wij)|(?:kun|kunt) (?:je|u|jij)|ik denk dat|we gaan|graag ontvangen (?:we|wij)|"
    r"(?:kan|kunne|skal|ska) (?:vi|du|ni|dere|i)|jeg tror|jag tror|vi skal|vi ska|vi behöver|vi trenger|"
    r"vi har brug for|(?:poderíamos|pode|podes|você pode)|acho que|precisamos d[eoa]s?|vamos|"
    r"(?:i|we)(?:'m| am|'re| are)(?=\s+\w+ing\b))(?!\w)[,]?\s*",
    re.IGNORECASE,
)
# Where a trailing clause begins: the title stops there.
TRAILING = re.compile(
    r"\s*(?:[;(]|\s[–—-]\s|,\s*(?:so|which|as|since|but|and|if|when|once|otherwise|because|unless|though|"
    r"although|damit|weil|da|wenn|falls|sodass|aber|afin|pour que|parce|si|car|mais|para que|porque|pero|"
    r"perché|così|se|ma|zodat|omdat|als|indien|maar|så|eftersom|om|fordi|hvis|slik|men|já que|mas)\b|"
    r"\s(?:so that|so we|so i|so you|because|unless|in case|in order to|to make sure|to ensure|and let me know|"
    r"and let us know|let me know|if you|if we|if that|once|as soon as|damit|weil|sodass|parce que|afin de|"
    r"pour que|porque|para que|perché|affinché|zodat|omdat|så att|eftersom|slik at|fordi|så vi|sådan at)\b)",
    re.IGNORECASE,
)
CLAUSE_SPLIT = re.compile(r"[,;:!?()\[\]]|\s[–—-]\s|\.\s|\s(?:but|aber|mais|pero|ma|maar|men|mas)\s", re.IGNORECASE)
TIME_PREPOSITION = re.compile(
    r"\s(?:by|before|until|no later than|bis|avant|antes de|entro|uiterlijk|innan|innen|inden|até)(?:\s|$)", re.I
)
# Other languages write a task as an infinitive at the end ("Pläne schicken") or after the
# object pronoun ("nous envoyer les plans" → "Envoyer les plans").
GERMAN_POLITE_IMPERATIVE = re.compile(r"^(\w+en)\s+(?:Sie|du|ihr)\s+(?:(?:uns|mir|bitte|noch|kurz)\s+)*(.+)$")
# "Das Angebot schicke ich Ihnen …": the object comes first, the title is the object.
GERMAN_TOPIC = re.compile(r"^(?:(?i:das|die|den|der|dem)\s+)?([A-ZÄÖÜ][\w-]+)\s+\w+e\s+(?:ich|wir)\b")
GERMAN_PARTICLE = re.compile(
    r"^(.+?)\s+(zurück|ab|an|auf|aus|ein|mit|vor|zu|durch|weiter|hoch|vorbei|nach|zusammen|fertig|frei)$"
)
OBJECT_PRONOUN_FIRST = re.compile(r"^(?:nous|me|m'|vous|nos|ci|mi|ons|mij|oss|mig|meg|nós|lhe)\s+(?=\w)", re.I)


def _action(text: str) -> str:
    """The task as a short imperative: hedges, subject and modal out, trailing clauses cut."""
    text = text.strip()
    for _ in range(3):
        before = text
        text = HEDGE.sub("", text).strip()
        if text == before:
            break
    text = TRAILING.split(text, maxsplit=1)[0]
    text = TIME_PREPOSITION.split(text, maxsplit=1)[0]
    text = re.sub(r"^(\w+)\s+(?:us|me|them|him|her|uns|mir|ons|mij|oss|mig|meg)\s+(?=\w)", r"\1 ", text, flags=re.I)
    text = OBJECT_PRONOUN_FIRST.sub("", text).strip(" ,.;:!?")
    topic = GERMAN_TOPIC.match(text)
    if topic:
        return topic.group(1)
    german = GERMAN_POLITE_IMPERATIVE.match(text)
    if german:
        rest, verb = _strip_determiners(german.group(2)), german.group(1).lower()
        particle = GERMAN_PARTICLE.match(rest)  # "… zurück senden" is "zurücksenden"
        text = f"{particle.group(1)} {particle.group(2)}{verb}" if particle else f"{rest} {verb}"
    text = text.strip(" ,.;:!?")
    return text if text and _informative(text) else ""


# -- Fallback ------------------------------------------------------------------------------------


def _informative(clause: str) -> bool:
    words = re.findall(r"[^\W\d_][\w'’-]*", clause)
    content = [w for w in words if not _is_function(w) and _lower(w) not in EMPTY and len(w) >= 3]
    if not content:
        return False
    return len(words) >= 2 or len(content[0]) >= 4 or any(p.search(clause) for p in KIND_NOUNS.values())


def _fallback(text: str, kind: str) -> str:
    """The shortest informative clause, one that names the kind first."""
    clauses = []
    for piece in CLAUSE_SPLIT.split(text):
        piece = TRAILING.split(piece.strip(), maxsplit=1)[0]
        piece = _action(piece) or piece.strip(" .,;:")
        piece = re.sub(r"^(?:(?:and|und|et|y|e|en|och|og|or|oder|ou|o|of)\s+)+", "", piece, flags=re.I)
        if piece and _informative(piece):
            clauses.append(piece)
    if not clauses:
        return ""
    noun = KIND_NOUNS.get(kind)
    named = [c for c in clauses if noun is not None and noun.search(c)]
    return min(named or clauses, key=len)


# -- Japanese ------------------------------------------------------------------------------------

JA_CHARS = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
JA_DATES = re.compile(
    r"(?:\d{4}年)?\d{1,2}月\d{1,2}日|\d{1,2}/\d{1,2}|[（(][月火水木金土日](?:曜日?)?[)）]|"
    r"(?:来週|今週|再来週|次週|翌週)の?(?:[月火水木金土日]曜日?)?|[月火水木金土日]曜日?|"
    r"(?:午前|午後)?\d{1,2}(?:時|:\d{2})(?:\d{1,2}分|半)?|午前|午後|明後日|明日|本日|今日|来月|今月|月末|週末|"
    r"年内|月内|今週中|週明け|\d{1,2}日"
)
JA_AFTER_DATE = re.compile(r"^(?:[〜~～-]|から|まで(?:に)?|に|の|は|頃|ごろ|中|を)+")
JA_NOUNS = {
    "meeting": r"打ち合わせ|打合せ|ミーティング|会議|面談|訪問|現地調査|内覧|現場確認|立ち会い|説明会|キックオフ|定例会|レビュー",
    "deadline": r"提出期限|締め切り|締切|〆切|期限|納期|提出",
    "milestone": r"納品|引き渡し|引渡し|公開|リリース|完成|竣工|着工|オープン|開始|設置|搬入|ローンチ",
    "payment": r"請求書|お支払い|支払い|入金|振込|振り込み|着手金|手付金|残金|前金|請求",
    "decision": r"承認|決定|採用|了承|確定",
    "status_change": r"保留|中止|再開|延期|受注|契約",
}
# "見積書をお送りください" → "見積書の送付": the verb asked for, as its noun.
JA_ACTIONS = [
    (r"お?送り|送って|ご?送付", "送付"), (r"ご?確認", "確認"), (r"ご?準備", "準備"), (r"共有", "共有"),
    (r"ご?提出", "提出"), (r"ご?連絡", "連絡"), (r"お?支払い", "支払い"), (r"ご?返送|返信", "返送"),
    (r"作成", "作成"), (r"手配", "手配"),
]  # fmt: skip
JA_POLITE = re.compile(
    r"(?:をお願い(?:いた)?します|お願い(?:いた)?します|をお願い申し上げます|して(?:いただけますか|ください|下さい)|"
    r"ください|下さい|いたします|致します|となります|になります|でしょうか|しましょう|ましょう|を?予定しております|"
    r"しております|を行います|します|です|ます|でした|ました|予定)$"
)


def _japanese(sentence: str, kind: str) -> str:
    text = re.sub(r"^(?:いつも)?お世話になって(?:おり|い)ます[。、]?", "", sentence.strip())
    text = re.sub(r"^[^、。]{1,20}(?:様|さん)[、,]\s*", "", text)
    money = MONEY.search(text)
    amount = money.group().strip() if money and kind == "payment" else ""
    if money:
        text = text.replace(money.group(), "")
    text = re.sub(r"[（(]\s*[)）]", "", re.sub(rf"(?:{JA_DATES.pattern})+(?:から|まで(?:に)?|頃|ごろ|中)?", "", text))
    clauses = []
    for piece in re.split(r"[。、！？!?,，]", text):
        piece = JA_AFTER_DATE.sub("", piece.strip())
        if piece:
            clauses.append(piece)
    title = ""
    nouns = re.compile(rf"(?:{JA_NOUNS[kind]})+") if kind in JA_NOUNS else None
    named = [(c, m) for c in clauses if nouns is not None and (m := nouns.search(c))]
    if named:
        clause, match = named[0]
        title = clause[: match.end()]  # the predicate after the noun goes ("…を行います")
    else:
        for clause in clauses:
            for pattern, noun in JA_ACTIONS:
                asked = re.search(rf"を(?:{pattern})", clause)
                if asked and asked.start() > 0:
                    title = f"{clause[: asked.start()]}の{noun}"
                    break
            if title:
                break
    if not title:
        plain = [JA_POLITE.sub("", c).rstrip("をにがはで") for c in clauses]
        plain = [c for c in plain if len(c) >= 2]
        title = min(plain, key=len) if plain else ""
    if amount:
        title = f"{title} — {amount}" if title else amount
    return title


# -- The title -----------------------------------------------------------------------------------

BUILDERS: dict[str, Callable[[str], str]] = {
    "meeting": _meeting,
    "deadline": _deadline,
    "milestone": _milestone,
    "payment": _payment,
    "decision": _decision,
    "status_change": _status_change,
    "action_item": _action,
}


def _amount(sentence: str) -> str:
    match = MONEY.search(sentence)
    return re.sub(r"[\s\u00a0]+", " ", match.group()).strip(" .,'") if match else ""


def _tidy(title: str) -> str:
    title = re.sub(r"\s+", " ", title).strip(" ,.;:!?–—-\"'“”‘’«»()[]")
    title = re.sub(r"\s+([,.;!?])", r"\1", title)
    words = title.split()
    while len(words) > 1 and _lower(words[-1]) in TRAILING_WORDS:
        words.pop()
    while len(words) > 1 and (_lower(words[0]) in DETERMINERS or _lower(words[0]) in BETWEEN):
        words.pop(0)
    return " ".join(words).strip(" ,;:–—-")


def _cap(title: str, limit: int) -> str:
    """At most `limit` characters, cut at a word, not ending on a preposition or article."""
    if len(title) <= limit:
        return title
    cut = title[: limit + 1].rsplit(" ", 1)[0] if " " in title[:limit] else title[:limit]
    return _tidy(cut)


def event_title(sentence: str, kind: str) -> str:
    """A short title for the event `sentence` states: its event phrase and object, no date or time,
    no greeting or hedge, capitalised, at most MAX_TITLE characters (a payment keeps its amount)."""
    if len(JA_CHARS.findall(sentence)) > len(re.findall(r"[A-Za-z]", sentence)):
        title = _tidy(_japanese(sentence, kind))
    else:
        text = _clean(sentence)
        builder = BUILDERS.get(kind)
        title = _tidy(builder(text)) if builder and text else ""
        if not title and text:
            title = _tidy(_fallback(text, kind))
            if kind == "meeting" and len(title.split()) > 3:
                title = ""  # "I've sent an invite": a clause that names no meeting says less than "Meeting"
    amount = _amount(sentence) if kind == "payment" else ""
    if amount and amount not in title:
        title = _cap(title, MAX_TITLE - len(amount) - 3)
        title = f"{title} — {amount}" if title else amount
    title = _cap(title, MAX_TITLE)
    if not title:
        return KIND_LABELS.get(kind, "Event")
    return title[:1].upper() + title[1:]
