"""Every template's layout, for every aspect ratio at every frame size it is made at (its
standard size and each resolution) and for short, long, right-to-left and emoji text: the boxes the template computes before drawing stay in the frame and its safe zone, no
two boxes on screen together overlap (nor cover the product) unless the template placed them
to, and the brand's corner watermark finds its place. The videos are composed, not encoded:
the boxes are what the graph draws."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from webapp.catalog.demo import demo_shot
from webapp.render import (
    ASPECT_SIZES,
    RECIPES,
    RESOLUTIONS,
    RenderSpec,
    frame_size,
    render,
)
from webapp.render.brand import Brand, contrast_ratio, hex_to_rgb
from webapp.render.graph import Graph
from webapp.render.layout import Box, Layout
from webapp.render.overlays import OverlayMaker
from webapp.render.recipes import Ctx, default_captions
from webapp.render.renderer import compose, prepare_images
from webapp.render.shots import detail_card_layer, detail_windows
from webapp.render.spec import VOICE_START_S, Word
from webapp.render.stage import DirectoryCache, Look, look_at

pytestmark = pytest.mark.render

TEXTS = {
    "short": ("Orbit Headphones", "Deep bass. 30-hour battery.", "Fold flat. Travel light.", "$199.00"),
    "long": ("Orbit Wireless Over-Ear Headphones with Active Noise Cancelling and a Fold-Flat Travel Case",
             "Deep, detailed bass from 40 mm drivers. A 30-hour battery that charges in ten minutes.",
             "Multipoint Bluetooth for your laptop and phone at once. Memory-foam cushions for long flights.",
             "$1,299.99"),
    "arabic": ("سماعات أوربت اللاسلكية", "صوت جهير عميق. بطارية تدوم ثلاثين ساعة.", "تطوى بسهولة. خفيفة للسفر.",
               "199 ر.س"),
    "emoji": ("Orbit Headphones 🎧🔥", "Deep bass 🔊. 30-hour battery ⚡.", "Fold flat ✈️. Travel light ✨.",
              "$199.00"),
}
# each shape's frames: its standard size and each resolution's, once each
FRAMES = [(aspect, size) for aspect in ASPECT_SIZES
          for size in sorted({frame_size(aspect, resolution) for resolution in (None, *RESOLUTIONS)})]
CASES = [(recipe, aspect, size, text) for recipe in sorted(RECIPES) for aspect, size in FRAMES for text in TEXTS]


def spoken(lines: tuple[str, ...]) -> tuple[Word, ...]:
    """The lines as a voice would say them: 0.4 s a word, a pause between lines."""
    words, t = [], VOICE_START_S
    for number, line in enumerate(lines):
        for text in line.split():
            words.append(Word(text, t, t + 0.35, number))
            t += 0.4
        t += 0.3
    return tuple(words)


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> list[Path]:
    """A packshot, a lifestyle scene and a transparent PNG: a cut-out, a crop and a layer."""
    folder = tmp_path_factory.mktemp("photos")
    paths = []
    for name, position in (("orbit-headphones", 0), ("aurora-lamp", 1)):
        path = folder / f"{name}-{position}.jpg"
        demo_shot(name, position).image.save(path, quality=90)
        paths.append(path)
    cutout = Image.new("RGBA", (700, 900), (0, 0, 0, 0))
    ImageDraw.Draw(cutout).rounded_rectangle((180, 120, 520, 820), radius=60, fill=(40, 110, 180, 255))
    cutout.save(folder / "bottle.png")
    return [*paths, folder / "bottle.png"]


@pytest.fixture(scope="module")
def logo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("logo") / "logo.png"
    image = Image.new("RGBA", (320, 120), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((10, 10, 110, 110), fill=(220, 40, 60, 255))
    image.save(path)
    return path


@pytest.fixture(scope="module")
def looks_by_aspect(tmp_path_factory, photos):
    """The looks at the photos for each frame size, taken once (a cut-out costs a second)."""
    cache = DirectoryCache(tmp_path_factory.mktemp("looks"))
    made = {}
    for aspect, (width, height) in ASPECT_SIZES.items():
        workdir = tmp_path_factory.mktemp(f"look-{aspect.replace(':', 'x')}")
        images = prepare_images(photos, workdir, max_side=2 * max(width, height))
        made[aspect] = (workdir, [look_at(im.index, im.source, im.path, (im.width, im.height), workdir, cache)
                                  for im in images])
    return made


def boxes_shown_together(layout: Layout) -> list[tuple[str, str]]:
    pairs = []
    for (a, box_a), (b, box_b) in itertools.combinations(layout.boxes.items(), 2):
        span_a, span_b = layout.spans[a], layout.spans[b]
        together = span_a is None or span_b is None or (span_a[0] < span_b[1] and span_b[0] < span_a[1])
        if together and box_a.intersects(box_b) and frozenset((a, b)) not in layout.allowed:
            pairs.append((a, b))
    return pairs


@pytest.mark.parametrize(("recipe", "aspect", "size", "text"), CASES,
                         ids=[f"{recipe}-{aspect}-{w}x{h}-{text}" for recipe, aspect, (w, h), text in CASES])
def test_every_box_stays_in_the_safe_zone_clear_of_the_others_and_the_product(looks_by_aspect, logo, recipe,
                                                                               aspect, size, text):
    title, description, instructions, price = TEXTS[text]
    script = (title, *description.split(". "))
    width, height = size
    workdir, looks = looks_by_aspect[aspect]
    spec = RenderSpec(recipe=recipe, images=(), title=title, price=price, description=description,
                      custom_instructions=instructions, aspect_ratio=aspect, script=script, voiceover=True,
                      brand=Brand(logo=logo, watermark=True, primary="#14213D", accent="#FCA311"),
                      compare_at_price=None, link="https://shop.example.com/orbit")
    words = spoken(script)
    made = compose(spec, looks, workdir, width=width, height=height, duration=round(words[-1].end + 2.6, 1),
                   words=words)
    layout = made.layout
    assert "transition=slideup" not in made.graph.script()  # ffmpeg 9.0.2's slideup reads past the frame
    frame, zone = Box(0, 0, width, height), layout.safe
    texts = set(layout.boxes) - layout.exempt
    assert {"captions", "watermark"} <= texts
    assert any(name.startswith("product_") for name in layout.exempt)
    for name in texts:
        assert zone.contains(layout.boxes[name]), f"{name} {layout.boxes[name]} leaves the safe zone {zone}"
    for name in layout.exempt:  # pictures may bleed off the frame; they never miss it
        assert layout.boxes[name].intersects(frame), name
    assert boxes_shown_together(layout) == []
    captions = layout.boxes["captions"]
    if captions.centred_across(width):  # a name panel over centred captions is centred too
        for name in {"lower_third", "name", "tagline", "banner"} & set(layout.boxes):
            panel = layout.boxes[name]
            if panel.x < captions.center[0] < panel.right:
                assert panel.centred_across(width), f"{name} {panel} is off-centre over {captions}"
    tiles = [box for name, box in layout.boxes.items() if name.startswith("tile_")]
    for top in {tile.y for tile in tiles}:  # each row of store_display's window is centred, a short last row too
        row = [tile for tile in tiles if tile.y == top]
        assert (min(t.x for t in row) + max(t.right for t in row)) / 2 == pytest.approx(zone.center[0], abs=2)
    # the end card: its own boxes, in the safe zone, apart
    card = made.end_card
    assert card is not None and {"title", "cta", "qr"} <= set(card.boxes)
    for name, box in card.boxes.items():
        assert name in card.exempt or card.safe.contains(box), name
    assert boxes_shown_together(card) == []


@pytest.mark.parametrize("text", ["short", "long"])
def test_technical_demo_shows_its_spec_call_outs_beside_the_product_with_the_price(looks_by_aspect, logo, text):
    """Spoken or not, a wide technical_demo lists the specs in its column: a call-out as wide as
    the column once fitted nowhere (its left edge, a float, rounded past the column's)."""
    title, description, instructions, price = TEXTS[text]
    workdir, looks = looks_by_aspect["16:9"]
    script = (title, *description.split(". "))
    spec = RenderSpec(recipe="technical_demo", images=(), title=title, price=price, description=description,
                      custom_instructions=instructions, aspect_ratio="16:9", script=script, voiceover=True,
                      brand=Brand(logo=logo, watermark=True))
    words = spoken(script)
    layout = compose(spec, looks, workdir, width=1280, height=720, duration=round(words[-1].end + 2.6, 1),
                     words=words).layout
    callouts = [name for name in layout.boxes if name.startswith("callout_")]
    assert len(callouts) >= 2 and "price" in layout.boxes
    assert all(layout.boxes[name].x >= layout.boxes["area"].right for name in (*callouts, "price"))


@pytest.mark.parametrize(("recipe", "panel"), [("product_showcase", "lower_third"), ("lifestyle", "name")])
@pytest.mark.parametrize("aspect", ["9:16", "1:1"])
def test_the_name_panel_lines_up_with_the_centred_captions_under_it(looks_by_aspect, recipe, panel, aspect):
    title, description, instructions, price = TEXTS["short"]
    script = (title, *description.split(". "))
    width, height = ASPECT_SIZES[aspect]
    workdir, looks = looks_by_aspect[aspect]
    spec = RenderSpec(recipe=recipe, images=(), title=title, price=price, description=description,
                      custom_instructions=instructions, aspect_ratio=aspect, script=script, voiceover=True,
                      brand=Brand())
    words = spoken(script)
    layout = compose(spec, looks, workdir, width=width, height=height, duration=round(words[-1].end + 2.6, 1),
                     words=words).layout
    captions, name = layout.boxes["captions"], layout.boxes[panel]
    assert captions.centred_across(width)
    assert name.center[0] == pytest.approx(captions.center[0], abs=0.05 * width)


def _product_boxes(tmp_path, photos: list[Path], aspect: str = "9:16", duration: float = 12.0) -> tuple[list[Box], Box]:
    width, height = ASPECT_SIZES[aspect]
    images = prepare_images(photos, tmp_path, max_side=2 * max(width, height))
    looks = [look_at(im.index, im.source, im.path, (im.width, im.height), tmp_path, None) for im in images]
    spec = RenderSpec(recipe="product_showcase", images=(), title="Orbit Headphones", price="$199.00",
                      aspect_ratio=aspect)
    made = compose(spec, looks, tmp_path, width=width, height=height, duration=duration)
    return list(made.product_boxes), made.layout.boxes["area"]


def test_a_second_packshot_of_the_same_side_is_a_closer_look_and_a_third_is_left_out(tmp_path):
    """Three packshots of the headphones' front made one shot three times over (the same cut-out,
    the same size): the second is now a card of its most detailed part, filling the area, and
    the third is left out (its time goes to the others)."""
    photos = []
    for position in (0, 2, 3):
        photos.append(tmp_path / f"front-{position}.jpg")
        demo_shot("orbit-headphones", position).image.save(photos[-1], quality=90)
    boxes, area = _product_boxes(tmp_path, photos)
    whole, closer = boxes
    assert closer.w == pytest.approx(area.w, abs=2) and closer.h == pytest.approx(area.h, abs=2)
    assert whole.h < area.h - 20  # the cut-out standing in the area, not filling it
    # the poster, due in the second shot, is taken in the first: a video is known by its whole product
    result = render(RenderSpec(recipe="product_showcase", images=tuple(photos), title="Orbit Headphones",
                               aspect_ratio="9:16", duration=8, preset="ultrafast", fps=15),
                    tmp_path / "v.mp4", tmp_path / "v.jpg")
    with Image.open(result.thumbnail_path) as poster:
        grey = np.asarray(poster.convert("L"))[int(area.y):int(area.bottom), int(area.x):int(area.right)]
    assert np.median(grey) < 110  # the dark stage around the cut-out, not the card's light photo


def test_a_packshot_of_another_side_stays_whole(tmp_path, photos):
    """A cut-out whose silhouette differs (a tall bottle after the headphones) is a view of its
    own: shown whole, not as a detail."""
    boxes, area = _product_boxes(tmp_path, [photos[0], photos[2]])
    assert all(box.w < area.w * 0.95 or box.h < area.h * 0.95 for box in boxes)


def test_a_long_video_of_few_packshots_cuts_to_their_closer_looks(tmp_path, photos):
    """Two packshots of different sides over 24 s played as two 10-second shots; now each whole
    product is followed by a closer look at it, and the first by a second one, until no shot
    lasts over 5 s. A short video of the same photos keeps one shot each."""
    boxes, area = _product_boxes(tmp_path, [photos[0], photos[2]], duration=24.0)
    fills = [box.w == pytest.approx(area.w, abs=2) and box.h == pytest.approx(area.h, abs=2) for box in boxes]
    assert fills == [False, True, True, False, True]  # whole, two closer looks, whole, closer
    assert len(_product_boxes(tmp_path, [photos[0], photos[2]], duration=8.0)[0]) == 2


def test_a_second_closer_look_shows_another_part(tmp_path):
    """The second closer look of the headphones is another part of them (the other ear cup, the
    headband), not the first one again."""
    photo = tmp_path / "front.jpg"
    demo_shot("orbit-headphones", 0).image.save(photo, quality=90)
    image = prepare_images([photo], tmp_path, max_side=2560)[0]
    look = look_at(image.index, image.source, image.path, (image.width, image.height), tmp_path, None)
    area = Box(36, 96, 648, 646)
    windows = detail_windows(look, area, most=2)
    assert len(windows) == 2
    cards = []
    for nth, window in enumerate(windows):
        layer = detail_card_layer(look, window, area, tmp_path / f"detail-{nth}.png", radius=10)
        with Image.open(layer.path) as card:
            cards.append(np.asarray(card.convert("L"), np.float32))
    assert np.abs(cards[0] - cards[1]).mean() > 20


def test_a_product_with_one_detailed_part_gets_one_closer_look(tmp_path):
    """The lamp's only part that fills a closer look is its shade: a long video showed it twice
    running (seen in a walkthrough); now it has one closer look."""
    photo = tmp_path / "lamp.jpg"
    demo_shot("aurora-lamp", 0).image.save(photo, quality=90)
    assert len(_product_boxes(tmp_path, [photo], duration=24.0)[0]) == 2  # the lamp whole, then its shade


def _spec_sheet(looks_by_aspect, script: tuple[str, ...], description: str) -> Layout:
    """The layout of a wide technical_demo of the watch that speaks ``script``."""
    workdir, looks = looks_by_aspect["16:9"]
    spec = RenderSpec(recipe="technical_demo", images=(), title="Pulse Fitness Watch", price="$149.00",
                      description=description, aspect_ratio="16:9", script=script, voiceover=True, brand=Brand())
    words = spoken(script)
    return compose(spec, looks, workdir, width=1280, height=720, duration=round(words[-1].end + 2.6, 1),
                   words=words).layout


def test_the_spec_call_outs_come_in_as_the_voice_says_them(looks_by_aspect):
    """A wide technical_demo's call-outs repeat the script's lines written from the same
    description; they came in on the list's own beat, a line before or after the voice said
    them. Now each comes in as its line begins; one the voice never says keeps the beat."""
    script = ("Pulse Fitness Watch.", "Heart-rate and sleep tracking.", "A seven-day battery.", "Swim-proof to 50 m.")
    words = spoken(script)
    layout = _spec_sheet(looks_by_aspect, script, "Heart-rate and sleep tracking. 7-day battery. Swim-proof to 50 m. "
                                                  "Sapphire glass.")
    line_starts = {w.line: w.start for w in reversed(words)}
    for k, line in enumerate((1, 2, 3)):
        assert layout.spans[f"callout_{k}"][0] == pytest.approx(line_starts[line], abs=0.01), k
    if "callout_3" in layout.spans:  # "Sapphire glass", never said: after the others, on the beat
        assert layout.spans["callout_3"][0] > line_starts[3]


def test_the_spec_call_outs_of_a_list_keep_one_size(looks_by_aspect):
    """The fourth call-out of a wide spec sheet, short of room above the captions, was drawn at
    half the size of the others; now a call-out that does not fit at the list's size is left out."""
    script = ("Pulse Fitness Watch.", "Heart-rate and sleep tracking.", "A seven-day battery.", "Shop now.")
    layout = _spec_sheet(looks_by_aspect, script, "Heart-rate and sleep tracking. 7-day battery. Swim-proof to 50 m. "
                                                  "Built-in GPS.")
    lines = {name: box.h for name, box in layout.boxes.items() if name.startswith("callout_")}
    assert len({round(h) for h in lines.values()}) <= 2  # one size: a one-line and a two-line height at most
    assert min(lines.values()) > 0.6 * max(lines.values())


def test_the_word_being_said_reads_on_its_plate_over_a_light_frame(tmp_path):
    """A red accent on a navy caption plate read 2.7:1 where a light photo showed through the
    plate; the plate is nearly opaque now and the accent reads 3:1 on it over white, still red."""
    brand = Brand(primary="#1E2A44", accent="#C8102E")
    spec = RenderSpec(recipe="product_showcase", images=(), title="Aurora Desk Lamp", brand=brand)
    c = Ctx(spec, 720, 1280, 30, 300, [], Graph(720, 1280, 30), OverlayMaker(tmp_path, 720, 1280, brand),
            Layout(720, 1280), tmp_path, 0.5)
    style = default_captions(c)
    *plate, alpha = style.plate
    over_white = tuple(round(p * alpha / 255 + 255 * (1 - alpha / 255)) for p in plate)
    highlight = hex_to_rgb(style.accent)
    assert contrast_ratio(highlight, over_white) >= 3
    assert highlight[0] > highlight[1] + 100  # red, not washed out to pink


@pytest.mark.parametrize("aspect", ["16:9", "1:1", "9:16"])
def test_a_scene_no_crop_of_which_holds_its_product_is_shown_whole_on_a_card(tmp_path, aspect):
    """A tall bottle in a portrait photo: a wide crop of the photo cut off its cap and base (and
    that frame was the share page's poster); a card of the photo around it shows it whole."""
    shot = demo_shot("summit-bottle", 1)
    path = tmp_path / "scene.jpg"
    shot.image.save(path, quality=90)
    true = shot.product_box
    look = Look(0, path, shot.image.size, "scene", true, (200, 200, 200))
    width, height = ASPECT_SIZES[aspect]
    spec = RenderSpec(recipe="product_showcase", images=(), title="Summit Bottle", aspect_ratio=aspect)
    made = compose(spec, [look], tmp_path, width=width, height=height, duration=6.0)
    if not (tmp_path / "layer_00.png").is_file():  # not a card (a layer) but the photo cropped:
        shown = made.layout.boxes["product_0"]  # the product unclipped, its box in its shape
        assert shown.w / shown.h == pytest.approx(true.w / true.h, rel=0.05)
