"""Captions: phrases from word timings, where the caption box goes, how a state is drawn
(right-to-left text, emoji), and the WebVTT file."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, features

from tests.vtt import read_vtt
from webapp.render.captions import (
    Cue,
    is_rtl,
    make_track,
    phrase_cues,
    place_box,
    timed_cues,
    visual_order,
    write_webvtt,
)
from webapp.render.layout import Box, safe_zone
from webapp.render.spec import Caption, Word

SIZES = {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (1080, 1080)}


def spoken(text_by_line: list[str], pace: float = 0.3, pause: float = 0.5) -> list[Word]:
    """Words said one after the other, ``pace`` s each, a pause between lines."""
    words, t = [], 0.2
    for line, text in enumerate(text_by_line):
        for token in text.split():
            words.append(Word(token, t, t + pace - 0.04, line))
            t += pace
        t += pause
    return words


# -- phrases ------------------------------------------------------------------------------------

def test_phrases_have_two_to_four_words_and_never_cross_a_line():
    words = spoken(["Desk at night.", "USB-C charging, in the office and on weekend hikes.", "Shop now."])
    cues = phrase_cues(words)
    assert [c.text for c in cues] == [  # shown without the commas and full stops
        "Desk at night", "USB-C charging", "in the office", "and on weekend hikes", "Shop now",
    ]
    for cue in cues:
        assert 1 <= len(cue.words) <= 4
        assert len({w.line for w in cue.words}) == 1
        assert cue.start == cue.words[0].start and cue.end >= cue.words[-1].end
    # every word, in order, once
    assert [(w.start, w.end) for c in cues for w in c.words] == [(w.start, w.end) for w in words]
    for a, b in itertools.pairwise(cues):
        assert a.end <= b.start  # one phrase on screen at a time


def test_a_lone_word_joins_its_neighbour_within_its_sentence():
    assert [c.text for c in phrase_cues(spoken(["Look, it glows at night."]))] == ["Look, it glows", "at night"]
    assert [c.text for c in phrase_cues(spoken(["Wow. It glows!"]))] == ["Wow", "It glows!"]
    assert [c.text for c in phrase_cues(spoken(["Made to last, really."]))] == ["Made to last, really"]


# -- where the box goes ------------------------------------------------------------------------

@pytest.mark.parametrize("aspect", SIZES)
def test_the_caption_box_sits_at_the_bottom_of_the_safe_zone(aspect):
    w, h = SIZES[aspect]
    box, layout = place_box(w, h, 150)
    zone = safe_zone(w, h)
    assert zone.contains(box) and layout.boxes["captions"] == box
    assert box.bottom == pytest.approx(zone.bottom, abs=1) and box.h == pytest.approx(150, abs=1)
    if aspect == "9:16":  # out of TikTok's and Reels' buttons and captions
        assert box.y >= 0.12 * h and box.bottom <= 0.80 * h and box.right <= 0.88 * w


def test_the_caption_box_keeps_out_of_the_product():
    w, h = 720, 1280
    product = Box(36, 36, 648, 600)  # a photo card at the top
    box, _layout = place_box(w, h, 150, avoid=[product], gap=10)
    assert not box.intersects(product) and box.y >= product.bottom + 10
    assert safe_zone(w, h).contains(box)
    # side by side in a wide frame: the captions take the free column
    card = Box(36, 36, 640, 648)
    box, _ = place_box(1280, 720, 120, avoid=[card], gap=10)
    assert box.x >= card.right + 10 and not box.intersects(card)
    # a product that leaves no room tall enough: the box gets the tallest free band there is
    big = Box(0, 200, 720, 800)
    box, _ = place_box(720, 1280, 300, avoid=[big])
    assert not box.intersects(big) and box.h < 300


# -- drawing ------------------------------------------------------------------------------------

def states(track) -> list[tuple[Path, float]]:
    lines = track.concat.read_text().splitlines()
    assert lines[0] == "ffconcat version 1.0"
    out = []
    for a, b in zip(lines[1::2], lines[2::2], strict=False):
        name = re.fullmatch(r"file '(.+)'", a)[1]
        out.append((track.concat.parent / name, float(b.split()[1])))
    return out


def ink_columns(png: Path, colour: tuple[int, int, int] | None = None) -> np.ndarray:
    """x of the pixels drawn as text (white, or ``colour``) on the plate."""
    rgba = np.asarray(Image.open(png).convert("RGBA")).astype(int)
    target = colour or (255, 255, 255)
    mask = (np.abs(rgba[..., :3] - target).sum(axis=2) < 60) & (rgba[..., 3] > 200)
    return np.nonzero(mask)[1]


def test_a_state_per_word_lights_the_word_being_said(tmp_path):
    words = spoken(["Desk at night."])
    track = make_track(tmp_path, 720, 1280, 30, 3.0, phrase_cues(words))
    played = states(track)
    assert [p.name for p, _ in played][:1] == ["caption_blank.png"]  # nothing before the first word
    assert sum(d for _, d in played) == pytest.approx(3.0, abs=1e-3)
    lit = [p for p, _ in played if p.name.startswith("caption_000")]
    assert len(lit) == 3  # Desk, at, night
    yellow = [ink_columns(p, (0xFF, 0xD2, 0x3F)) for p in lit]
    assert all(len(x) > 50 for x in yellow)
    assert yellow[0].mean() < yellow[1].mean() < yellow[2].mean()  # the light moves left to right
    assert track.text_size >= 0.07 * 720  # big: at least 7 % of the width on a phone


def test_right_to_left_text_is_shaped_and_right_aligned(tmp_path):
    assert features.check("raqm"), "Pillow needs raqm to shape Arabic"
    arabic = "\u0645\u0635\u0628\u0627\u062d \u0644\u0644\u0645\u0643\u062a\u0628"  # desk lamp
    cue = Cue(0.2, 2.0, arabic)
    latin = Cue(2.0, 4.0, "Desk lamp")
    track = make_track(tmp_path, 720, 1280, 30, 4.0, [cue, latin], highlight=False)
    played = [p for p, _ in states(track) if not p.name.startswith("caption_blank")]
    width = int(track.box.w)
    rtl_ink, ltr_ink = ink_columns(played[0]), ink_columns(played[1])
    assert is_rtl(arabic) and not is_rtl("Desk lamp")
    assert width - rtl_ink.max() < 0.08 * width  # flush right
    assert rtl_ink.min() > 0.3 * width
    assert abs((ltr_ink.min() + ltr_ink.max()) / 2 - width / 2) < 0.05 * width  # centred
    # shaped: joined letters are narrower than the same letters drawn one by one
    from webapp.render.fonts import FontSet

    font = FontSet.for_captions([arabic]).font(60, True)
    word = arabic.split()[0]
    assert font.getlength(word) < sum(font.getlength(ch) for ch in word)


def plate_columns(png: Path) -> tuple[int, int]:
    """The first and last x of the caption plate (the drawn, opaque part of a state)."""
    xs = np.nonzero(np.asarray(Image.open(png).convert("RGBA"))[..., 3] > 100)[1]
    return int(xs.min()), int(xs.max())


def test_captions_in_a_column_beside_the_product_keep_one_left_edge_and_centre_across_the_frame(tmp_path):
    """Centred in a side column, the plate's left edge moved with every phrase, off the
    left-aligned title above it."""
    cues = [Cue(0.0, 1.0, "Multipoint"), Cue(1.0, 2.0, "Bluetooth for two devices")]
    (tmp_path / "wide").mkdir(); (tmp_path / "tall").mkdir()
    beside = make_track(tmp_path / "wide", 1280, 720, 30, 2.0, cues, avoid=[Box(660, 40, 580, 640)], highlight=False)
    assert beside.box.x + beside.box.w / 2 < 0.4 * 1280  # the column left of the product
    edges = [plate_columns(p) for p, _ in states(beside) if not p.name.startswith("caption_blank")]
    assert [left for left, _ in edges] == [0, 0] and edges[0][1] < edges[1][1]
    across = make_track(tmp_path / "tall", 720, 1280, 30, 2.0, cues, highlight=False)
    width = int(across.box.w)
    for left, right in (plate_columns(p) for p, _ in states(across) if not p.name.startswith("caption_blank")):
        assert abs((left + right) / 2 - width / 2) <= 2  # centred


def test_mixed_directions_keep_each_run_in_its_own_order():
    lamp, desk = "\u0645\u0635\u0628\u0627\u062d", "\u0645\u0643\u062a\u0628"
    words = [lamp, "USB-C", "charging", "49", desk]
    # right to left: the Arabic words from the right, "USB-C charging" read left to right
    assert [words[k] for k in visual_order(words, rtl=True)] == [desk, "49", "USB-C", "charging", lamp]
    latin = ["Lamp", lamp, desk, "now"]
    assert [latin[k] for k in visual_order(latin, rtl=False)] == ["Lamp", desk, lamp, "now"]
    assert visual_order(["a", "b"], rtl=False) == [0, 1]


def test_emoji_and_glyphs_the_font_lacks_are_left_out_cleanly(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with_emoji = make_track(tmp_path / "a", 720, 1280, 30, 2.0,
                            [Cue(0.0, 2.0, "Glows \U0001F319 at night \u2728\U0001F44D\U0001F3FD \u4f60\u597d")],
                            highlight=False)
    plain = make_track(tmp_path / "b", 720, 1280, 30, 2.0, [Cue(0.0, 2.0, "Glows at night")], highlight=False)
    a = np.asarray(Image.open(states(with_emoji)[0][0]))
    b = np.asarray(Image.open(states(plain)[0][0]))
    assert with_emoji.cues[0].text == "Glows at night"
    assert np.array_equal(a, b)  # no empty boxes where the emoji were


# -- WebVTT -------------------------------------------------------------------------------------

def test_webvtt_has_a_cue_per_phrase_in_order(tmp_path):
    words = spoken(["Desk at night.", "USB-C charging & more <b>."])
    path = write_webvtt(phrase_cues(words), tmp_path / "v.vtt")
    cues = read_vtt(path)
    assert [c[2] for c in cues] == ["Desk at night", "USB-C charging", "&amp; more &lt;b&gt;"]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(cues))
    assert cues[0][0] == pytest.approx(words[0].start, abs=0.001)


def test_merchant_captions_are_cues_in_time_order_within_the_video():
    captions = [Caption(4.0, 9.0, "Second \U0001F389"), Caption(0.5, 2.0, "First"), Caption(12.0, 13.0, "Late")]
    assert timed_cues(captions, 8.0) == [Cue(0.5, 2.0, "First"), Cue(4.0, 8.0, "Second")]
