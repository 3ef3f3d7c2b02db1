"""The ad script of a video: a hook, two to four benefit lines and a call to action.

When the merchant writes instructions, those are the script: their sentences, whole and in
their order. Otherwise the script is written from the product with deterministic rules that
only ever take whole sentences (or whole clauses split at a semicolon or a dash), never a
phrase cut out of one. Pure functions: no Flask, no database.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ..render.spec import MAX_SCRIPT_LINES
from ..render.textutil import strip_emoji
from ..render.voice import estimated_speech_s

WRITTEN_LINE_CHARS = 160  # a line the writer makes: what reads as one line in the form (the contract allows 200)
HOOK_MAX_WORDS = 4  # read in about 1.5 s
BENEFIT_MAX_WORDS = 14
BENEFIT_MAX_CHARS = 90
DEFAULT_CTA = "Shop now"
# A take runs between these times its estimate: a written script is cut to fit with the high
# one; a merchant's is refused before the render only when even the low one does not fit.
SPEECH_ESTIMATE_LOW, SPEECH_ESTIMATE_MARGIN = 0.75, 1.3

_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "approx.", "incl.", "no.", "mr.", "mrs.", "ms.",
                  "dr.", "st.", "inc.", "ltd.", "co.")
_SENTENCE_END = re.compile(r"(?<=[.!?\u2026])[\"'\u201d\u2019)\]]*\s+")
_BREAK_TAGS = re.compile(r"<\s*(br|/p|/li|/div|/h\d|li)\b[^>]*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")
_BULLET = re.compile(r"^\s*(?:[-*\u2022\u00b7\u2013\u2014]|\d+[.)])\s+")
_MARKDOWN = re.compile(r"\*\*|__|^#+\s*", re.MULTILINE)
_CLAUSE_BREAK = re.compile(r"\s*;\s+|\s+[\u2013\u2014-]\s+")
_TITLE_TAIL = re.compile(r"\s+(?:[-|\u2013\u2014(,/]|with\s|for\s).*$", re.IGNORECASE)
_CTA_START = re.compile(
    r"^(shop|buy|order|get (yours|it|one)|grab|discover|try|visit|tap|click|add (it )?to|"
    r"pick (one|it) up|check (it )?out|link in)\b", re.IGNORECASE)
_WORD = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class Script:
    hook: str
    benefits: tuple[str, ...]
    cta: str

    @property
    def lines(self) -> tuple[str, ...]:
        """What is spoken, in order: the hook, the benefits, the call to action."""
        return tuple(line for line in (self.hook, *self.benefits, self.cta) if line)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def write_script(
    *,
    title: str,
    description: str,
    price: str | None,
    compare_at_price: str | None,
    instructions: str,
    cta: str = DEFAULT_CTA,
    speech_room_s: float | None = None,
) -> Script:
    """The script of a new video: the merchant's instructions when there are any, else one
    written from the product's title, description and prices — as much of it as can be said in
    ``speech_room_s`` (a short video says its hook and call to action, and what fits between)."""
    cta_line = _as_line(clean_text(cta)) or _as_line(DEFAULT_CTA)
    said = sentences(instructions)
    if said:
        if len(said) >= 2 and _CTA_START.match(said[-1]) and len(said[-1].split()) <= 8:
            cta_line = said.pop()  # the merchant wrote their own call to action
        lines = [part for sentence in said for part in _short_lines(sentence)]
        return Script(lines[0], tuple(_joined(lines[1:], MAX_SCRIPT_LINES - 2)), cta_line)
    price_line = _price_line(price, compare_at_price)
    benefits = _benefits(description, title, limit=3 if price_line else 4)
    if price_line:
        benefits.append(price_line)
    for filler in ("Take a closer look.", "Available now."):
        if len(benefits) >= 2:
            break
        benefits.append(filler)
    script = Script(_hook(title), tuple(benefits), cta_line)
    return script if speech_room_s is None else _fitted(script, speech_room_s, keep=price_line)


def _fitted(script: Script, room_s: float, keep: str | None) -> Script:
    """``script`` without what would not leave time to say the rest in ``room_s``: benefits from
    the last (``keep``, the price, goes after the others), then the call to action, which the
    end card shows anyway. The hook stays."""
    def fits(benefits: list[str], cta: str) -> bool:
        return estimated_speech_s(Script(script.hook, tuple(benefits), cta).lines) * SPEECH_ESTIMATE_MARGIN <= room_s
    benefits = list(script.benefits)
    while benefits and not fits(benefits, script.cta):
        benefits.remove(next((line for line in reversed(benefits) if line != keep), benefits[-1]))
    cta = script.cta if fits(benefits, script.cta) else ""
    return Script(script.hook, tuple(benefits), cta)


# -- text ------------------------------------------------------------------------------------

def clean_text(text: str) -> str:
    """Plain text from what a merchant or a storefront wrote: no markup, entities or emoji;
    one line per paragraph, list item or line break."""
    text = _BREAK_TAGS.sub("\n", text or "")
    text = html.unescape(_TAGS.sub(" ", text))
    text = _MARKDOWN.sub("", text).replace("\u00a0", " ")
    return strip_emoji(text)


def sentences(text: str) -> list[str]:
    """Whole sentences of ``text``, in order, each ending with its punctuation (a period is
    added to a line that has none, such as a list item)."""
    out: list[str] = []
    for raw_line in clean_text(text).split("\n"):
        line = _BULLET.sub("", raw_line).strip()
        if not line:
            continue
        pieces = _SENTENCE_END.split(line)
        current = ""
        for piece in pieces:
            current = f"{current} {piece}".strip() if current else piece.strip()
            if current.lower().endswith(_ABBREVIATIONS) and piece is not pieces[-1]:
                continue  # "e.g. " does not end a sentence
            if _WORD.search(current):
                out.append(_as_line(current))
            current = ""
        if current and _WORD.search(current):
            out.append(_as_line(current))
    return out


def _short_lines(sentence: str) -> list[str]:
    """A sentence too long for one line of the script, on several: broken after a comma or a
    semicolon where it can be, else between the words nearest the middle. Nothing is left out
    but the tail of a run of characters with no space in it, longer than a line."""
    words = sentence.split()
    if len(sentence) <= WRITTEN_LINE_CHARS or len(words) < 2:  # one endless "word" cannot be broken
        return [sentence[:WRITTEN_LINE_CHARS]]
    breaks = [k for k in range(1, len(words)) if words[k - 1][-1] in ",;:"] or list(range(1, len(words)))
    k = min(breaks, key=lambda i: abs(len(" ".join(words[:i])) - len(sentence) / 2))
    return _short_lines(" ".join(words[:k])) + _short_lines(" ".join(words[k:]))


def _joined(lines: list[str], most: int) -> list[str]:
    """``lines`` in at most ``most`` lines: the shortest neighbours said as one line, whole."""
    lines = list(lines)
    while len(lines) > max(most, 1):
        k = min(range(len(lines) - 1), key=lambda i: len(lines[i]) + len(lines[i + 1]))
        lines[k:k + 2] = [f"{lines[k]} {lines[k + 1]}"]
    return lines


def _as_line(text: str) -> str:
    text = " ".join(text.split()).strip(" ,;:")
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?\u2026" else text + "."


# -- the rules for a script written from the product --------------------------------------------

def _hook(title: str) -> str:
    """The product's name when it is short; else its name without the specs after a dash,
    comma or "with"; else "Meet your new" and the last two words of the name."""
    name = " ".join(clean_text(title).split())
    if not name:
        return "Meet your new favourite."
    for candidate in (name, _TITLE_TAIL.sub("", name)):
        if candidate and len(candidate.split()) <= HOOK_MAX_WORDS - 2:
            return f"Meet the {candidate}."
        if candidate and len(candidate.split()) <= HOOK_MAX_WORDS:
            return _as_line(candidate)
    noun = " ".join(_TITLE_TAIL.sub("", name).split()[-2:])
    return f"Your new {noun}."


def _benefits(description: str, title: str, *, limit: int) -> list[str]:
    """Up to ``limit`` lines of the description, in its order: sentences short enough to be
    said in a breath, or a long sentence's clauses when a semicolon or a dash separates them;
    sentences of three words or more first, two-word ones only to reach two lines."""
    candidates: list[str] = []
    title_key = _key(title)
    for sentence in sentences(description):
        for line in _whole_parts(sentence):
            if _key(line) != title_key and _key(line) not in {_key(c) for c in candidates}:
                candidates.append(line)
    full = [c for c in candidates if len(c.split()) >= 3]
    if len(full) < 2:
        full = [c for c in candidates if len(c.split()) >= 2]
    return full[:limit]


def _whole_parts(sentence: str) -> list[str]:
    if _fits(sentence):
        return [sentence]
    clauses = [c.strip() for c in _CLAUSE_BREAK.split(sentence.rstrip(".!?\u2026"))]
    if len(clauses) > 1 and all(len(c.split()) >= 3 and _fits(c) for c in clauses):
        return [_as_line(c) for c in clauses]
    return []  # too long to say in a breath and no clean place to split it: left out


def _fits(line: str) -> bool:
    return len(line.split()) <= BENEFIT_MAX_WORDS and len(line) <= BENEFIT_MAX_CHARS


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def _price_line(price: str | None, compare_at_price: str | None) -> str:
    now = _amount(price)
    if now is None:
        return ""
    was = _amount(compare_at_price)
    if was is not None and was[0] > now[0]:
        return f"Now {now[1]}, was {was[1]}."
    return f"Just {now[1]}."


def _amount(label: str | None) -> tuple[Decimal, str] | None:
    """The value of a price label and how to say it: "$49.00" is "$49", "$1,299.50" stays."""
    text = (label or "").strip()
    match = re.search(r"\d[\d,]*(?:\.\d+)?", text)
    if not match:
        return None
    try:
        value = Decimal(match.group().replace(",", ""))
    except InvalidOperation:
        return None
    digits = match.group()
    if value == value.to_integral_value():
        digits = digits.split(".")[0]
    return value, text[:match.start()] + digits + text[match.end():]
