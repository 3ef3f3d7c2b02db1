"""On-screen text from a product's description and the user's instructions: whole sentences,
short phrases, and text without emoji."""

from __future__ import annotations

import re
import unicodedata

_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+|\s+[\u2022\u00b7|]\s*|^\s*[-*\u2022]\s+|\s+-\s+|\s+\u2013\s+", re.MULTILINE)
_TAGS = re.compile(r"<[^>]+>")
_WEAK_END = {"and", "or", "with", "for", "the", "a", "an", "of", "to", "in", "on", "at", "by", "&", "your", "our"}
_IMPERATIVE = re.compile(
    r"^(please\s+)?(make|show|use|focus|highlight|emphasi[sz]e|include|add|keep|mention|feature|"
    r"create|display|put|let|try|give|avoid|do|don't|no)\b",
    re.IGNORECASE,
)


def sentences(text: str) -> list[str]:
    raw = _TAGS.sub(" ", text or "")
    parts = [" ".join(p.split()) for p in _SENTENCE.split(raw)]
    return [p.strip(" .;:!-\u2013\u2014") for p in parts if p and p.strip(" .;:!-")]


def bullets(description: str, instructions: str = "", title: str = "", n_max: int = 4,
            max_chars: int = 60) -> list[str]:
    """Up to ``n_max`` spec call-outs, the merchant's instructions first, then the description:
    whole sentences (or the parts of one that a semicolon or a dash separates) short enough
    for a call-out. A longer sentence is left out, never cut into a fragment."""
    found: list[str] = []
    for source in (instructions, description):
        for sentence in sentences(source):
            if source is instructions and _IMPERATIVE.match(sentence):
                continue  # a directive ("Focus on ..."), not copy to show
            if 3 <= len(sentence) <= max_chars and sentence.lower() not in {f.lower() for f in found}:
                found.append(_cap(sentence))
            if len(found) >= n_max:
                return found
    return found or [title]


def tagline(description: str, instructions: str, title: str, max_chars: int = 60) -> str:
    """One short line for the lifestyle recipe: the user's words first, then the description;
    a whole sentence, else the title."""
    for source in (instructions, description):
        for sentence in sentences(source):
            if source is instructions and _IMPERATIVE.match(sentence):
                continue
            if len(sentence.split()) >= 2 and len(sentence) <= max_chars:
                return _cap(sentence)
    return title or "Made for you"


def phrases(text: str, duration: float, *, max_words: int = 5, min_slot: float = 1.3) -> list[str]:
    """Split text into short caption phrases, as many as fit ``duration`` (>= ``min_slot`` each)."""
    out: list[str] = []
    for sentence in sentences(text):
        first = True
        for clause in re.split(r",\s+|;\s+", sentence):
            words = clause.split()
            if not words:
                continue
            chunks = max(1, -(-len(words) // max_words))
            size = -(-len(words) // chunks)
            i = 0
            while i < len(words):
                chunk = words[i:i + size]
                # never end a phrase on "the", "and", "with"...: carry it to the next one
                while len(chunk) > 2 and i + len(chunk) < len(words) and chunk[-1].lower() in _WEAK_END:
                    chunk = chunk[:-1]
                i += len(chunk)
                phrase = " ".join(chunk).strip(" ,;:")
                out.append(_cap(phrase) if first else phrase)
                first = False
    out = [p for p in out if p]
    limit = max(1, int(duration // min_slot))
    return out[:limit]


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


# Pictographs, dingbats, flags, keycaps, skin tones and the joiners between them: spoken as
# nothing and drawn as empty boxes by most fonts, so a script and its captions leave them out.
_EMOJI = re.compile(
    "["
    "\U0001F000-\U0001FAFF"  # pictographs, emoticons, transport, flags' regional letters
    "\u2600-\u27BF"  # miscellaneous symbols and dingbats
    "\u2B00-\u2BFF"  # arrows and stars (the star emoji)
    "\u2300-\u23FF"  # watch, hourglass, alarm clock…
    "\uFE00-\uFE0F"  # variation selectors
    "\u200D\u20E3"  # zero-width joiner, combining keycap
    "\U000E0020-\U000E007F"  # tag characters (subdivision flags)
    "]+"
)


def strip_emoji(text: str) -> str:
    """``text`` without emoji, and without the double spaces they leave behind."""
    stripped = _EMOJI.sub(" ", text or "")
    return "\n".join(" ".join(line.split()) for line in stripped.split("\n")).strip()


def is_rtl(text: str) -> bool:
    """Whether the first letter with a strong direction is right-to-left (Arabic, Hebrew…)."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False
