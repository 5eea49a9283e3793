"""The project decision of the rules provider: who the client is, what a new project is called,
whether the mail is project mail at all, and where it belongs with how sure that is
(docs/extraction.md, "Filing")."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from extraction.text import PreparedText, address_domain, normalise_subject, parse_address, skip_reason
from extraction.types import Candidate, Context, EmailInput, ProjectDecision, ProjectRef
from extraction.words import (
    GENERIC_MAIL_DOMAINS,
    GENERIC_WORDS,
    MONTH_AND_DAY_WORDS,
    _folded,
    _overlap,
    _same_word,
    _squash,
    _tokens,
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
