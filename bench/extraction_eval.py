"""Measure the rules provider on a labelled set of .eml files, and size the Claude prompt.

    .venv/bin/python bench/extraction_eval.py [--data tests/data/labelled] [--verbose] [--json | --markdown]

`--markdown` prints the "## Extraction" section of BENCHMARKS.md (bench/run.py writes it) for
both labelled sets, with a naive baseline measured in the same run: emails grouped by
normalised subject only, and every date found in the text taken as a meeting.

The emails are processed in Date order through an in-memory copy of the pipeline (context
as events.extraction_inputs builds it, project matching as events.apply does it: thread, then the
provider's match, then a project with the proposed name, else a new project), so project
grouping is measured the way the product groups mail.

Metrics
- project grouping, pairwise: over all pairs of emails, a pair is "together" when both are
  in the same project (emails filed nowhere are together with nobody). Precision, recall, F1.
- events: per email, the multiset of (kind, date) found vs labelled; F1 over all emails.
  Also (date only) to separate date errors from kind errors.
- "none" accuracy: emails labelled as belonging to no project that were filed nowhere.

Prompt size (no network, no tokenizer for Claude 5.x is public): tokens ≈ characters / 4,
then ×1.3 for Haiku 5.5's newer tokenizer (Anthropic's pricing page). The cacheable prefix is the system
prompt plus the output schema; the per-email part is the user message as built for each
labelled email.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from statistics import mean

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extraction.dates import find_dates  # noqa: E402
from extraction.prices import cost_usd  # noqa: E402
from extraction.prompt import SYSTEM_PROMPT, user_message  # noqa: E402
from extraction.providers import rules  # noqa: E402
from extraction.schema import OUTPUT_SCHEMA  # noqa: E402
from extraction.text import normalise_subject, prepare  # noqa: E402
from extraction.types import Context, EmailInput, EventRef, Extraction, ProjectRef, ThreadEmail  # noqa: E402

DEFAULT_DATA = ROOT / "tests" / "data" / "labelled"
MODEL = "claude-haiku-5-5"
# config.settings.PROJECTR_FILING_THRESHOLD's default (this script runs without Django).
FILING_THRESHOLD = 0.6
TOKENIZER_FACTOR = 1.3


def email_from_file(path: Path) -> EmailInput:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    body = message.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else ""
    date_header = message.get("Date")
    return EmailInput(
        message_id=str(message.get("Message-ID", "")).strip(),
        subject=str(message.get("Subject", "")),
        from_address=(getaddresses([str(message.get("From", ""))]) or [("", "")])[0][1],
        from_name=(getaddresses([str(message.get("From", ""))]) or [("", "")])[0][0],
        to=[f"{n} <{a}>" if n else a for n, a in getaddresses([str(message.get("To", ""))])],
        cc=[f"{n} <{a}>" if n else a for n, a in getaddresses([str(message.get("Cc", ""))])],
        date=parsedate_to_datetime(str(date_header)) if date_header else None,
        text=text,
        headers=[(k, str(v)) for k, v in message.items()],
        in_reply_to=str(message.get("In-Reply-To", "")).strip(),
        references=str(message.get("References", "")).split(),
    )


@dataclass
class Project:
    id: int
    name: str
    client_name: str
    client_email: str
    subjects: list[str] = field(default_factory=list)


@dataclass
class Event:
    id: int
    project_id: int
    kind: str
    title: str
    date: date | None
    active: bool = True


class Pipeline:
    """The pipeline's matching and applying, in memory."""

    def __init__(self, organization_domains: list[str]) -> None:
        self.organization_domains = organization_domains
        self.projects: dict[int, Project] = {}
        self.email_projects: dict[str, int | None] = {}
        self.events: list[Event] = []
        self.sender_projects: dict[str, set[int]] = {}
        self.last_unfiled = False

    def context(self, email: EmailInput) -> Context:
        ids = [i for i in [email.in_reply_to, *email.references] if i]
        thread = [
            ThreadEmail(message_id=i, subject="", project_id=self.email_projects.get(i))
            for i in ids
            if i in self.email_projects
        ]
        likely = {t.project_id for t in thread if t.project_id is not None} or set(self.projects)
        since = email.date.date() - timedelta(days=60) if email.date else date.min
        recent = [
            EventRef(id=e.id, kind=e.kind, title=e.title, date=e.date, project_id=e.project_id)
            for e in sorted(self.events, key=lambda e: (e.date or date.min, e.id))
            if e.active and e.project_id in likely and e.date and e.date >= since
        ][:40]
        projects = [
            ProjectRef(
                id=p.id,
                name=p.name,
                client_name=p.client_name,
                client_email=p.client_email,
                recent_subjects=p.subjects[-5:][::-1],
            )
            for p in sorted(self.projects.values(), key=lambda p: -p.id)
        ]
        # As events.extraction_inputs does: a company domain that wrote in two projects is ours.
        clients = {p.client_email.rpartition("@")[2].lower() for p in self.projects.values()}
        busy = [
            d
            for d, ids in self.sender_projects.items()
            if len(ids) >= 2 and d not in rules.GENERIC_MAIL_DOMAINS and d not in clients
        ]
        return Context(
            projects=projects,
            thread=thread,
            recent_events=recent,
            organization_domains=sorted({*self.organization_domains, *busy}),
        )

    def apply(self, email: EmailInput, result: Extraction) -> int | None:
        project_id: int | None = None
        for ref in [email.in_reply_to, *email.references]:
            if self.email_projects.get(ref) is not None:
                project_id = self.email_projects[ref]
                break
        decision = result.project
        # As events.apply.project_decide: below the threshold the email waits, Unfiled.
        self.last_unfiled = False
        if project_id is None and not (decision.sure or decision.confidence >= FILING_THRESHOLD):
            self.last_unfiled = decision.action != "none"
            self.email_projects[email.message_id] = None
            return None
        if project_id is None and decision.action == "existing" and decision.project_id in self.projects:
            project_id = decision.project_id
        if project_id is None and decision.action == "new":
            same = [p.id for p in self.projects.values() if p.name.lower() == decision.name.lower()]
            if same:
                project_id = same[0]
            else:
                project_id = len(self.projects) + 1
                self.projects[project_id] = Project(
                    project_id, decision.name, decision.client_name, decision.client_email
                )
        self.email_projects[email.message_id] = project_id
        if project_id is None:
            return None
        self.projects[project_id].subjects.append(email.subject)
        domain = email.from_address.rpartition("@")[2].lower()
        self.sender_projects.setdefault(domain, set()).add(project_id)
        for item in result.events:
            if item.updates_event_id is not None:
                for event in self.events:
                    if event.id == item.updates_event_id:
                        event.active = False
                if item.update_action == "cancel":
                    continue
            self.events.append(Event(len(self.events) + 1, project_id, item.kind, item.title, item.date))
        return project_id


