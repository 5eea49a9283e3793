"""The offline, deterministic provider, in stages a newcomer can follow:

- the text (extraction.text): the new part of the email, forwards and pasted chats apart;
- sentences (extraction.sentences) and dates (extraction.dates) in them;
- the project decision (extraction.project_decision): the client, noise, where it belongs and how sure;
- kinds (here: multilingual cues, then extraction.kinds' learned model), moves, cancellations and
  payments settled (here), invitations (extraction.calendar);
- titles (extraction.titles).

It is the default when no API key is set, so the demo depends on it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from extraction.calendar import CalendarReading, Invitation, calendars_read
from extraction.dates import GENERIC_TLDS, WEEKDAY_RE, DateMention, day_first_for, find_dates, find_time
from extraction.kinds import judge, kind_model
from extraction.project_decision import (  # noqa: F401 - the project decision stage, re-exported for callers
    ADDRESS,
    NEW_PROJECT_CUE,
    Party,
    _folded,
    _is_ours,
    client_party,
    decide_project,
    noise_kind,
    project_name,
)
from extraction.sentences import CLAUSE_SPLIT, LIST_ITEM, Sentence, _sentences  # noqa: F401 - re-exported
from extraction.text import PreparedText, address_domain, normalise_subject, parse_address, prepare, skip_reason
from extraction.titles import event_title
from extraction.types import (
    Context,
    EmailInput,
    EventKind,
    EventRef,
    ExtractedEvent,
    Extraction,
    InvitationRef,
    ProjectDecision,
    Usage,
)
from extraction.words import (  # noqa: F401 - re-exported for callers
    GENERIC_MAIL_DOMAINS,
    GENERIC_WORDS,
    MONTH_AND_DAY_WORDS,
    STOP_WORDS,
    _overlap,
    _rx,
    _same_word,
    _squash,
    _tokens,
)

PROVIDER = "rules"
MAX_EVENTS = 25

MONEY = re.compile(
    r"(?P<pre>R\$\s?|[$€£]|\b(?:USD|EUR|GBP|CHF|CAD|AUD|SEK|NOK|DKK|BRL|MXN)\s?)(?P<num>\d[\d,.' ]*\d|\d)(?P<k>\s?[kK]\b)?"
    r"|(?P<num2>\d[\d,.' ]*\d|\d)(?P<k2>\s?[kK])?\s?(?P<post>€|\b(?:USD|EUR|GBP|CHF|CAD|AUD|SEK|NOK|DKK|euros?|dollars?|pounds?|Euro)\b)",
)
CURRENCY_CODES = {"r$": "BRL", "$": "USD", "€": "EUR", "£": "GBP", "euro": "EUR", "euros": "EUR", "dollar": "USD", "dollars": "USD", "pound": "GBP", "pounds": "GBP"}  # fmt: skip


KIND_PATTERNS: dict[str, re.Pattern[str]] = {
    "status_change": _rx(
        r"on hold", r"paus(?:e|es|ed|ing)", r"resum(?:e|ed|ing)", r"back on track", r"behind schedule", r"running late",
        r"project (?:is|has been) (?:now )?(?:closed|complete|completed|cancelled|canceled|approved)",
        r"green[- ]?lit", r"officially (?:started|live|closed|kicked off)", r"contract (?:is |has been |was )?signed",
        r"signed the contract", r"we(?:'ve| have)? won", r"counter-?signed", r"awarded", r"gestoppt", r"pausiert", r"en pause",
        r"(?:has|have) been (?:selected|chosen|shortlisted|appointed)", r"selected for", r"won the (?:bid|tender|pitch)",
        r"zuschlag", r"retenus?", r"adjudicad[oa]", r"voted to award", r"award(?:ed|s)? (?:\w+ ){0,3}contract",
    ),
    "strong_decision": _rx(
        r"decided", r"decision to", r"(?:we|i)(?:'ll| will)? go with", r"going with", r"let'?s go with", r"opted",
        r"chose", r"chosen", r"settled on", r"(?:we|i)(?:'d| would) (?:love|like) to go (?:ahead )?with", r"want to go with", r"green light", r"go(?:ing)? ahead", r"proceed with", r"entschieden",
        r"beschlossen", r"erteilen (?:\w+ ){0,3}auftrag", r"auftrag (?:erteilt|vergeben|freigegeben)", r"beauftragen",
        r"décidé", r"decidido", r"decidimos", r"aprovado", r"aprovamos", r"(?:good to |ready to )?move forward with", r"moving forward with",
        r"let'?s book(?: it| you)?", r"let'?s (?:use|reuse|keep|stick with|proceed|go for)", r"(?:we'll|we will|happy to) book", r"let'?s do it", r"go for it", r"good to go", r"decidimos", r"abbiamo deciso", r"deciso di", r"besloten", r"bestämt", r"beslutat", r"besluttet", r"gekozen",
    ),
    "decision": _rx(
        r"(?:scope|budget|design|layout|plan|choice|order|price|fee|spec(?:ification)?|colou?r|material|concept)s? "
        r"(?:is |are |was |were |has been |have been )?(?:confirmed|agreed|approved|signed off|finali[sz]ed)",
        r"agreed", r"approved?", r"approves", r"sign(?:ed)? off", r"signed-off", r"freigegeben", r"validée?",
        r"aprobado", r"approvato", r"accepted", r"confirmed that", r"final answer", r"we(?:'ll| will) use",
    ),
    "payment": _rx(
        r"invoices?", r"payments?", r"paid", r"pay", r"payable", r"deposit", r"instal+ments?", r"transfer(?:red)?",
        r"remittance", r"balance", r"retainer", r"fee", r"wired?", r"rechnung", r"zahlung", r"anzahlung",
        r"überwiesen", r"facture", r"paiement", r"acompte", r"virement", r"fattura", r"pago", r"factura",
        r"anticipo", r"versé", r"bezahlt", r"faktura(?:n)?", r"factuur", r"betaling", r"betaald", r"betalas",
        r"betalt", r"betales", r"aanbetaling", r"pagamento", r"pagare", r"fatura", r"sinal", r"payer", r"zahlen", r"bezahlen", r"pagar",
    ),
    "meeting": _rx(
        r"meet(?:ing)?s?", r"calls?", r"kick[- ]?offs?", r"catch[- ]?ups?", r"site visits?", r"site meetings?",
        r"walk[- ]?throughs?", r"workshops?", r"demos?", r"present(?:s|ing|ations?)?", r"interviews?",
        r"review sessions?", r"(?:design|client|project|progress|site|budget|board|final|weekly|monthly) reviews?",
        r"zoom", r"teams", r"google meet", r"appointments?", r"visits?", r"inspections?", r"tastings?", r"fittings?",
        r"viewings?", r"rehearsals?", r"termin", r"besprechung", r"treffen", r"réunion", r"rendez-vous", r"rdv",
        r"visite", r"sync", r"stand-?up", r"lunch", r"dinner", r"coffee", r"see you", r"riunione", r"reunión", r"reunião", r"reuniao", r"visita",
        r"webinar", r"session", r"come by", r"drop by", r"pop in", r"on site", r"join(?: us)?",
        r"in (?:our|your) (?:office|showroom|studio)", r"(?:works|suits) (?:for )?(?:me|us)", r"survey",
        r"(?:will |to )?come (?:on|round|over|by|in)", r"coming (?:on|round|over|in)", r"to view",
        r"discuss(?:ion|ing)?", r"readout", r"(?:site )?measure(?:-?up)?",
        r"at (?:our|your) (?:\w+ )?(?:office|showroom|studio|place)",
    ),
    "deadline": _rx(
        r"deadline", r"due", r"no later than", r"at the latest", r"latest by", r"submit", r"submission",
        r"cut-?off", r"expires?", r"frist", r"spätestens", r"bis zum", r"bis spätestens", r"avant le",
        r"date limite", r"entro il", r"prazo", r"até o dia", r"ate o dia", r"fecha límite", r"plazo", r"need (?:it|them|this|these|the \w+|your \w+)(?: \w+)? by", r"by eod",
        r"by cob", r"must be", r"should be", r"has to be", r"have to be", r"needs? to be", r"need to (?:pick|choose|decide|send|have)",
        r"tender", r"rsvps?",
        # A period that runs out, a document someone delivers on a day: what is due then.
        r"(?:runs?|ran) out", r"close[sd]? on", r"circulate[sd]?", r"provide", r"will be with you",
        r"send (?:you|over|through|across)",
    ),
    "milestone": _rx(
        r"launch(?:es|ed|ing)?", r"go(?:es)?[- ]live", r"went live", r"handover", r"hand-?over", r"completion",
        r"completed?", r"finished", r"deliver(?:y|ed|s)?", r"install(?:ation|ed|ing|s)?", r"opening", r"opens",
        r"re-?open(?:s|ing)?", r"release[sd]?", r"ship(?:s|ped|ping)?", r"phase", r"milestone", r"topping out",
        r"move-?in", r"premiere", r"published", r"printed", r"arrive[sd]?", r"arrival", r"start(?:s|ed|ing)?",
        r"begin(?:s|ning)?", r"fertigstellung", r"abnahme", r"lieferung", r"baubeginn", r"eröffnung",
        r"livraison", r"mise en ligne", r"fermeture", r"ouverture", r"réouverture", r"inauguration",
        r"inicio", r"apertura", r"entrega", r"consegna", r"inaugurazione", r"pour(?:ed|ing)", r"demolition",
        r"construction", r"freeze",
        r"(?:permit|planning|application|licen[cs]e|consent|inspection|DA)\w*(?: \S+){0,6} (?:was |has been |is |got )?"
        r"(?:approved|granted|issued|passed)",
        r"passed (?:the |its |our |final )?(?:\w+ )?inspection", r"shoot(?:ing)?", r"filming", r"recording", r"broadcast", r"airs?",
        r"screening", r"ready (?:for|by|on)", r"pencil+ed in", r"wedding", r"(?:getting )?married", r"ceremony", r"expect(?:ed|ing|s)?", r"submitted", r"went in", r"lodged", r"works start",
    ),
    "action_item": _rx(
        r"please", r"pls", r"plz", r"could you", r"can you", r"would you", r"need you to", r"i'll", r"i will", r"we'll",
        r"we will", r"remember to", r"don't forget", r"make sure", r"action item", r"to-?do", r"bitte",
        r"merci de", r"send (?:me|us|over)", r"i need", r"we need", r"pouvez-vous", r"potete",
    ),
}  # fmt: skip
# The writer's own word ("I'll be your implementation lead", "we'll block the books"): a task only
# with a date. Undated, such sentences were an action item in 1 of 13 labelled emails (14 sets).
COMMITMENT = _rx(r"i'll", r"i will", r"we'll", r"we will")
REQUEST = _rx(
    r"please", r"pls", r"plz", r"could you", r"can you", r"would you", r"need you to", r"remember to", r"don't forget",
    r"make sure", r"action item", r"to-?do", r"bitte", r"merci de", r"send (?:me|us|over)", r"i need", r"we need",
    r"pouvez-vous", r"potete",
)  # fmt: skip
# The same cues in the other languages of our mail (Nordic, Dutch, Iberian, Italian), and
# Japanese, which has no spaces, so its words match without word boundaries.
MORE_CUES: dict[str, tuple[list[str], list[str]]] = {
    "meeting": (
        [r"\w*möte(?:t|n|na)?", r"genomgång(?:en)?", r"\w*besiktning(?:en)?", r"\w*møte(?:t|r)?", r"\w*møde(?:t|r)?",
         r"befaring(?:en)?", r"vergadering", r"overleg", r"afspraak", r"bespreking", r"zitting", r"mondelinge behandeling",
         r"cita", r"degustación", r"degustacion", r"reuniões", r"incontro", r"sopralluogo", r"appuntamento", r"colloquio",
         r"audiencia", r"udienza", r"videocall", r"entrevista", r"visita técnica"],
        [r"会議", r"打ち合わせ", r"打合せ", r"ミーティング", r"面談", r"訪問", r"下見", r"現地確認", r"説明会", r"内覧"],
    ),
    "deadline": (
        [r"senast", r"senest", r"innen", r"uiterlijk", r"uiterste", r"indienen", r"inleveren", r"\w*termijn", r"scadenza",
         r"a más tardar", r"a mas tardar", r"antes del", r"sista dag", r"\w*fristen", r"\w+frist", r"entregar até",
         r"loopt af", r"läuft (?:ab|aus)", r"löper ut", r"udløber", r"utløper", r"expira", r"scade", r"expire",
         r"enviar", r"enviem", r"mandar", r"envoyer", r"inviare", r"toesturen", r"skicka", r"zusenden"],
        [r"締切", r"締め切り", r"期限", r"までに"],
    ),
    "milestone": (
        [r"leverans(?:en)?", r"oplevering", r"overdracht", r"lansering", r"lanzamiento", r"lançamento", r"lancio",
         r"driftsättning", r"inflyttning", r"slutbesiktning", r"invigning", r"åbning", r"estreno", r"collaudo",
         r"montaje", r"montagem", r"ferdigstill\w*", r"färdigställ\w*", r"oppstart", r"byggstart", r"início", r"avvio",
         r"go-?live"],
        [r"開始", r"納品", r"本番", r"公開", r"発売", r"開催", r"設営"],
    ),
    "payment": (
        [r"betalning(?:en)?", r"saldata", r"saldo", r"bonifico", r"pagad[oa]", r"pagamento"],
        [r"支払", r"入金", r"請求書"],
    ),
    "decision": (
        [r"godkänd\w*", r"godkjent", r"godkendt", r"goedgekeurd", r"akkoord", r"aprovad[oa]", r"aprobad[oa]",
         r"approvat[oa]", r"decidid[oa]"],
        [r"決定", r"承認"],
    ),
}  # fmt: skip
for _kind, (_words, _cjk) in MORE_CUES.items():
    KIND_PATTERNS[_kind] = re.compile(
        KIND_PATTERNS[_kind].pattern + "|(?<!\\w)(?:" + "|".join(_words) + ")(?!\\w)|" + "|".join(_cjk), re.IGNORECASE
    )
MORE_RESCHEDULE = [r"istället", r"i stedet", r"i stället", r"in plaats daarvan", r"verschuiven", r"verzet", r"verplaatst",
                   r"en lugar de", r"en vez de", r"em vez de", r"invece", r"spostare", r"spostiamo", r"flytta[rst]?",
                   r"flytte[rst]?", r"flyttet", r"udskudt", r"utsatt", r"uppskjut\w*", r"aplazar", r"adiar", r"adiad[oa]",
                   r"rinviare", r"posticip\w*"]  # fmt: skip
# "falls away", "is called off", "will not take place" in the languages the sets hold.
MORE_CANCEL = [r"inställd", r"inställt", r"ställs in", r"ställa in", r"avlyst", r"avlyses", r"aflyst", r"afgelast",
               r"geannuleerd", r"vervall?en", r"vervalt", r"gaat niet door", r"cancellat[oa]", r"fällt aus", r"entfällt",
               r"findet nicht statt", r"n'aura pas lieu", r"suspendid[oa]", r"desmarcad[oa]", r"não se realiza",
               r"no se celebrar[áa]", r"non si terr[àa]", r"bortfaller"]  # fmt: skip

DEADLINE_BY = re.compile(
    # "came by on Friday", "drop by Tuesday": a visit, not a due date.
    r"(?<!\bcame )(?<!\bcome )(?<!\bdrop )(?<!\bstop )(?<!\bswing )(?<!\bdropped )(?<!\bstopped )(?<!\bpopped )"
    r"\b(?:by|before|until|till|no later than|bis|avant|d'ici|antes del?|antes de|entro|uiterlijk|voor|spätestens|até)"
    r"(?:\s+\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?)?(?:\s+(?:on|the|am|le|zum|el|il|o dia|dia))?"
    rf"(?:\s+(?:{WEEKDAY_RE})\.?,?)?\s*\(?\s*$",  # "até sexta (18/12)"
    re.IGNORECASE,
)
PAST_CUE = re.compile(
    r"\b(?:we|i|they|you|he|she|it|client|team|board|council)\s+(?:already\s+)?(?:met|spoke|talked|agreed|approved|"
    r"decided|discussed|confirmed|presented|showed|visited|sent|signed|paid|received|lost|missed|(?!need|proceed|succeed|exceed|feed)\w{3,}ed)\b"
    r"|\b(?:was|were|had|did)\b"
    # Irregular pasts say it happened whoever the subject is ("the bailiff came by on Friday").
    r"|\b(?:came|went|got|saw|told|said|gave|took|brought|found|wrote|rang|heard|held|began|flew|drove|spoke)\b",
    re.IGNORECASE,
)
# A farewell that names the next day we meet ("Até amanhã, Tiago", "See you Monday!", "Bis morgen"):
# what remains of the sentence without its date.
FAREWELL = re.compile(
    r"\s*(?:see you|talk (?:to you )?|speak (?:to you )?|catch you|até|hasta|à|a|bis|tot|vi ses|ses|vi snakkes|"
    r"vi hörs|vi høres)\s*(?:on|el|le|am|i|then)?\s*[,.!]*\s*(?:[A-ZÀ-Þ][\w'’-]+)?\s*[.!]*\s*",
    re.IGNORECASE,
)
DISCOURSE = re.compile(
    r"\b(as agreed|as discussed|as promised|as requested|wie besprochen|wie vereinbart|comme convenu|como acordamos)\b,?",
    re.IGNORECASE,
)
RESCHEDULE = _rx(
    r"reschedul\w*", r"postpon\w*", r"push(?:ed|ing)?(?: \w+){0,6} (?:back |out )?to",
    r"(?:push|mov|shift|chang|bump)\w*\b[^.?!]{0,60}?\bfrom\b[^.?!]{1,40}?\bto", r"mov(?:e|ed|ing)(?: \w+){0,4} to",
    r"instead of", r"verschoben", r"verschieb\w*", r"verlegt", r"décalé", r"reporté", r"changed to", r"bring(?: \w+)? forward",
    r"brought forward", r"new date", r"now (?:on|at|be)", r"shift(?:ed)?(?: \w+){0,3} to", r"delayed (?:to|until)",
    r"aplazad[oa]", r"rinviat[oa]", r"spostat[oa]", r"push(?:ed|ing)? (?:back|out)", r"slipp?(?:ed|ing|s)?",
    r"put back", r"pulled forward", r"instead", *MORE_RESCHEDULE,
)  # fmt: skip
RESCHEDULE = re.compile(RESCHEDULE.pattern + "|変更|延期|振替", re.IGNORECASE)
CANCEL = _rx(
    r"cancel(?:l?ed|ling|s)?", r"called off", r"won'?t (?:happen|take place|go ahead)", r"no longer (?:happening|needed)",
    r"abgesagt", r"annulé", r"annulée", r"annullat[oa]", r"cancelad[oa]", r"scrap(?:ped)?", r"drop(?:ped)? the",
    *MORE_CANCEL,
)  # fmt: skip
CANCEL = re.compile(CANCEL.pattern + "|キャンセル|中止", re.IGNORECASE)
PAST_TENSE = _rx(
    r"paid", r"received", r"transferred", r"sent", r"wired", r"completed", r"finished", r"delivered",
    r"installed", r"launched", r"went live", r"signed", r"shipped", r"arrived", r"done", r"überwiesen", r"erhalten",
    r"(?:is|are|was|were) (?:now )?(?:complete|done|finished|live)", r"submitted", r"went in", r"lodged", r"passed",
    r"versé", r"reçu", r"bezahlt", r"pagado", r"pagato", r"pago", r"recebido", r"betald", r"betalt", r"betaald",
    r"saldat[oa]", r"pagad[oa]", r"quitad[oa]", r"payée?", r"réglée?",
)  # fmt: skip
AVAILABILITY_QUESTION = re.compile(
    r"\b(are you|would you be|is \w+|are \w+) (free|available)|does .{0,40} work for you|would .{0,40} suit|"
    r"or would|which (day|date|time)|\bor\b.{0,40}\?$",
    re.IGNORECASE,
)
THANKS_FOR = re.compile(
    r"\b(thanks|thank you|merci|danke|gracias|grazie) (?:again )?(?:so much )?(?:for|pour|für|por|per)\b", re.I
)
PAST_MEETING = re.compile(
    r"\b(thanks|thank you|merci|danke|gracias|grazie|great|good|nice|lovely|productive|after|following|since)\b"
    r"[^.!?]{0,25}\b(meeting|call|visit|walk-?through|kick-?off|presentation|session|chat|visite|réunion|reunión|besprechung|termin)"
    r"|\b(notes|minutes|recap|summary) (from|of)\b",
    re.IGNORECASE,
)
BOILERPLATE_ACTION = re.compile(
    r"\bplease (find|see|note|let (me|us) know|advise|feel free|don't hesitate|do not hesitate|contact|call me|"
    r"reply|confirm receipt|join)|\blet (me|us) know\b|\bif you (have|need) any|\b(confirm|find|agree) a new date|"
    r"\bget back to you|\bkeep you posted|\blet you know"
    # Instructions that come with a plan, not tasks of their own: "please have your questions ready",
    # "please quote GD-2041 as the reference", "please plan the anchor bolts accordingly".
    r"|\bplease (?:have|bring|quote|use|keep|include|remember|make sure|ensure|be (?:aware|advised))\b|\baccordingly\b",
    re.IGNORECASE,
)
ACTION_VERB = re.compile(
    # "email" as a verb ("please email the drawings"), not "reply to this email".
    r"\b(i'll|i will|we'll|we will|please|could you|can you|would you)\b[^.]{0,20}"
    r"\b(send|issue|forward|raise|prepare|(?<!this )(?<!the )(?<!an )(?<!your )(?<!my )email)\b",
    re.IGNORECASE,
)
NOT_AN_EVENT_BEFORE = re.compile(r"\b(until|till|since|from|of|dated|last|back)\s*$", re.IGNORECASE)
AWAY = re.compile(
    r"\b(out of (the )?office|OOO|away|on leave|on holiday|on vacation|annual leave|urlaub|congés|free|available|"
    r"(?:is|'s|am|'m|are|'re|be) out|out until|back on|off until|"
    r"offices? (?:are|is|will be) closed|closed for (?:the )?holidays?|bank holiday|public holiday)\b",
    re.IGNORECASE,
)
REQUEST_START = re.compile(
    r"^(?:(?:hi|hey|hello)\s+\w+,?\s*)?(?:(?:can|could|would|will) you|please|pls|bitte)\b", re.IGNORECASE
)
NEGATION = re.compile(r"\b(not|no|never|nothing|cannot|can't|won't|n't|unable)\b", re.IGNORECASE)


def _money(sentence: str) -> tuple[Decimal | None, str]:
    match = MONEY.search(sentence)
    if not match:
        return None, ""
    raw = match.group("num") or match.group("num2") or ""
    symbol = (match.group("pre") or match.group("post") or "").strip()
    thousands = bool(match.group("k") or match.group("k2"))
    raw = raw.replace(" ", "").replace("'", "")
    # "1.234,56" (European) vs "1,234.56": the last separator followed by two digits is the decimal one;
    # with a "k" ("12.5k") one or two digits after the last separator are decimals too.
    decimals = re.search(r"[.,](\d{1,2})$", raw) if thousands else re.search(r"[.,](\d{2})$", raw)
    if decimals:
        raw = raw[: decimals.start()].replace(",", "").replace(".", "") + "." + decimals.group(1)
    else:
        raw = raw.replace(",", "").replace(".", "")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        return None, ""
    if thousands:
        amount *= 1000
    code = CURRENCY_CODES.get(symbol.lower(), symbol.upper())
    return amount, code[:3]


SUBJECT_KINDS = ("meeting", "deadline", "payment", "milestone")


def subject_kind(subject: str) -> str | None:
    """What the subject says the email is about ("Site visit Thursday", "Invoice 2211 due"), if anything."""
    for kind in SUBJECT_KINDS:
        if KIND_PATTERNS[kind].search(subject):
            return kind
    return None


def _classify(sentence: str, exact: list[DateMention], base: date, hint: str | None = None) -> str | None:
    """The kind of event a sentence (or clause) states, or None. `exact` are its dated mentions;
    `hint` is the subject's kind, used for a dated sentence that names nothing itself ("Thursday at 10
    works" under "Site visit")."""
    # Blanked, not removed: the dates' offsets must still point at the same characters.
    text = DISCOURSE.sub(lambda m: " " * len(m.group(0)), sentence)
    hits = {kind for kind, pattern in KIND_PATTERNS.items() if pattern.search(text)}
    thanked = THANKS_FOR.search(text)
    past_meeting = PAST_MEETING.search(text) or (
        thanked is not None and KIND_PATTERNS["meeting"].search(text[thanked.end() : thanked.end() + 40])
    )
    said_done = PAST_TENSE.search(text) is not None or PAST_CUE.search(text) is not None
    if "meeting" in hits and (
        ((past_meeting or said_done) and all(m.date <= base for m in exact))
        or (exact and all(m.date < base for m in exact))
    ):
        hits.discard("meeting")  # "thanks for the call today", "we met on Monday": it already happened
    if AWAY.search(text):
        hits.discard("milestone")
        if exact and not hits & {"meeting", "payment", "status_change", "strong_decision"}:
            return None  # "she's out until Jan 4": an absence, not a deadline
    if BOILERPLATE_ACTION.search(text) and not ACTION_VERB.search(text):
        hits.discard("action_item")
    has_money = MONEY.search(text) is not None
    by_date = any(DEADLINE_BY.search(text[: m.start].rstrip()) for m in exact)
    if "status_change" in hits:
        return "status_change"
    if "strong_decision" in hits:
        return "decision"
    if "payment" not in hits and TERMS.search(text) and INVOICE_WORD.search(text):
        hits.add("payment")  # "Fakturadatum 2026-11-09, betalningsvillkor 30 dagar netto"
    if "payment" in hits:
        if by_date and not has_money and not PAST_TENSE.search(text):
            return "deadline"  # "the fee proposal by 12/1" is due, not paid
        if ACTION_VERB.search(text) and not has_money:
            return "action_item"  # "I'll send the invoice today" is a task, not a payment
        if has_money or exact or PAST_TENSE.search(text) or re.search(r"\bdue\b", text, re.I):
            return "payment"
    timed = find_time(_blank(text, exact)) is not None
    if (
        REQUEST_START.search(text)
        and "action_item" in hits
        and not by_date
        and not timed
        and not hits & {"meeting", "deadline"}
    ):
        return "action_item"  # "Can you book the crew for the shoot on Thursday?": the task is the event
    if exact:
        if "meeting" in hits:
            return "meeting"
        if "deadline" in hits:
            return "deadline"
        if "milestone" in hits:
            return "milestone"
        if by_date:
            return "deadline"
        if "decision" in hits:
            return "decision"
        if "action_item" in hits:
            return "action_item"
        if find_time(_blank(text, exact)) is not None:
            return "meeting"  # a day with a clock time is almost always a meeting or call
        upcoming = all(m.date > base for m in exact)
        # Not a payment: a payment names its money or its paying ("Invoice 118" over a site update).
        if hint not in (None, "payment") and upcoming and not NEGATION.search(text) and not AWAY.search(text):
            return hint
        future = any(m.date > base and not NOT_AN_EVENT_BEFORE.search(text[: m.start]) for m in exact)
        if future and not NEGATION.search(text) and not AWAY.search(text):
            return "milestone"  # a future day named for something: a step of the work
        return None
    if "decision" in hits:
        return "decision"
    if "milestone" in hits and PAST_TENSE.search(text):
        return "milestone"
    if "action_item" in hits:
        return "action_item"
    return None


