"""The ad script: the merchant's own sentences when given, else whole sentences of the product."""

from __future__ import annotations

import re

import pytest

from webapp.generation import contract
from webapp.generation.contract import MAX_SCRIPT_LINE_CHARS
from webapp.generation.errors import GenerationError
from webapp.generation.script import (
    HOOK_MAX_WORDS,
    WRITTEN_LINE_CHARS,
    Script,
    sentences,
    write_script,
)
from webapp.render.spec import MAX_SCRIPT_CHARS, MAX_SCRIPT_LINES
from webapp.render.textutil import bullets, tagline

# (title, price, description): catalog copy as merchants write it
PRODUCTS = [
    ("Aurora Desk Lamp", "89.00",
     "Warm dimmable LED. Touch control with three levels. Aluminium arm folds flat. USB-C powered."),
    ("Nimbus Ceramic Mug", "24.00",
     "Hand-glazed stoneware, 350 ml. Dishwasher and microwave safe. Comfortable wide handle."),
    ("Echo Mini Speaker", "59.00",
     "360-degree sound. 12-hour battery. IP67 waterproof. Pairs two speakers for stereo."),
    ("Brew Pour-Over Kettle", "65.00",
     "Gooseneck spout for a precise pour. 0.9 litre. Built-in thermometer. Works on induction."),
    ("Summit Insulated Bottle", "35.00",
     "Keeps drinks cold 24 hours, hot 12. 750 ml. Leak-proof lid. BPA free."),
    ("Trailhead Backpack 28L", "129.00",
     ("<p>Water-resistant recycled nylon.</p><ul><li>Padded 16-inch laptop sleeve</li>"
     "<li>Ventilated back panel &amp; hip belt 🎒</li></ul>")),
    ("Luma Soy Candle", "28.00", "Natural soy wax with cedar and amber - 45-hour burn - cotton wick."),
]


def script_for(instructions: str = "", *, title: str = "Brew Pour-Over Kettle",
               description: str = "Gooseneck spout for a precise pour. 0.9 litre. Built-in thermometer. "
                                  "Works on induction.",
               price: str | None = "$65.00", compare_at: str | None = None) -> Script:
    return write_script(title=title, description=description, price=price, compare_at_price=compare_at,
                        instructions=instructions)


def words(text: str) -> list[str]:
    return re.findall(r"[\w$%'-]+", text.lower())


# -- the merchant's instructions are the script ---------------------------------------------------

def test_instructions_are_spoken_whole_and_in_order_then_the_call_to_action():
    script = script_for("Desk at night. USB-C charging.")
    assert script.lines == ("Desk at night.", "USB-C charging.", "Shop now.")
    assert script.hook == "Desk at night."
    assert script.benefits == ("USB-C charging.",)
    assert script.text == "Desk at night.\nUSB-C charging.\nShop now."


def test_a_call_to_action_the_merchant_wrote_ends_the_script_once():
    script = script_for("Brews a perfect cup. Pour like a barista! Order yours today.")
    assert script.lines == ("Brews a perfect cup.", "Pour like a barista!", "Order yours today.")


def test_instructions_keep_abbreviations_numbers_and_their_own_punctuation():
    script = script_for("Great for coffee, e.g. lattes and 4.5 oz pours! Is it hot? Yes.")
    assert script.lines[:3] == ("Great for coffee, e.g. lattes and 4.5 oz pours!", "Is it hot?", "Yes.")


def test_long_instructions_are_all_said_within_the_limits():
    text = " ".join(f"Fact {n} about it." for n in range(1, 9))
    text += " " + "This closing sentence runs on and on, with a comma here, another one there, " \
                  "and many more words than one line of a script can hold without a break, which " \
                  "the merchant may well write in the five hundred characters of the instructions box."
    assert 350 <= len(text) <= 500
    script = script_for(text)
    accepted(script)  # what the form would accept as it is
    assert len(script.lines) <= MAX_SCRIPT_LINES
    assert all(len(line) <= WRITTEN_LINE_CHARS for line in script.lines)
    # nothing left out, nothing reordered
    assert words(" ".join(script.lines[:-1])) == words(text)


def test_markup_and_emoji_are_not_spoken():
    script = script_for("<p>Desk at <b>night</b> \U0001F319</p><ul><li>USB-C charging \u26a1</li></ul>")
    assert script.lines[:2] == ("Desk at night.", "USB-C charging.")


# -- written from the product -----------------------------------------------------------------------

@pytest.mark.parametrize(("title", "price", "description"), PRODUCTS, ids=[p[0] for p in PRODUCTS])
def test_product_scripts_take_whole_sentences_only(title, price, description):
    script = write_script(title=title, description=description, price=f"${price}", compare_at_price=None,
                          instructions="")
    whole = {s.lower() for s in sentences(description)}
    price_lines = [b for b in script.benefits if b.startswith(("Just ", "Now "))]
    assert len(price_lines) == 1
    said = [b for b in script.benefits if b not in price_lines]
    assert said, "at least one line of the description"
    assert all(line.lower() in whole for line in said), said
    assert 2 <= len(script.benefits) <= 4
    assert script.cta == "Shop now."
    assert len(script.hook.split()) <= HOOK_MAX_WORDS
    accepted(script)