def pairwise(gold: list[str | None], predicted: list[int | None]) -> tuple[float, float, float]:
    tp = fp = fn = 0
    for i in range(len(gold)):
        for j in range(i + 1, len(gold)):
            same_gold = gold[i] is not None and gold[i] == gold[j]
            same_pred = predicted[i] is not None and predicted[i] == predicted[j]
            tp += same_gold and same_pred
            fp += same_pred and not same_gold
            fn += same_gold and not same_pred
    return prf(tp, fp, fn)


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def naive_baseline(data: Path) -> dict[str, float]:
    """Subject-only grouping and every date as a meeting: what the rules must beat."""
    labels = json.loads((data / "labels.json").read_text())
    gold: list[str | None] = []
    groups: list[int | None] = []
    subjects: dict[str, int] = {}
    counts = Counter[str]()
    for name, label in labels["emails"].items():
        email = email_from_file(data / name)
        key = normalise_subject(email.subject)
        groups.append(subjects.setdefault(key, len(subjects) + 1))
        gold.append(label["project"])
        base = email.date
        body = prepare(email).body
        found = (
            Counter(("meeting", m.date.isoformat()) for m in find_dates(body, base, day_first=True))
            if base
            else Counter()
        )
        wanted = Counter((kind, when) for kind, when in label["events"])
        counts["tp"] += sum((found & wanted).values())
        counts["fp"] += sum((found - wanted).values())
        counts["fn"] += sum((wanted - found).values())
    return {"project_f1": pairwise(gold, groups)[2], "event_f1": prf(counts["tp"], counts["fp"], counts["fn"])[2]}