def _blank(text: str, mentions: list[DateMention]) -> str:
    for m in sorted(mentions, key=lambda m: m.start, reverse=True):
        text = text[: m.start] + " " * (m.end - m.start) + text[m.end :]
    return MONEY.sub(" ", text)


CONJOINED = re.compile(
    r",?\s+(?:and|but|und|et|y|e|en)\s+(?=(?:the|our|your|we|i|a|an|der|die|das|wir|le|la|les|nous|el|los|il|de|het)\b)",
    re.IGNORECASE,
)


def _conjoined(text: str, mentions: list[DateMention]) -> list[tuple[str, list[DateMention]]]:
    """ "We've signed the contract and the deposit is paid": two statements when the halves say
    different kinds of thing; otherwise the sentence stays whole."""
    match = CONJOINED.search(text)
    if match is None:
        return [(text, mentions)]
    left, right = text[: match.start()], text[match.end() :]
    left_mentions = [m for m in mentions if m.end <= match.start()]
    right_mentions = [
        replace(m, start=m.start - match.end(), end=m.end - match.end()) for m in mentions if m.start >= match.end()
    ]
    base = date(2000, 1, 1)  # only the kinds are compared here; the caller resolves tense and dates
    left_kind = _classify(left, [m for m in left_mentions if m.exact], base)
    right_kind = _classify(right, [m for m in right_mentions if m.exact], base)
    if left_kind in {None, "action_item"} or right_kind in {None, "action_item"} or left_kind == right_kind:
        return [(text, mentions)]  # a task tacked on ("…and we'll pay net 15") stays part of the sentence
    return [(left, left_mentions), (right, right_mentions)]


