"""The offline, deterministic provider: thread and subject matching, dateparser dates, keyword rules.

It is the default when no API key is set, so the demo depends on it: it must put a thread's
emails in one project, name new projects sensibly, and find the obvious dated events.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from extraction.calendar import CalendarReading, Invitation, calendars_read
from extraction.dates import GENERIC_TLDS, MONTHS, WEEKDAY_RE, DateMention, day_first_for, find_dates, find_time
from extraction.kinds import judge, kind_model
from extraction.text import PreparedText, address_domain, normalise_subject, parse_address, prepare, skip_reason
from extraction.types import (
    Candidate,
    Context,
    EmailInput,
    EventKind,
    EventRef,
    ExtractedEvent,
    Extraction,
    InvitationRef,
    ProjectDecision,
    ProjectRef,
    Usage,
)

PROVIDER = "rules"
MAX_EVENTS = 25

GENERIC_MAIL_DOMAINS = {
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "live.com", "msn.com",
    "yahoo.com", "yahoo.co.uk", "yahoo.fr", "icloud.com", "me.com", "mac.com", "aol.com", "gmx.de", "gmx.net",
    "gmx.at", "web.de", "t-online.de", "orange.fr", "free.fr", "laposte.net", "wanadoo.fr", "btinternet.com",
    "proton.me", "protonmail.com", "mail.com", "zoho.com", "fastmail.com", "libero.it", "seznam.cz", "bigpond.com",
}  # fmt: skip

# Words that describe the email rather than the project: dropped when naming a project.
GENERIC_WORDS = {
    "re", "fw", "fwd", "meeting", "call", "invoice", "update", "updates", "question", "questions", "quick",
    "follow", "up", "followup", "follow-up", "reminder", "schedule", "scheduling", "dates", "date", "next",
    "steps", "revised", "new", "draft", "final", "v1", "v2", "v3", "please", "urgent", "info", "fyi", "hi",
    "hello", "thanks", "thank", "you", "your", "our", "the", "a", "an", "for", "of", "and", "to", "on", "in", "at",
    "with", "about", "from", "re:", "quote", "quotation", "estimate", "proposal", "payment", "deposit", "status",
    "confirmation", "confirmed", "moved", "rescheduled", "cancelled", "canceled", "change", "changes", "notes",
    "minutes", "agenda", "recap", "summary", "check", "kickoff", "kick-off", "visit", "site", "review",
    "feedback", "approval", "approved", "signed", "contract", "contracts", "docs", "documents", "drawings",
    "plans", "timeline", "timing", "deadline", "week", "weekly", "today", "tomorrow", "friday", "monday",
    "tuesday", "wednesday", "thursday", "is", "are", "we", "i", "my", "it", "this", "that", "de", "der", "die",
    "das", "und", "le", "la", "les", "et", "des", "du", "wg", "aw", "sv", "tr", "availability", "chat",
}  # fmt: skip
STOP_WORDS = GENERIC_WORDS - {"kickoff", "site", "visit", "contract", "drawings", "plans"}

MONEY = re.compile(
    r"(?P<pre>R\$\s?|[$€£]|\b(?:USD|EUR|GBP|CHF|CAD|AUD|SEK|NOK|DKK|BRL|MXN)\s?)(?P<num>\d[\d,.' ]*\d|\d)(?P<k>\s?[kK]\b)?"
    r"|(?P<num2>\d[\d,.' ]*\d|\d)(?P<k2>\s?[kK])?\s?(?P<post>€|\b(?:USD|EUR|GBP|CHF|CAD|AUD|SEK|NOK|DKK|euros?|dollars?|pounds?|Euro)\b)",
)
CURRENCY_CODES = {"r$": "BRL", "$": "USD", "€": "EUR", "£": "GBP", "euro": "EUR", "euros": "EUR", "dollar": "USD", "dollars": "USD", "pound": "GBP", "pounds": "GBP"}  # fmt: skip


def _rx(*words: str) -> re.Pattern[str]:
    # \w boundaries (not hyphens), so "Vor-Ort-Termin" still contains "Termin".
    return re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)", re.IGNORECASE)


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
        r"tender", r"rsvp",
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
# The same cues in the other languages of our mail (Nordic, Dutch, Iberian, Italian), and
# Japanese, which has no spaces, so its words match without word boundaries.
MORE_CUES: dict[str, tuple[list[str], list[str]]] = {
    "meeting": (
        [r"\w*möte(?:t|n|na)?", r"genomgång(?:en)?", r"besiktning(?:en)?", r"\w*møte(?:t|r)?", r"\w*møde(?:t|r)?",
         r"befaring(?:en)?", r"vergadering", r"overleg", r"afspraak", r"bespreking", r"zitting", r"mondelinge behandeling",
         r"cita", r"degustación", r"degustacion", r"reuniões", r"incontro", r"sopralluogo", r"appuntamento", r"colloquio",
         r"audiencia", r"udienza", r"videocall", r"entrevista", r"visita técnica"],
        [r"会議", r"打ち合わせ", r"打合せ", r"ミーティング", r"面談", r"訪問", r"下見", r"現地確認", r"説明会", r"内覧"],
    ),
    "deadline": (
        [r"senast", r"senest", r"innen", r"uiterlijk", r"uiterste", r"indienen", r"inleveren", r"termijn", r"scadenza",
         r"a más tardar", r"a mas tardar", r"antes del", r"sista dag", r"fristen", r"entregar até"],
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
MORE_CANCEL = [r"inställd", r"inställt", r"avlyst", r"aflyst", r"afgelast", r"geannuleerd", r"cancellat[oa]"]

DEADLINE_BY = re.compile(
    r"\b(?:by|before|until|till|no later than|bis|avant|d'ici|antes del?|antes de|entro|uiterlijk|voor|spätestens|até)"
    r"(?:\s+\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?)?(?:\s+(?:on|the|am|le|zum|el|il|o dia|dia))?"
    rf"(?:\s+(?:{WEEKDAY_RE})\.?,?)?\s*$",
    re.IGNORECASE,
)
PAST_CUE = re.compile(
    r"\b(?:we|i|they|you|he|she|it|client|team|board|council)\s+(?:already\s+)?(?:met|spoke|talked|agreed|approved|"
    r"decided|discussed|confirmed|presented|showed|visited|sent|signed|paid|received|lost|missed|(?!need|proceed|succeed|exceed|feed)\w{3,}ed)\b"
    r"|\b(?:was|were|had|did)\b",
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
    r"\bget back to you|\bkeep you posted|\blet you know",
    re.IGNORECASE,
)
ACTION_VERB = re.compile(
    r"\b(i'll|i will|we'll|we will|please|could you|can you|would you)\b[^.]{0,20}\b(send|issue|forward|raise|prepare|email)\b",
    re.IGNORECASE,
)
ADDRESS = re.compile(
    r"\b\d{1,4}[a-z]?,? (?:[A-ZÄÖÜ][\wäöüß'-]+ ){1,3}(?:Rd|Road|St|Street|Ave|Avenue|Lane|Ln|Drive|Dr|Way|Place|Pl|"
    r"Court|Ct|Crescent|Cres|Terrace|Tce|Boulevard|Blvd|Parade|Pde|Highway|Hwy|Close|Square|Sq|Row|Mews)\b"
    r"|\b(?:[A-ZÄÖÜ][\wäöüß-]+(?:straße|strasse|str\.|weg|platz|allee|gasse)) \d{1,4}[a-z]?\b"
    r"|\b\d{1,4},? (?:rue|avenue|boulevard|place|chemin|calle|via|viale|piazza) [\wéèàç' -]{3,30}?(?=[,.\n]|$)",
)
NEW_PROJECT_CUE = re.compile(
    r"\b(new project|another project|new job|separate project|second project|new enquiry|new inquiry|neues projekt|"
    r"nouveau projet|nuevo proyecto|nuovo progetto)\b",
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
# "am 27. November": a day's dot followed by a capitalised month does not end the sentence.
_NOT_AN_END = "".join(
    rf"(?<!{a})"
    for a in (
        r"a\.m\.",
        r"p\.m\.",
        r"A\.M\.",
        r"P\.M\.",
        r"e\.g\.",
        r"i\.e\.",
        r"\bDr\.",
        r"\bMr\.",
        r"\bMs\.",
        r"Mrs\.",
        r"\bSt\.",
        r"\bNo\.",
        r"\bvs\.",
    )
)
# Lower-case writers ("deposit sent today. see you monday") end sentences too; a day's dot does not.
SENTENCE_SPLIT = re.compile(
    rf"(?<=[.!?]){_NOT_AN_END}\s+(?=[A-ZÄÖÜÉÈ\"'(])(?!(?i:{MONTHS})\b)"
    rf"|(?<=[.!?]){_NOT_AN_END}(?<!\d\.)(?<!\bno\.)(?<!\bca\.)(?<!\bapprox\.)\s+(?=[a-zäöüéè])"
    r"|\s*;\s+"
)
CLAUSE_SPLIT = re.compile(r",?\s+(?:and|so|but|while|then|und|et|y|e)\s+|,\s+", re.IGNORECASE)
LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # offset in the flattened body
    section: str | None = None  # a list item under "Decisions:" or "Action items:" takes that kind


SECTION_HEADS: list[tuple[str, re.Pattern[str]]] = [
    ("decision", _rx(r"decisions?", r"decided", r"agreed", r"entscheidungen", r"beschlüsse", r"décisions")),
    ("action_item", _rx(r"action items?", r"actions?", r"to-?dos?", r"next steps", r"tasks", r"aufgaben", r"à faire")),
]


def _section_of(lead_in: str) -> str | None:
    for kind, pattern in SECTION_HEADS:
        if pattern.search(lead_in):
            return kind
    return None


def _sentences(body: str) -> tuple[str, list[Sentence]]:
    """Flatten hard-wrapped paragraphs, keep list items apart, split into sentences."""
    units: list[tuple[str, bool]] = []  # (text, is a list item)
    for paragraph in re.split(r"\n\s*\n", body):
        current: list[str] = []
        item = False
        for line in paragraph.splitlines():
            stripped = line.strip()
            if not stripped:
                continue
            if LIST_ITEM.match(stripped):
                if current:
                    units.append((" ".join(current), item))
                    current = []
                stripped = LIST_ITEM.sub("", stripped)
                item = True
            current.append(stripped)
            if stripped.endswith(":"):  # a lead-in ("Next steps:") is its own unit
                units.append((" ".join(current), False))
                current, item = [], False
        if current:
            units.append((" ".join(current), item))
    flat = "\n".join(text for text, _ in units)
    sentences: list[Sentence] = []
    offset = 0
    section: str | None = None
    for unit, item in units:
        if unit.endswith(":"):
            section = _section_of(unit)
        elif not item:
            section = None
        position = 0
        for piece in SENTENCE_SPLIT.split(unit):
            index = unit.find(piece, position)
            if piece.strip():
                sentences.append(Sentence(piece.strip(), offset + index, section if item else None))
            position = index + len(piece)
        offset += len(unit) + 1
    return flat, sentences


MONTH_AND_DAY_WORDS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
}  # fmt: skip


def _tokens(text: str) -> set[str]:
    return {
        t
        for t in re.findall(r"[a-zà-ÿß0-9]+", text.lower())
        if len(t) > 2 and t not in STOP_WORDS and t not in MONTH_AND_DAY_WORDS and not t.isdigit()
    }


def _folded(text: str) -> set[str]:
    """Tokens without accents: "Café Lumière" and "cafe-lumiere" name the same."""
    return {_squash(t) for t in _tokens(text)} - {""}


def _same_word(a: str, b: str) -> bool:
    """'cabinet' ~ 'cabinets', 'delivery' ~ 'delivered', 'henderson' ~ 'hendersonfamily', and the
    head of a compound: 'huurverlenging' ~ 'verlenging', 'fasadrenovering' ~ 'renovering'."""
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    return len(shorter) >= 5 and (
        longer.startswith(shorter)
        or (a[:5] == b[:5] and len(a) >= 6 and len(b) >= 6)
        or (len(shorter) >= 7 and longer.endswith(shorter))
    )


def _overlap(words: set[str], known: set[str]) -> set[str]:
    return {w for w in words if any(_same_word(w, k) for k in known)}


def _org_from_domain(domain: str) -> str:
    """'mueller-bau.de' → 'Mueller Bau'; 'mail.acme-corp.co.uk' → 'Acme Corp'."""
    parts = domain.lower().split(".")
    while len(parts) > 2 and parts[-2] in {"co", "com", "org", "net", "ac", "gov", "edu"}:
        parts = [*parts[:-2], parts[-1]]
    core = parts[-2] if len(parts) >= 2 else parts[0]
    return " ".join(word.capitalize() for word in re.split(r"[-_]+", core) if word)


LEGAL_SUFFIXES = {
    "ltd", "limited", "llc", "inc", "gmbh", "ag", "bv", "b.v.", "nv", "ab", "aps", "as", "asa", "oy", "pty",
    "plc", "sa", "s.a.", "sl", "srl", "spa", "lda", "sas", "sarl", "kg", "co.", "corp", "company",
}  # fmt: skip
_WORD = re.compile(r"[\w][\w'’.-]*|&")


def _squash(word: str) -> str:
    folded = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]", "", folded)


def _org_in_text(domain: str, texts: Iterable[str]) -> str:
    """The organisation's name as its people write it ("Crumb & Co", "Northwind Coffee"), found as
    a run of words whose letters spell the domain's name; '' when no text spells it.

    The domain is how the organisation is reached, not how it is called: "northwindcoffee.com"
    is shown as "Northwind Coffee" only because a signature or display name writes it so.
    """
    parts = domain.lower().split(".")
    while len(parts) > 2 and parts[-2] in {"co", "com", "org", "net", "ac", "gov", "edu"}:
        parts = [*parts[:-2], parts[-1]]
    core = _squash(parts[-2] if len(parts) >= 2 else parts[0])
    if len(core) < 3:
        return ""
    for text in texts:
        words = _WORD.findall(text or "")
        for start, first in enumerate(words):
            if not _squash(first) or not core.startswith(_squash(first)[:1]) or not first[:1].isupper():
                continue
            spelled = [""]
            for end in range(start, min(start + 6, len(words))):
                piece = words[end]
                options = ["and", ""] if piece in {"&", "+"} else [_squash(piece)]
                spelled = [s + o for s in spelled for o in options if core.startswith(s + o)]
                if not spelled:
                    break
                if core in spelled:
                    found = words[start : end + 1]
                    rest = words[end + 1 : end + 3]
                    while rest and rest[0].lower().rstrip(",") in LEGAL_SUFFIXES:
                        found.append(rest.pop(0).rstrip(","))
                    if found[-1].endswith(".") and found[-1].lower() not in LEGAL_SUFFIXES:
                        found[-1] = found[-1].rstrip(".")
                    return " ".join(found).strip(" ,-")
    return ""


@dataclass(frozen=True)
class Party:
    name: str  # organisation (or the person, for personal mail domains)
    address: str
    domain: str
    # The name as people write it (a signature, a display name), not a domain's letters respaced.
    spelled: bool = True


def _named_like_us(domain: str, organization_name: str) -> bool:
    """brightline.studio or brightline-studio.com for "Brightline Studio"; kestrelfilms.co.uk for "Kestrel Films"."""
    if not organization_name or domain in GENERIC_MAIL_DOMAINS:
        return False
    core = re.sub(r"[^a-z0-9]", "", _org_from_domain(domain).lower())
    ours = re.sub(r"[^a-z0-9]", "", organization_name.lower())
    if len(core) < 5 or len(ours) < 5:
        return False
    return core == ours or ours.startswith(core) or core.startswith(ours)


def _is_inbound(address: str) -> bool:
    domain = address_domain(address)
    return domain.startswith("in.") or "projectr" in domain


def _is_ours(address: str, context: Context) -> bool:
    domain = address_domain(address)
    if not domain:
        return True
    if any(domain == d or domain.endswith("." + d) for d in context.organization_domains):
        return True
    if _named_like_us(domain, context.organization_name):
        return True
    # Our own inbound addresses (acme@in.projectr.example) are never the client.
    return domain.startswith("in.") or "projectr" in domain


def client_party(email: EmailInput, prepared: PreparedText, context: Context) -> Party | None:
    """The external party of the conversation: the forwarded sender, else the first outside address."""
    candidates: list[tuple[str, str]] = []
    if prepared.forwarded_from:
        candidates.append(parse_address(prepared.forwarded_from))
    candidates.append((email.from_name, email.from_address.lower()))
    candidates.extend(parse_address(a) for a in [*email.to, *email.cc])
    recipients = [a for _, a in (parse_address(r) for r in [*email.to, *email.cc]) if a and not _is_inbound(a)]
    domains = {address_domain(a) for a in [email.from_address, *recipients] if a}
    if recipients and len(domains) == 1 and not prepared.forwarded_from and not domains & GENERIC_MAIL_DOMAINS:
        return None  # sender and recipients share one company domain: our own people talking among themselves
    parties: list[Party] = []
    for name, address in candidates:
        if not address or _is_ours(address, context):
            continue
        domain = address_domain(address)
        spelled = True
        if domain in GENERIC_MAIL_DOMAINS:
            label = name or address.split("@")[0].replace(".", " ").title()
        else:
            label = _org_in_text(domain, [name, email.from_name, prepared.forwarded_from, email.text])
            if not label:
                label, spelled = _org_from_domain(domain), False
        parties.append(Party(name=label, address=address, domain=domain, spelled=spelled))
    if not parties:
        return None
    # When our own domains are unknown, our staff look external too; the party the subject names
    # ("Harvest Foods website" → harvestfoods.com) is the client.
    subject_words = _tokens(f"{email.subject} {prepared.forwarded_subject}")
    for party in parties:
        core = re.sub(r"[^a-z0-9]", "", party.name.lower())
        if any(len(w) >= 4 and core.startswith(w) for w in subject_words) or _overlap(
            subject_words, _tokens(party.name)
        ):
            return party
    return parties[0]


NAME_NOISE = {
    "enquiry", "inquiry", "request", "rfq", "rfp", "projet", "project", "proyecto", "progetto", "projekt",
    "anfrage", "demande", "angebot", "devis", "offerta", "presupuesto", "nuevo", "nouveau", "neues", "nuovo",
    "new", "next", "steps", "kickoff", "kick-off", "intro", "introduction", "welcome",
}  # fmt: skip


def _trim(words: list[str]) -> list[str]:
    noise = GENERIC_WORDS | NAME_NOISE
    while words and (words[-1].lower() in noise or (words[-1].isdigit() and len(words[-1]) < 4)):
        words.pop()
    while words and words[0].lower() in noise:
        words.pop(0)
    return words


def project_name(subject: str, party: Party | None) -> str:
    """A project name from the subject: its most specific part, without words about the email itself.

    "Re: Henderson kitchen – installation schedule" → "Henderson kitchen"; "Loft conversion enquiry"
    → "Loft conversion"; "Oakridge Dental – surgery refurbishment" → "Oakridge Dental surgery
    refurbishment" (a part that only names the client is joined to the part that names the job).
    """
    cleaned = normalise_subject(subject)
    original = re.sub(
        r"\s+", " ", re.sub(r"^\s*((re|aw|sv|fw|fwd|wg|tr)\s*:\s*|\[[^\]]*\]\s*)+", "", subject, flags=re.I)
    ).strip()
    parts = [p.strip() for p in re.split(r"\s+[-–—|:]\s+|:\s+|\s*\|\s*", original) if p.strip()] or [cleaned]
    noise = GENERIC_WORDS | NAME_NOISE

    def informative(part: str) -> list[str]:
        return [w for w in re.findall(r"[\wÀ-ÿ'-]+", part.lower()) if w not in noise and not w.isdigit()]

    client = _tokens(party.name) if party else set()
    # A part that only greets or names the client ("Welcome to Tallwood") says less than the job.
    ranked = sorted(parts, key=lambda part: len([w for w in informative(part) if w not in client]), reverse=True)
    best = ranked[0] if ranked else ""
    words = _trim(re.findall(r"[\wÀ-ÿ&'’-]+", best))
    best_words = informative(best)
    joined = "".join(best_words)
    names_client = bool(client) and (
        set(best_words) <= _overlap(set(best_words), client)
        or any(len(joined) >= 5 and c.startswith(joined) for c in client)
    )
    if words and names_client and len(ranked) > 1:
        other = _trim(re.findall(r"[\wÀ-ÿ&'’-]+", ranked[1]))
        if other:
            words = words + other
    name = " ".join(words)
    if len(name) < 3:
        name = f"{party.name} project" if party else (best or cleaned or "Untitled project")
    elif party is not None and party.spelled and party.name and not _overlap(_folded(name), _folded(party.name)):
        # The client's organisation and the subject's topic, as a person would name it.
        name = f"{party.name} – {name}"
    if name.islower():
        name = name[0].upper() + name[1:]
    return name[:120]


def _client_words(project: ProjectRef) -> str:
    """The client's name and organisation; a mailbox name only for personal mail domains (a first
    name in a company address, "hannah@", also greets our own staff)."""
    local, _, domain = project.client_email.lower().partition("@")
    person = re.sub(r"[._+-]", " ", local) if domain in GENERIC_MAIL_DOMAINS else ""
    return " ".join([project.client_name, person, _org_from_domain(domain) if domain else ""])


PITCH = re.compile(
    r"\b(seo|search rankings?|backlinks?|lead generation|book a (quick |short |free )?(call|demo|meeting)|"
    r"free (audit|trial|consultation|quote)|i came across your|we help (companies|businesses|brands|firms)|"
    r"special offer|limited[- ]time|\d+ ?% off|discount code|webinar|case stud(y|ies) from|"
    r"would you be (open|interested)|are you the right person|schedule a (quick|short) call)\b",
    re.IGNORECASE,
)
RECEIPT_SUBJECT = re.compile(
    r"\b(receipt|your order|order confirmation|payment (received|confirmation)|thank you for your (order|purchase|payment)|"
    r"kvitto|quittung|reçu|recibo|ontvangstbevestiging|betalingsbevestiging|orderbekräftelse|領収書)\b",
    re.IGNORECASE,
)


def noise_kind(email: EmailInput, prepared: PreparedText, context: Context, party: Party | None) -> str:
    """What kind of mail this is when it is plainly not project mail ('' when it may be).

    A client's own receipt ("Payment confirmation" from a client's accounts team) is project
    mail: only a party that no open project knows can send a receipt or a pitch that is noise.
    """
    reason = skip_reason(email)
    if reason:
        return reason
    if party is not None and any(
        p.client_email and (p.client_email.lower() == party.address or address_domain(p.client_email) == party.domain)
        for p in context.projects
    ):
        return ""
    if RECEIPT_SUBJECT.search(email.subject or ""):
        return "receipt"
    # A cold pitch: an outside sender starting a conversation with sales language.
    if party is not None and not email.in_reply_to and not email.references and PITCH.search(prepared.body[:3000]):
        return "pitch"
    return ""


def _vocabulary(project: ProjectRef, taught_words: set[str]) -> set[str]:
    return _tokens(" ".join([project.name, *project.aliases, *project.recent_subjects])) | taught_words


def _sure(project_id: int, reason: str) -> ProjectDecision:
    return ProjectDecision(
        action="existing",
        project_id=project_id,
        confidence=0.97,
        sure=True,
        reason=reason,
        candidates=[Candidate(project_id=project_id, score=0.97)],
    )


def _proper_words(subject: str, body: str) -> set[str]:
    """Subject words written as names: capitalised wherever the body uses them, and used there.

    A place, a product or a person ("Paddington", "ClinicDesk") names what an email is about;
    title case makes every subject word look like one, so the body is the witness: "Tender" in
    "Tender Submission" is "tender" in its sentences.
    """
    found = set()
    for word in re.findall(r"[^\W\d_][\w'’-]{3,}", subject):
        lowered = word.lower()
        if lowered in GENERIC_WORDS or lowered in MONTH_AND_DAY_WORDS or not word[0].isupper():
            continue
        uses = re.findall(r"(?<![\w-])" + re.escape(lowered) + r"(?![\w-])", body, re.IGNORECASE)
        if uses and all(u[0].isupper() for u in uses):
            found.add(_squash(word))
    return found


def _names_something_new(
    email: EmailInput,
    prepared: PreparedText,
    context: Context,
    same_client: list[ProjectRef],
    vocab: dict[int, set[str]],
    clients: dict[int, set[str]],
) -> bool:
    """The client of a known project writes about a thing none of their projects is named after.

    Only a name decides this (a site, a product): a follow-up with a plain subject ("Invoice
    INV-20931", "Practical completion") stays with the client's project, as Pipedrive files
    mail of a person with one open deal.
    """
    subject = prepared.forwarded_subject or email.subject
    subject_words = _folded(subject)
    ours = _folded(context.organization_name)
    # "Oceano Vivo 2027" from the client of "Oceano Vivo 2026 – final report": another year, another project.
    years = set(re.findall(r"\b20\d\d\b", subject))
    for project in same_client:
        theirs = set(re.findall(r"\b20\d\d\b", " ".join([project.name, *project.recent_subjects])))
        if years and theirs and not years & theirs:
            return True
    for project in same_client:
        # What the project is named after: its capitalised words ("Newstead" in "Corella –
        # Newstead fit-out"), else all of its name's words; the client's name is in all of them.
        named = {_squash(w) for w in re.findall(r"[^\W\d_][\w'’-]{3,}", project.name) if w[0].isupper()}
        own = (named or _folded(project.name)) - _folded(project.client_name) - ours
        if not own or own & subject_words:
            return False
    known = set().union(*({_squash(w) for w in vocab[p.id] | clients[p.id]} for p in same_client))
    proper = _proper_words(subject, prepared.body) - known - ours
    proper -= _folded(" ".join(p.client_name for p in same_client))
    return bool(proper)


def decide_project(email: EmailInput, prepared: PreparedText, context: Context, party: Party | None) -> ProjectDecision:
    """Where this email belongs, how sure that is, and the next best places.

    Sure signals decide alone: the thread, and a sender a person filed into exactly one open
    project. Otherwise each open project is scored on the evidence (the client's address or
    domain, taught or seen; subject words that only it has; its name or a site of it in the
    text) and the confidence is the best score's share, lowered when a second project or a new
    one is nearly as likely. Below the organization's threshold the email waits, Unfiled, with
    the ranked candidates (events.apply).
    """
    open_ids = {p.id for p in context.projects}
    for earlier in sorted(context.thread, key=lambda t: t.date.timestamp() if t.date else 0.0, reverse=True):
        if earlier.project_id is not None and (not open_ids or earlier.project_id in open_ids):
            return _sure(earlier.project_id, "same thread")

    sender = (
        parse_address(prepared.forwarded_from)[1] if prepared.forwarded_from else ""
    ) or email.from_address.lower()
    taught_senders: dict[str, set[int]] = {}
    taught_domains: dict[str, set[int]] = {}
    taught_words: dict[int, set[str]] = {}
    for signal in context.taught:
        if signal.project_id not in open_ids:
            continue
        if signal.kind == "sender":
            taught_senders.setdefault(signal.value.lower(), set()).add(signal.project_id)
        elif signal.kind == "domain":
            taught_domains.setdefault(signal.value.lower(), set()).add(signal.project_id)
        else:
            taught_words.setdefault(signal.project_id, set()).add(signal.value.lower())
    for address in dict.fromkeys([sender, party.address if party else ""]):
        projects = taught_senders.get(address, set())
        if len(projects) == 1:
            return _sure(next(iter(projects)), "taught: this sender")

    noise = noise_kind(email, prepared, context, party)
    if noise:
        return ProjectDecision(action="none", confidence=0.9, noise=noise, reason=f"not project mail ({noise})")

    subject = normalise_subject(prepared.forwarded_subject or email.subject)
    subject_tokens = _tokens(f"{email.subject} {prepared.forwarded_subject}")
    body_tokens = _tokens(prepared.body[:2000])
    haystack = f"{email.subject} {prepared.forwarded_subject}\n{prepared.body}".lower()
    new_cue = NEW_PROJECT_CUE.search(f"{email.subject}\n{prepared.body[:600]}") is not None
    addresses = {a.lower() for a in ADDRESS.findall(f"{email.subject}\n{prepared.forwarded_subject}\n{prepared.body}")}

    vocab = {p.id: _vocabulary(p, taught_words.get(p.id, set())) for p in context.projects}
    clients = {p.id: _tokens(_client_words(p)) for p in context.projects}
    word_projects: dict[str, int] = {}
    for words in vocab.values():
        for word in words:
            word_projects[word] = word_projects.get(word, 0) + 1

    def client_of(project: ProjectRef) -> bool:
        if party is None:
            return False
        if project.client_email and project.client_email.lower() == party.address:
            return True
        if party.domain in GENERIC_MAIL_DOMAINS:
            return False
        return address_domain(project.client_email) == party.domain or project.id in taught_domains.get(
            party.domain, set()
        )

    same_client = [p for p in context.projects if client_of(p)]
    evidence: dict[int, float] = {}
    why: dict[int, str] = {}
    for project in context.projects:
        score = 0.0
        reasons = []
        if project in same_client:
            score += 2.0
            reasons.append("the client's address")
        # Subject words: one only this project has counts fully, one it shares with others a little.
        # The client's name says whose project, not which of theirs: it counts once.
        mine = _overlap(subject_tokens, vocab[project.id] - clients[project.id])
        for word in mine:
            shared = sum(1 for w, n in word_projects.items() if n > 1 and _same_word(w, word))
            score += 1.0 if not shared else 0.3
        if mine:
            reasons.append("subject words")
        if project not in same_client and _overlap(subject_tokens, {w for w in clients[project.id] if len(w) >= 5}):
            score += 1.0
            reasons.append("the client's name")
        if subject and any(normalise_subject(s) == subject for s in project.recent_subjects) and _tokens(subject):
            score += 2.0
            reasons.append("same subject")
        names = [project.name] if len(_tokens(project.name)) >= 2 or len(project.name) >= 8 else []
        for label in [*names, *project.aliases]:
            label = label.strip().lower()
            if len(label) >= 4 and re.search(r"(?<!\w)" + re.escape(label) + r"(?!\w)", haystack):
                score += 2.0
                reasons.append("its name")
                break
        known_text = " ".join([project.name, *project.aliases, *project.recent_subjects]).lower()
        if any(a in known_text for a in addresses):
            score += 2.0
            reasons.append("its site")
        score += 0.5 * min(len(_overlap(body_tokens, vocab[project.id] - clients[project.id])), 4)
        score += min(len({w for w in _overlap(body_tokens, clients[project.id]) if len(w) >= 5}), 2)
        evidence[project.id] = score
        why[project.id] = ", ".join(reasons) or "shared words"

    proposed: Candidate | None = None
    if party is not None:
        proposed = Candidate(
            project_id=None,
            score=0.0,
            name=project_name(prepared.forwarded_subject or email.subject, party),
            client_name=party.name,
            client_email=party.address,
        )
    # How strongly the mail asks for a project of its own: a party nobody filed before, a cue
    # ("new project"), a subject that no open project's words explain.
    new_evidence = 0.0
    if proposed is not None:
        new_evidence = 1.0
        if not same_client:
            new_evidence += 1.5
        if new_cue:
            new_evidence += 3.0
        if same_client and _names_something_new(email, prepared, context, same_client, vocab, clients):
            new_evidence += 1.5  # "Paddington fit-out" from the client of "Newstead fit-out"

    ranked = sorted(context.projects, key=lambda p: evidence[p.id], reverse=True)
    top = ranked[0] if ranked else None
    top_score = evidence[top.id] if top else 0.0
    second = evidence[ranked[1].id] if len(ranked) > 1 else 0.0

    def new_project(confidence: float, reason: str) -> ProjectDecision:
        assert proposed is not None
        others = [Candidate(project_id=p.id, score=round(min(evidence[p.id] / 6, 0.4), 2)) for p in ranked[:2]]
        return ProjectDecision(
            action="new",
            name=proposed.name,
            client_name=proposed.client_name,
            client_email=proposed.client_email,
            confidence=confidence,
            reason=reason,
            candidates=[replace(proposed, score=confidence), *[c for c in others if c.score > 0]],
        )

    def existing(confidence: float) -> ProjectDecision:
        assert top is not None
        candidates = [Candidate(project_id=top.id, score=confidence)]
        if second > 0:
            candidates.append(Candidate(project_id=ranked[1].id, score=round(min(second / 6, confidence - 0.05), 2)))
        if proposed is not None and len(candidates) < 3:
            candidates.append(replace(proposed, score=round(min(new_evidence / 6, 0.4), 2)))
        return ProjectDecision(
            action="existing", project_id=top.id, confidence=confidence, reason=why[top.id], candidates=candidates
        )

    # Pipedrive's rule, with words to break ties: the client's only open project takes its mail
    # unless the subject plainly starts something new; between two projects of one client, only
    # words that one of them has decide, and without them a person is asked.
    if top is not None and top in same_client:
        rivals = [evidence[p.id] for p in same_client if p is not top]
        if not rivals:
            if new_evidence >= 2.5 and proposed is not None:
                return new_project(0.45, "a new subject from a known client")
            # A subject of its own that shares no word with the project: likely, not sure.
            topic = _tokens(prepared.forwarded_subject or email.subject) - clients[top.id]
            topic -= _tokens(context.organization_name)
            if len(topic) >= 2 and not _overlap(topic, vocab[top.id]):
                return existing(0.55)
            return existing(0.8)
        return existing(0.75 if top_score - max(rivals) >= 1.0 else 0.45)
    # A third party (a supplier, a council) or our own people: the words alone; our own people
    # share the projects' words in everything they write (a leave request names the app), so
    # their mail needs more of them.
    needed = 2.0 if party is not None else 3.0
    if top is not None and top_score >= needed and top_score - second >= 1.0:
        return existing(0.75)
    if proposed is not None:
        return new_project(0.75 if top_score < 1.0 else 0.45, "a new client" if top_score < 1.0 else "a new sender")
    # Our own people: about a project only when its words are plain; else internal, not asked about.
    if top is not None and top_score >= 1.0:
        return existing(0.45)
    return ProjectDecision(action="none", confidence=0.6, noise="internal", reason="our own people, no project named")


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
        if hint is not None and upcoming and not NEGATION.search(text) and not AWAY.search(text):
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
    from extraction.titles import event_title  # the title stage (extraction/titles.py)

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
            DateMention(m.start - sentence.start, m.end - sentence.start, m.text, m.date, m.exact, m.bare_weekday)
            for m in mentions
            if m.start >= sentence.start and m.end <= end
        ]
        if text.endswith(":") and not inside:
            continue  # a lead-in, the list below it carries the events
        if HEADER_LINE.match(text) or DISCLAIMER.search(text):
            continue  # a forwarded message's header block or a legal footer: no plans in it
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
            before = previous_sentence.text if previous_sentence is not None else ""
            before_mentions = [
                m
                for m in mentions
                if previous_sentence is not None
                and m.start >= previous_sentence.start
                and m.end <= previous_sentence.start + len(before)
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
            if kind in {"meeting", "deadline"} and not clause_exact:
                continue
            if kind == "action_item" and NEGATION.search(clause) and not clause_exact:
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
    r"riservat[oa] e confidenzial|denne e-?post(?:en)? kan inneholde|detta e-?postmeddelande|dit e-?mailbericht is)",
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
    return fixed


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