def test_a_description_sentence_is_never_cut_into_a_fragment():
    script = script_for(title="Trail Chair", price=None, description=(
        "Built for long days at the office and weekend hikes, with a precise fit and breathable mesh "
        "that keeps you cool all day long whatever you do. Folds flat in seconds. Weighs only 900 grams "
        "in its carry bag when folded flat; holds up to 120 kg with ease on any kind of ground."))
    # the long sentence without a clean break is left out; the one with a semicolon is two lines
    assert script.benefits == ("Folds flat in seconds.", "Weighs only 900 grams in its carry bag when folded flat.",
                               "Holds up to 120 kg with ease on any kind of ground.")
    text = script.text.lower()
    assert "for a precise" not in text and "the office and weekend hikes" not in text


def test_a_compare_at_price_is_said_as_a_saving():
    script = script_for(price="$39.00", compare_at="$49.00")
    assert script.benefits[-1] == "Now $39, was $49."
    assert script_for(price="$39.00", compare_at="$39.00").benefits[-1] == "Just $39."
    assert script_for(price="$1,299.50", compare_at=None).benefits[-1] == "Just $1,299.50."
    assert not any("$" in b for b in script_for(price=None).benefits)


@pytest.mark.parametrize(("title", "hook"), [
    ("Mug", "Meet the Mug."),
    ("Aurora Desk Lamp", "Aurora Desk Lamp."),
    ("Orbit Wireless Headphones - Black, 30 h", "Orbit Wireless Headphones."),
    ("The Extraordinarily Comfortable Everyday Ergonomic Office Chair With Lumbar Support",
     "Your new Office Chair."),
])
def test_the_hook_is_read_in_a_second_and_a_half(title, hook):
    script = script_for(title=title)
    assert script.hook == hook
    assert len(script.hook.split()) <= HOOK_MAX_WORDS


def test_a_product_with_nothing_to_say_still_gets_two_benefit_lines():
    script = script_for(title="Gift Card", description="", price=None)
    assert len(script.benefits) == 2
    assert script.lines[0] == "Meet the Gift Card."


# -- an edited script ----------------------------------------------------------------------------

def accepted(script: Script) -> None:
    """The script passes the input contract as it is (raises GenerationError if not)."""
    assert contract.parse(contract.VideoOptions, {"script": list(script.lines)}).script == list(script.lines)


def test_a_typed_script_is_one_line_per_line_and_an_empty_one_is_written_for_you():
    typed = "  Desk at night.\n\nUSB-C charging.\n  Two-year warranty.\nShop now\n"
    assert contract.parse(contract.VideoOptions, {"script": typed}).script == [
        "Desk at night.", "USB-C charging.", "Two-year warranty.", "Shop now"]
    assert contract.parse(contract.VideoOptions, {"script": " \n \n"}).script is None


@pytest.mark.parametrize(("text", "reasons"), [
    ("\n".join(f"Line {n}" for n in range(MAX_SCRIPT_LINES + 1)),
     [f"the script has {MAX_SCRIPT_LINES + 1} lines, at most {MAX_SCRIPT_LINES}"]),
    ("x" * (MAX_SCRIPT_LINE_CHARS + 1), [f"line 1 has more than {MAX_SCRIPT_LINE_CHARS} characters: split it"]),
    ("\n".join(["y" * 100] * 6), [f"the script has 600 characters, at most {MAX_SCRIPT_CHARS}"]),
    ("\n".join(["Hook", "z" * 300, "Fine", "w" * 250]),  # every problem named, not the first
     [f"lines 2, 4 have more than {MAX_SCRIPT_LINE_CHARS} characters: split them",
      f"the script has 558 characters, at most {MAX_SCRIPT_CHARS}"]),
])
def test_a_script_over_the_limits_is_refused_with_every_reason(text, reasons):
    with pytest.raises(GenerationError) as error:
        contract.parse(contract.VideoOptions, {"script": text})
    for reason in reasons:
        assert reason in error.value.message


# -- the templates' own text keeps sentences whole too ------------------------------------------

def test_call_outs_and_taglines_are_whole_sentences_the_merchants_first():
    description = ("Built for long days at the office and weekend hikes, with a precise fit and breathable "
                   "mesh. Folds flat. Gooseneck spout for a precise pour.")
    items = bullets(description, "Desk at night. USB-C charging. Focus on the lamp.", "Lamp")
    assert items == ["Desk at night", "USB-C charging", "Folds flat", "Gooseneck spout for a precise pour"]
    assert tagline(description, "Make it warm.", "Lamp") == "Folds flat"
    assert tagline(description, "Desk at night.", "Lamp") == "Desk at night"
    assert bullets("Built for long days at the office and weekend hikes, with a precise fit and "
                   "breathable mesh.", "", "Trail Chair") == ["Trail Chair"]


def test_a_script_sent_as_null_is_none_written_for_you():
    """A JSON null was an error 500 ('NoneType' is not iterable), found by the API's fuzzing."""
    assert contract.parse(contract.VideoOptions, {"script": None}).script is None