def _clauses(text: str, mentions: list[DateMention]) -> list[tuple[str, list[DateMention]]]:
    """Split "Delivery on 8 December and installation by 18 December" between its dates."""
    exact = [m for m in mentions if m.exact]
    if len(exact) < 2:
        return _conjoined(text, mentions)
    cuts: list[int] = []
    for left, right in itertools.pairwise(exact):
        gap = text[left.end : right.start]
        match = None
        for candidate in CLAUSE_SPLIT.finditer(gap):
            match = candidate  # the last separator before the next date
        if match is not None and len(gap) > 3:
            cuts.append(left.end + match.start())
    if not cuts:
        return [(text, mentions)]
    pieces: list[tuple[str, list[DateMention]]] = []
    start = 0
    for cut in [*cuts, len(text)]:
        inside = [
            replace(m, start=m.start - start, end=m.end - start) for m in mentions if m.start >= start and m.end <= cut
        ]
        pieces.append((text[start:cut], inside))
        start = cut
        # Skip the separator itself at the start of the next piece.
        sep = CLAUSE_SPLIT.match(text, start)
        if sep is not None:
            start = sep.end()
    return pieces


def _title(sentence: str, kind: str) -> str:
    return event_title(sentence, kind)


MOVABLE = {"meeting", "deadline", "milestone"}
PAID = _rx(
    r"(?:has been |was |is |been |now |all )?paid", r"settled", r"betald", r"betalt", r"betaald", r"bezahlt",
    r"überwiesen", r"réglée?", r"payée?", r"pagad[oa]", r"pagat[oa]", r"saldat[oa]", r"pago", r"quitad[oa]",
    r"remittance", r"in (?:the|our) (?:next )?payment run", r"支払(?:い)?済", r"入金済",
)  # fmt: skip