def evaluate(data: Path, verbose: bool = False, unknown_org: bool = False) -> dict[str, object]:
    """`unknown_org`: pretend the firm's own domains are not known (no members on that domain)."""
    labels = json.loads((data / "labels.json").read_text())
    entries = []
    for name, label in labels["emails"].items():
        entries.append((email_from_file(data / name), name, label))
    entries.sort(key=lambda item: (item[0].date.timestamp() if item[0].date else 0, item[1]))

    pipeline = Pipeline([] if unknown_org else labels.get("organization_domains", []))
    gold_projects: list[str | None] = []
    predicted_projects: list[int | None] = []
    counts = Counter[str]()
    user_chars: list[int] = []
    output_chars: list[int] = []
    for email, name, label in entries:
        context = pipeline.context(email)
        user_chars.append(len(user_message(email, context, prepare(email))))
        result = rules.extract(email, context)
        project_id = pipeline.apply(email, result)
        gold_projects.append(label["project"])
        predicted_projects.append(project_id)
        found = (
            Counter((e.kind, e.date.isoformat() if e.date else None) for e in result.events)
            if project_id or pipeline.last_unfiled  # an unfiled email's events wait on its page
            else Counter()
        )
        wanted = Counter((kind, when) for kind, when in label["events"])
        counts["tp"] += sum((found & wanted).values())
        counts["fp"] += sum((found - wanted).values())
        counts["fn"] += sum((wanted - found).values())
        found_dates = Counter(when for _, when in found.elements())
        wanted_dates = Counter(when for _, when in wanted.elements())
        counts["dtp"] += sum((found_dates & wanted_dates).values())
        counts["dfp"] += sum((found_dates - wanted_dates).values())
        counts["dfn"] += sum((wanted_dates - found_dates).values())
        if label["project"] is None:
            counts["none_total"] += 1
            counts["none_ok"] += project_id is None
        output_chars.append(
            len(
                json.dumps(
                    {"project": {}, "summary": result.summary, "events": [e.__dict__ for e in result.events]},
                    default=str,
                )
            )
            + 120
        )
        if verbose and (found != wanted):
            print(f"{name}: project={project_id} gold={label['project']}")
            print(f"   missing {sorted(wanted - found, key=str)}  extra {sorted(found - wanted, key=str)}")
    if verbose:
        names = {p.id: p.name for p in pipeline.projects.values()}
        print("projects:", names)

    project_p, project_r, project_f = pairwise(gold_projects, predicted_projects)
    event_p, event_r, event_f = prf(counts["tp"], counts["fp"], counts["fn"])
    date_p, date_r, date_f = prf(counts["dtp"], counts["dfp"], counts["dfn"])

    prefix_chars = len(SYSTEM_PROMPT) + len(json.dumps(OUTPUT_SCHEMA))
    prefix_tokens = round(prefix_chars / 4 * TOKENIZER_FACTOR)
    per_email_tokens = round(mean(user_chars) / 4 * TOKENIZER_FACTOR)
    output_tokens = round(mean(output_chars) / 4 * TOKENIZER_FACTOR)
    uncached = cost_usd(MODEL, input_tokens=prefix_tokens + per_email_tokens, output_tokens=output_tokens)
    cached = cost_usd(
        MODEL, input_tokens=per_email_tokens, cache_read_tokens=prefix_tokens, output_tokens=output_tokens
    )
    first = cost_usd(
        MODEL, input_tokens=per_email_tokens, cache_write_tokens=prefix_tokens, output_tokens=output_tokens
    )
    return {
        "emails": len(entries),
        "projects_labelled": len({g for g in gold_projects if g}),
        "projects_created": len(pipeline.projects),
        "project_pairwise": {"precision": project_p, "recall": project_r, "f1": project_f},
        "events": {"precision": event_p, "recall": event_r, "f1": event_f, "labelled": counts["tp"] + counts["fn"]},
        "event_dates_only": {"precision": date_p, "recall": date_r, "f1": date_f},
        "no_project_correct": f"{counts['none_ok']}/{counts['none_total']}",
        "prompt": {
            "prefix_chars": prefix_chars,
            "prefix_tokens": prefix_tokens,
            "per_email_tokens_mean": per_email_tokens,
            "output_tokens_mean": output_tokens,
            "model": MODEL,
            "usd_per_email_uncached": str(uncached),
            "usd_per_email_cached": str(cached),
            "usd_per_email_cache_write": str(first),
            "usd_per_1000_emails_cached": str((cached * 1000).quantize(Decimal("0.01"))),
        },
    }


SETS = [
    (
        "labelled",
        "47 emails, 11 projects (+4 with none), senders from 8 countries; the rules were tuned on it (their first version scored F1 0.843 / 0.662)",
    ),
    ("labelled_fresh", "17 emails of a video producer, written after tuning; first run F1 0.927 / 0.636, then tuned"),
    ("labelled_us", "15 emails of a US architect, written later still; first run F1 1.000 / 0.711, then tuned"),
    ("labelled_ie", "11 emails of an Irish event planner; first run F1 0.857 / 0.643, then tuned"),
    ("labelled_web", "10 emails of a web agency; first run F1 1.000 / 0.732, then tuned"),
    ("labelled_ca", "10 terse emails of a Canadian roofer; first run F1 0.839 / 0.688, then tuned"),
    ("labelled_de", "8 German emails of a design agency; first run F1 1.000 / 0.759, then tuned"),
    ("labelled_uk", "7 formal emails of a UK consultancy; first run F1 1.000 / 0.629, then tuned"),
    ("labelled_au", "8 emails of an Australian landscaper, written last; first run F1 0.833 / 0.769, then tuned"),
]


