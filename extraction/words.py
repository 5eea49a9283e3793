"""Words: tokens as the rules compare them, and the words that say nothing about a project.

Shared by the filing decision (extraction.project_decision) and the event rules (extraction.providers.rules).
"""

from __future__ import annotations

import re
import unicodedata

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


def _squash(word: str) -> str:
    folded = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]", "", folded)


def _rx(*words: str) -> re.Pattern[str]:
    # \w boundaries (not hyphens), so "Vor-Ort-Termin" still contains "Termin".
    return re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)", re.IGNORECASE)