def _paid_event(sentence: str, related: Iterable[EventRef]) -> EventRef | None:
    """The open payment a "paid" sentence settles: the one its words name, else the thread's only one."""
    payments = [e for e in related if e.kind == "payment"]
    words = _tokens(sentence)
    named = [e for e in payments if _overlap(words, _tokens(e.title) - {"invoice", "payment", "deposit"})]
    if len(named) == 1:
        return named[0]
    return payments[0] if len(payments) == 1 else None


def _referenced_event(
    sentence: str, kind: str | None, mentions: list[DateMention], candidates: Iterable[EventRef], before: str = ""
) -> EventRef | None:
    """The earlier event this sentence moves or cancels: same date, same kind, shared words
    (a meeting and a milestone are both "the day we planned" to a reply that moves it)."""
    words = _tokens(sentence)
    mentioned = {m.date for m in mentions}
    best: tuple[float, EventRef] | None = None
    for event in candidates:
        score = 0.0
        if event.date in mentioned:
            score += 3
        if kind and (event.kind == kind or {event.kind, kind} <= MOVABLE - {"deadline"}):
            score += 1.5
        title = _tokens(event.title)
        score += len(_overlap(words, title)) + 0.5 * len(_overlap(_tokens(before) - words, title))
        if score > 1 and (best is None or score > best[0]):
            best = (score, event)
    return best[1] if best else None