def markdown() -> str:
    lines = [
        "## Extraction",
        "",
        "Rules provider (offline default) on the labelled sets in tests/data/ (`bench/extraction_eval.py`):",
        "project grouping is pairwise over emails in Date order through an in-memory copy of the pipeline;",
        "events are (kind, date) pairs per email. Naive baseline, same run: group by normalised subject,",
        "every date in the text a meeting.",
        "",
        "| set | emails | grouping P / R / F1 | events P / R / F1 | dates only F1 | no-project right | baseline grouping F1 | baseline events F1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    prompt: dict[str, object] = {}
    runs = [(folder, False) for folder, _ in SETS] + [(folder, True) for folder, _ in SETS]
    for folder, unknown_org in runs:
        data = ROOT / "tests" / "data" / folder
        result = evaluate(data, unknown_org=unknown_org)
        base = naive_baseline(data)
        pp, ev, do = result["project_pairwise"], result["events"], result["event_dates_only"]
        label = f"{folder} (own domains unknown)" if unknown_org else folder
        lines.append(
            f"| {label} | {result['emails']} | {pp['precision']:.3f} / {pp['recall']:.3f} / {pp['f1']:.3f} | "  # type: ignore[index]
            f"{ev['precision']:.3f} / {ev['recall']:.3f} / {ev['f1']:.3f} | {do['f1']:.3f} | "  # type: ignore[index]
            f"{result['no_project_correct']} | {base['project_f1']:.3f} | {base['event_f1']:.3f} |"
        )
        if folder == "labelled" and not unknown_org:
            prompt = result["prompt"]  # type: ignore[assignment]
    lines += [
        "",
        *(f"- {folder}: {note}." for folder, note in SETS),
        "- own domains unknown: the firm's domains are not given (no member on them); the rules must tell"
        " staff from clients by name likeness and by who writes in several projects.",
        "- Best estimate for unseen mail: the mean first-run score of the eight sets written after the first"
        " tuning, each measured before the rules saw it: grouping F1 0.93, events F1 0.70 (later sets score"
        " higher: 0.64 → 0.77 on events).",
        "",
    ]
    lines += [
        f"Claude prompt size for the default model `{prompt['model']}` (estimated offline: characters / 4, "
        f"×{TOKENIZER_FACTOR} for Haiku 5.5's newer tokenizer; no public tokenizer for 5.x):",
        "",
        "| part | tokens |",
        "|---|---|",
        f"| cacheable prefix (system prompt + output schema, {prompt['prefix_chars']} chars) | {prompt['prefix_tokens']} |",
        f"| per email (context + email, mean over the labelled set) | {prompt['per_email_tokens_mean']} |",
        f"| output (JSON, mean, estimated from the rules' answers; thinking at effort low not counted) | {prompt['output_tokens_mean']} |",
        "",
        "Cost per email at list prices (USD, extraction/prices.py):",
        f"uncached {prompt['usd_per_email_uncached']}; prefix cached (read) {prompt['usd_per_email_cached']}; "
        f"the call that writes the cache {prompt['usd_per_email_cache_write']}; "
        f"1,000 emails with a warm cache ≈ ${prompt['usd_per_1000_emails_cached']}. Batch API: half of each.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--unknown-org", action="store_true", help="do not tell the rules the firm's own domains")
    args = parser.parse_args()
    if args.markdown:
        print(markdown())
        return
    result = evaluate(args.data, verbose=args.verbose, unknown_org=args.unknown_org)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return
    pp, ev, do = result["project_pairwise"], result["events"], result["event_dates_only"]
    print(
        f"{result['emails']} emails, {result['projects_labelled']} labelled projects, {result['projects_created']} created"
    )
    print(f"project grouping pairwise  P {pp['precision']:.3f}  R {pp['recall']:.3f}  F1 {pp['f1']:.3f}")  # type: ignore[index]
    print(
        f"events (kind, date)        P {ev['precision']:.3f}  R {ev['recall']:.3f}  F1 {ev['f1']:.3f}  ({ev['labelled']} labelled)"
    )  # type: ignore[index]
    print(f"event dates only           P {do['precision']:.3f}  R {do['recall']:.3f}  F1 {do['f1']:.3f}")  # type: ignore[index]
    print(f"no-project emails filed nowhere: {result['no_project_correct']}")
    print(json.dumps(result["prompt"], indent=2))


if __name__ == "__main__":
    main()
