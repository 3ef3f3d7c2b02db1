"""Short on-screen phrases derived from a product's description and the user's instructions."""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+|\s+[\u2022\u00b7|]\s*|^\s*[-*\u2022]\s+|\s+-\s+|\s+\u2013\s+", re.MULTILINE)
_TAGS = re.compile(r"<[^>]+>")
_WEAK_END = {"and", "or", "with", "for", "the", "a", "an", "of", "to", "in", "on", "at", "by", "&", "your", "our"}
_IMPERATIVE = re.compile(
    r"^(please\s+)?(make|show|use|focus|highlight|emphasi[sz]e|include|add|keep|mention|feature|"
    r"create|display|put|let|try|give|avoid|do|don't|no)\b",
    re.IGNORECASE,
)


def clean(text: str) -> str:
    text = _TAGS.sub(" ", text or "")
    text = text.replace("&amp;", "&").replace("&nbsp;", " ")
    return " ".join(text.split())


def sentences(text: str) -> list[str]:
    raw = _TAGS.sub(" ", text or "")
    parts = [" ".join(p.split()) for p in _SENTENCE.split(raw)]
    return [p.strip(" .;:!-\u2013\u2014") for p in parts if p and p.strip(" .;:!-")]


def shorten(phrase: str, max_words: int, max_chars: int) -> str:
    words = phrase.split()
    if len(words) <= max_words and len(phrase) <= max_chars:
        return phrase.strip(" ,;:")
    words = words[:max_words]
    while words and len(" ".join(words)) > max_chars:
        words.pop()
    while len(words) > 2 and words[-1].lower().strip(",;:") in _WEAK_END:
        words.pop()
    return " ".join(words).strip(" ,;:") or phrase[:max_chars].strip()


def bullets(description: str, instructions: str = "", title: str = "", n_max: int = 4) -> list[str]:
    """2-4 short spec call-outs: sentences and their comma clauses, cut to a few words."""
    found: list[str] = []
    for source in (description, instructions):
        for sentence in sentences(source):
            clauses = [sentence] if len(sentence) <= 60 else [
                c.strip() for c in re.split(r",|\(|\)| with ", sentence)]
            for clause in clauses:
                phrase = shorten(clause, 10, 60)
                if len(phrase) >= 3 and phrase.lower() not in {f.lower() for f in found}:
                    found.append(_cap(phrase))
                if len(found) >= n_max:
                    return found
        if len(found) >= 2:
            return found
    generic = ["Thoughtful, durable design", "Premium materials", "Ready for everyday use"]
    for g in generic:
        if len(found) >= 2:
            break
        found.append(g)
    return found[:n_max]


def tagline(description: str, instructions: str, title: str) -> str:
    """One short line for the lifestyle recipe: the user's words first, then the description."""
    for source in (instructions, description):
        for sentence in sentences(source):
            if source is instructions and _IMPERATIVE.match(sentence):
                continue  # a directive ("Focus on ..."), not copy to show
            if len(sentence.split()) >= 2:
                return _cap(shorten(sentence, 9, 60))
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