def _day_first(text: str, domain: str, base: datetime) -> bool:
    """The sender's convention for 3/10: a date like 27/11 or 11/27 in the same email decides;
    then the domain and the Date header's offset; a £ or € in a generic-domain mail means day first."""
    for a, b in re.findall(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?![\d])", text):
        if int(a) > 12 >= int(b):
            return True
        if int(b) > 12 >= int(a):
            return False
    tld = domain.rsplit(".", 1)[-1] if domain else ""
    if (tld in GENERIC_TLDS or domain in GENERIC_MAIL_DOMAINS) and ("£" in text or "€" in text):
        return True
    return day_first_for(domain, base.utcoffset())


def find_events(
    email: EmailInput,
    prepared: PreparedText,
    context: Context,
    project_id: int | None,
) -> list[ExtractedEvent]:
    """The events of the email; a forward's note and each forwarded message are read apart, each
    dated from its own Date line and credited to its own author."""
    if len(prepared.parts) < 2:
        return _find_events(email, prepared, context, project_id)
    found: list[ExtractedEvent] = []
    seen: set[tuple[str, date | None]] = set()
    for part in prepared.parts:
        name, address = parse_address(part.forwarded_from) if "@" in part.forwarded_from else (part.forwarded_from, "")
        for event in _find_events(email, part, context, project_id, sender=name or address or None):
            if (event.kind, event.date) not in seen:
                seen.add((event.kind, event.date))
                found.append(event)
    return found[:MAX_EVENTS]


def _find_events(
    email: EmailInput,
    prepared: PreparedText,
    context: Context,
    project_id: int | None,
    sender: str | None = None,
) -> list[ExtractedEvent]:
    base_dt = prepared.base_date or email.date
    if base_dt is None:
        return []
    base = base_dt.date()
    domain = address_domain(
        parse_address(prepared.forwarded_from)[1] if prepared.forwarded_from else email.from_address
    )
    flat, sentences = _sentences(prepared.body)
    mentions = find_dates(flat, base_dt, day_first=_day_first(flat, domain, base_dt))
    related = [e for e in context.recent_events if project_id is None or e.project_id == project_id]
    events: list[ExtractedEvent] = []
    seen: set[tuple[str, date | None]] = set()
    sender = sender or email.from_name or email.from_address
    hint = subject_kind(normalise_subject(prepared.forwarded_subject or email.subject))

    def emit(event: ExtractedEvent) -> None:
        key = (event.kind, event.date)
        if key in seen or len(events) >= MAX_EVENTS:
            return
        seen.add(key)
        events.append(event)

    model = kind_model()
    carry: str | None = None  # "We'd like to view the venues. Could we do Thursday?": the kind carries over
    for position, sentence in enumerate(sentences):
        text = sentence.text
        previous_carry, carry = carry, None
        previous_sentence = sentences[position - 1] if position else None
        end = sentence.start + len(text)
        inside = [
            replace(m, start=m.start - sentence.start, end=m.end - sentence.start)
            for m in mentions
            if m.start >= sentence.start and m.end <= end
        ]
        if text.endswith(":") and not inside:
            continue  # a lead-in, the list below it carries the events
        if HEADER_LINE.match(text) or DISCLAIMER.search(text):
            continue  # a forwarded message's header block or a legal footer: no plans in it
        if inside and FAREWELL.fullmatch(_blank(text, inside)):
            # "See you Friday": the meeting, once; never a deadline for its "até"/"bis".
            for mention in inside:
                if mention.exact and mention.date >= base:
                    emit(_event("meeting", _title(text, "meeting"), mention.date, text, inside, sender, 0.6))
            continue
        if PAST_CUE.search(text) and not RESCHEDULE.search(text):
            # "approved on Friday's call": a bare weekday in a past-tense sentence is the last one.
            inside = [
                replace(m, date=m.date - timedelta(days=7)) if m.bare_weekday and m.date > base else m for m in inside
            ]
        if text.endswith("?") and AVAILABILITY_QUESTION.search(text):
            continue  # alternatives offered: not yet an event
        cancel = CANCEL.search(text) is not None and not re.search(r"cancellation (fee|polic)", text, re.I)
        reschedule = RESCHEDULE.search(text) is not None
        exact = [m for m in inside if m.exact]
        if (cancel or reschedule) and related:
            kind = _classify(text, exact, base)
            # "Thursday is a problem for training. Could we do Wednesday 2 December instead?": the
            # sentence before says which event; its date mentions name the old day.
            # ... or the one after it: "Can we do the 25th instead? Tuesday is our big bake day."
            following = sentences[position + 1] if position + 1 < len(sentences) else None
            around = [s for s in (previous_sentence, following) if s is not None]
            before = " ".join(s.text for s in around)
            before_mentions = [
                m for m in mentions for s in around if m.start >= s.start and m.end <= s.start + len(s.text)
            ]
            referenced = _referenced_event(
                text, kind if kind != "action_item" else None, [*inside, *before_mentions], related, before
            )
            if referenced is None and reschedule:
                upcoming = [e for e in related if e.date is not None and e.date >= base and e.kind in MOVABLE]
                referenced = upcoming[0] if len(upcoming) == 1 else None  # the thread's only plan
            if referenced is not None:
                if cancel and not reschedule:
                    emit(
                        _event(
                            referenced.kind,
                            referenced.title,
                            referenced.date,
                            text,
                            inside,
                            sender,
                            0.6,
                            referenced.id,
                            "cancel",
                        )
                    )
                    continue
                later = [m for m in exact if m.date != referenced.date]
                if later:
                    emit(
                        _event(
                            referenced.kind,
                            referenced.title,
                            later[-1].date,
                            text,
                            inside,
                            sender,
                            0.6,
                            referenced.id,
                            "reschedule",
                        )
                    )
                    continue
        if not exact and KIND_PATTERNS["meeting"].search(text):
            carry = "meeting"
        for clause, clause_mentions in _clauses(text, inside):
            clause_exact = [m for m in clause_mentions if m.exact]
            kind = _classify(clause, clause_exact, base, previous_carry or hint)
            if kind is None and clause != text:
                kind = _classify(text, clause_exact, base, previous_carry or hint)
            explicit_deadline = kind == "deadline" and KIND_PATTERNS["deadline"].search(clause) is not None
            if (
                sentence.section
                and kind not in {"meeting", "milestone", "payment", "status_change"}
                and not explicit_deadline
            ):
                kind = sentence.section  # the author filed it under "Decisions:" / "Action items:"
            if clause_exact and model is not None and kind not in {"decision", "status_change"}:
                first = clause_exact[0]
                target = next((i for i, m in enumerate(inside) if (m.text, m.date) == (first.text, first.date)), 0)
                kind = judge(model, text, [(m.start, m.end) for m in inside], target, kind)
            if kind is None or (cancel and kind in {"meeting", "deadline", "milestone"}):
                continue
            if kind == "meeting":
                clause_exact = [m for m in clause_exact if not m.week]  # a meeting is on a day, not in a week
            if kind in {"meeting", "deadline"} and not clause_exact:
                continue
            if kind == "action_item" and NEGATION.search(clause) and not clause_exact:
                continue
            if (
                kind == "action_item"
                and not clause_exact
                and not sentence.section
                and COMMITMENT.search(clause)
                and not REQUEST.search(clause)
            ):
                continue
            when: date | None
            if kind == "decision":
                # Decided when it is said, unless the email says when ("the board approved it yesterday").
                past = [m for m in clause_exact if m.date < base]
                when = past[0].date if past else base
            elif clause_exact:
                chosen = clause_exact[-1] if reschedule else clause_exact[0]
                if kind == "deadline":
                    by = [m for m in clause_exact if DEADLINE_BY.search(clause[: m.start].rstrip())]
                    chosen = by[0] if by else chosen
                when = chosen.date
            elif kind == "status_change" or (kind in {"payment", "milestone"} and PAST_TENSE.search(clause)):
                when = base  # it happens when it is said
            elif kind == "payment" and (MONEY.search(clause) or re.search(r"\bdue\b", clause, re.I)):
                when = None  # an amount without a date is still worth a line on the timeline
            elif kind in {"payment", "milestone"}:
                continue
            else:
                when = None
            if kind == "payment" and PAID.search(clause):
                settled = _paid_event(text, related)
                if settled is not None:
                    paid_on = when if when is not None and when <= base else base
                    emit(
                        _event(
                            "payment", settled.title, paid_on, text, clause_mentions, sender, 0.6, settled.id, "paid"
                        )
                    )
                    continue
            emit(_event(kind, _title(clause, kind), when, text, clause_mentions, sender, 0.6 if clause_exact else 0.45))
    return _payment_terms(events, flat, mentions, base)


# The header block Outlook and others put above a forwarded or quoted message, in our languages.
HEADER_LINE = re.compile(
    r"^\W*(?:from|sent|to|cc|subject|date|fra|sendt|til|emne|von|gesendet|an|betreff|datum|de|envoyé|à|objet|"
    r"från|skickat|ämne|van|verzonden|aan|onderwerp|da|inviato|oggetto|enviado|para|asunto|assunto|fecha|data)\s*:",
    re.IGNORECASE,
)
DISCLAIMER = re.compile(
    r"(?:received (?:this|it) (?:e-?mail |message )?in error|intended (?:solely )?for the (?:named )?(?:recipient|addressee)|"
    r"confidential(?:ity)? notice|privileged and confidential|is confidential and|vertraulich|strictement confidentiel|"
    r"riservat[oa] e confidenzial|denne e-?post(?:en)? kan inneholde|detta e-?postmeddelande|dit e-?mailbericht is|"
    r"irrtümlich erhalten|nicht der (?:richtige|beabsichtigte) (?:adressat|empfänger)|reçu (?:ce message|cet e-?mail) par erreur|"
    r"recibido (?:este (?:mensaje|correo)) por error|ricevuto (?:questo messaggio|questa e-?mail) per errore|"
    r"ten onrechte ontvangen|av misstag|ved en fejl|ved en feil)",
    re.IGNORECASE,
)


# Payment terms counted from an invoice's date: "net 30", "netto 30 dagar", "a 30 giorni data
# fattura", "30 days from invoice", "30 dias", "zahlbar innerhalb 30 Tagen".
TERMS = re.compile(
    r"\b(?:net|netto|nett)\s*(\d{1,3})\b|\b(\d{1,3})\s*(?:days?|dagar|dager|dage|dagen|giorni|gg|d[ií]as|tage[n]?|jours)\b",
    re.IGNORECASE,
)
INVOICE_WORD = re.compile(
    r"\b(?:invoice[sd]?|inv|faktura|fakturan|fakturaen|fattura|factura|fatura|rechnung|factuur|facture|nota|voorschotnota|"
    r"dated|datert|daterad|datata|fechada|datée|data fattura|fecha factura|fakturadatum|fakturadato|invoice date)\b",
    re.IGNORECASE,
)


def _payment_terms(
    events: list[ExtractedEvent], flat: str, mentions: list[DateMention], base: date
) -> list[ExtractedEvent]:
    """A payment due "net 30" from an invoice dated in the email is due 30 days after that date."""
    invoice_dates = [
        m.date
        for m in mentions
        if m.exact and m.date <= base and INVOICE_WORD.search(flat[max(0, m.start - 60) : m.end + 20])
    ]
    # Terms stated anywhere in the email ("Payment terms: 30 days") hold for its invoice.
    stated = next(
        (t for t in TERMS.finditer(flat) if INVOICE_WORD.search(flat[max(0, t.start() - 80) : t.end() + 40])
         or re.search(r"terms|villkor|vilkår|condizioni|condiciones|condições|bedingungen|voorwaarden", flat[max(0, t.start() - 40) : t.start()], re.I)),
        None,
    )  # fmt: skip
    fixed: list[ExtractedEvent] = []
    for event in events:
        terms = (TERMS.search(event.evidence) or stated) if event.kind == "payment" else None
        days = int(terms.group(1) or terms.group(2)) if terms else 0
        if terms and 7 <= days <= 120 and (INVOICE_WORD.search(event.evidence) or terms is stated):
            start = event.date if event.date is not None and event.date <= base else None
            start = start or (invoice_dates[0] if invoice_dates else None)
            if start is not None:
                event = replace(event, date=start + timedelta(days=days))
        fixed.append(event)
    # The invoice's lines ("Invoice date: …", "Terms: net 30") now name one due day: one payment.
    result: list[ExtractedEvent] = []
    payments: dict[date, int] = {}
    for event in fixed:
        if event.kind == "payment" and event.date is not None:
            index = payments.get(event.date)
            if index is not None:
                if event.confidence > result[index].confidence:
                    result[index] = event
                continue
            payments[event.date] = len(result)
        result.append(event)
    return result


def _event(
    kind: str,
    title: str,
    when: date | None,
    sentence: str,
    inside: list[DateMention],
    sender: str,
    confidence: float,
    updates: int | None = None,
    action: str = "",
) -> ExtractedEvent:
    at: time | None = find_time(_blank(sentence, inside)) if when is not None else None
    amount, currency = _money(sentence) if kind == "payment" else (None, "")
    return ExtractedEvent(
        kind=kind,  # type: ignore[arg-type]
        title=title[:200],
        date=when,
        time=at,
        people=[sender] if sender else [],
        amount=amount,
        currency=currency,
        evidence=sentence[:1000],
        confidence=confidence + (0.1 if at else 0.0),
        updates_event_id=updates,
        update_action=action,  # type: ignore[arg-type]
    )


def _invitation_evidence(invitation: Invitation) -> str:
    """The short line an invitation's event shows as its source."""
    if invitation.method == "REPLY":
        answers = ", ".join(f"{p.label} {p.answer}" for p in invitation.attendees if p.answer) or "an answer"
        return f"Reply to “{invitation.summary}”: {answers}"[:1000]
    label = "Cancelled" if invitation.method == "CANCEL" else "Invitation"
    if invitation.occurrence is not None:
        label += f" (the occurrence of {invitation.occurrence:%d %b %Y})"
    start = invitation.start_text()
    return f"{label}: {invitation.summary}, {start}"[:1000] if start else f"{label}: {invitation.summary}"[:1000]


REPEATS = re.compile(r" \(repeats [^)]*\)$")


def invitation_events(reading: CalendarReading, context: Context, project_id: int | None) -> list[ExtractedEvent]:
    """One meeting per calendar invitation (extraction.calendar), exact where sentences guess:
    the organizer's local date and time, the summary as title, the attendees as people.

    events.apply finds the meeting an update, cancellation or reply is about by its UID. A
    cancellation whose UID the timeline does not know names the project's meeting on that day
    instead, when there is one.
    """
    related = [e for e in context.recent_events if project_id is None or e.project_id == project_id]
    events: list[ExtractedEvent] = []
    for invitation in reading.invitations:
        if invitation.method != "REPLY" and invitation.day is None:
            continue
        title = invitation.summary
        if invitation.recurrence:
            title = f"{title} (repeats {invitation.recurrence})"
        updates: int | None = None
        if invitation.method == "CANCEL" and not any(e.ical_uid == invitation.uid for e in context.recent_events):
            same_day = [e for e in related if e.kind == "meeting" and e.date == invitation.day]
            named = [e for e in same_day if _overlap(_tokens(invitation.summary), _tokens(e.title))]
            updates = (named or same_day)[0].id if same_day else None
        events.append(
            ExtractedEvent(
                kind="meeting",
                title=title[:200],
                date=invitation.day,
                time=invitation.at,
                timezone=invitation.zone,
                people=invitation.people,
                evidence=_invitation_evidence(invitation),
                confidence=0.95,
                updates_event_id=updates,
                update_action="cancel" if invitation.method == "CANCEL" else "",
                invitation=InvitationRef(
                    method=invitation.method,
                    uid=invitation.uid,
                    sequence=invitation.sequence,
                    location=invitation.location,
                    recurrence=invitation.recurrence,
                    occurrence=invitation.occurrence,
                    answers=[(p.label, p.answer) for p in invitation.attendees if p.answer],
                ),
            )
        )
    return events


def invitations_first(
    invited: list[ExtractedEvent], found: list[ExtractedEvent], context: Context
) -> list[ExtractedEvent]:
    """The invitations' meetings, then the sentences' events less those the invitations say better:
    a meeting on an invitation's day (or on the day the invited meeting had until now, or on an
    occurrence it is about) or sharing a word with its summary ("When: Weekly on Tuesday 10am" of
    a series), a sentence that moves or cancels the meeting an invitation is about, and in a
    reply the answer itself ("Sam has accepted your invitation")."""
    if not invited:
        return found
    refs = [e.invitation for e in invited if e.invitation is not None]
    uids = {i.uid for i in refs if i.uid}
    known = [e for e in context.recent_events if e.ical_uid and e.ical_uid in uids]
    days = {e.date for e in invited if e.date is not None} | {e.date for e in known if e.date is not None}
    days |= {i.occurrence for i in refs if i.occurrence is not None}
    words = set().union(*(_tokens(REPEATS.sub("", e.title)) for e in invited))
    about = {e.id for e in known} | {e.updates_event_id for e in invited if e.updates_event_id is not None}
    replied = any(i.method == "REPLY" for i in refs)

    def said_better(event: ExtractedEvent) -> bool:
        if event.kind == "meeting" and (event.date in days or _overlap(_tokens(event.evidence), words)):
            return True
        if replied and event.kind == "decision":
            return True
        return event.updates_event_id is not None and event.updates_event_id in about

    return invited + [e for e in found if not said_better(e)]


def _summary(prepared: PreparedText, subject: str) -> str:
    _, sentences = _sentences(prepared.body)
    for sentence in sentences:
        if not re.match(r"^(hi|hello|hey|dear|hallo|bonjour|guten tag|morning)\b", sentence.text, re.IGNORECASE):
            return sentence.text[:200]
    return subject[:200]


def extract(email: EmailInput, context: Context) -> Extraction:
    usage = [Usage(provider=PROVIDER, model=PROVIDER)]
    reason = skip_reason(email)
    if reason:
        return Extraction(
            project=ProjectDecision(
                action="none", confidence=0.95, noise=reason, reason=f"not project mail ({reason})"
            ),
            events=[],
            summary=f"No events: {reason}.",
            usage=usage,
            provider=PROVIDER,
            model=PROVIDER,
        )
    prepared = prepare(email)
    party = client_party(email, prepared, context)
    decision = decide_project(email, prepared, context, party)
    project_id = decision.project_id if decision.action == "existing" else None
    # Not project mail (a receipt, a pitch): nothing of it belongs on a timeline.
    calendars = calendars_read(email.calendars, sent_at=email.date) if email.calendars else CalendarReading()
    invited = [] if decision.noise else invitation_events(calendars, context, project_id)
    found = [] if decision.noise else find_events(email, prepared, context, project_id)
    events = invitations_first(invited, found, context)
    return Extraction(
        project=decision,
        events=events[:MAX_EVENTS],
        summary=_summary(prepared, email.subject),
        usage=usage,
        provider=PROVIDER,
        model=PROVIDER,
        notes=list(calendars.problems),
    )


__all__ = ["EventKind", "extract"]
