"""The end card: QR codes that scan (also after a lossy round trip), boxes that never collide,
discount maths, fonts and logos of the brand kit."""

from __future__ import annotations

import io
from decimal import Decimal

import numpy as np
import pytest
import zxingcpp
from PIL import Image, ImageDraw

from webapp.catalog.demo import demo_shot
from webapp.render.brand import (
    FONTS,
    Brand,
    contrast_ratio,
    has_glyph,
    legible_on,
    load_logo,
    readable_ink,
    typeset,
    watermark,
)
from webapp.render.endcard import discount_percent, end_card

URL = "https://shop.example.com/products/orbit-headphones?utm_source=reelboard"
SIZES = [(1280, 720), (720, 1280), (1080, 1080)]
TITLES = {
    "short": "Orbit Headphones",
    "long": ("Orbit Wireless Headphones with Active Noise Cancelling, a 30-hour battery, multipoint "
             "Bluetooth and a fold-flat"),
    "arabic": "سماعات أوربت اللاسلكية مع إلغاء الضوضاء",
    "emoji": "Orbit Headphones 🎧🔥 now in blue ✨",
}


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    path = tmp_path_factory.mktemp("photo") / "headphones.jpg"
    demo_shot("orbit-headphones", 0).image.save(path, quality=90)
    return path


@pytest.fixture(scope="module")
def logo(tmp_path_factory):
    path = tmp_path_factory.mktemp("logo") / "logo.png"
    image = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((10, 10, 90, 90), fill=(220, 40, 60, 255))
    image.save(path)
    return path


def _decode(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image.convert("RGB"))]


@pytest.mark.parametrize("size", SIZES)
def test_the_qr_code_scans_from_the_card_and_after_720p_jpeg(size, photo, logo):
    card = end_card(*size, Brand(logo=logo), title=TITLES["short"], price=Decimal("199.00"),
                    compare_at_price=Decimal("249.00"), qr_url=URL, product=photo)
    assert _decode(card.image) == [URL]
    lossy = card.image.convert("RGB")
    scale = 720 / min(lossy.size)
    if scale < 1:
        lossy = lossy.resize((round(lossy.width * scale), round(lossy.height * scale)), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    lossy.save(buffer, "JPEG", quality=70)
    assert _decode(Image.open(io.BytesIO(buffer.getvalue()))) == [URL]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("kind", sorted(TITLES))
@pytest.mark.parametrize("with_product", [True, False])
def test_boxes_stay_in_the_safe_zone_and_never_overlap(size, kind, with_product, photo, logo):
    card = end_card(*size, Brand(logo=logo, font="fjalla-one" if kind == "short" else "manrope"),
                    title=TITLES[kind], price=Decimal("1299.99"), compare_at_price=Decimal("1599.00"),
                    qr_url=URL, product=photo if with_product else None)
    boxes = card.layout.boxes
    assert {"logo", "title", "price", "compare_at", "badge", "cta", "qr"} <= set(boxes)
    assert ("product" in boxes) == with_product
    zone = card.layout.safe
    names = sorted(boxes)
    for name in names:
        assert zone.contains(boxes[name]), name
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not boxes[a].intersects(boxes[b]), (a, b)
    assert card.image.size == size and card.image.mode == "RGBA"


@pytest.mark.parametrize("url", ["https://shop.example.com/products/" + "a" * 300,
                                 "https://shop.example.com/" + "\u5546\u54c1" * 400])
def test_a_link_too_long_for_a_readable_code_leaves_the_card_its_button(url):
    """A product page typed 800 CJK characters long (within the 2,048 allowed) stopped every
    render of the product at segno's overflow; a code past version 10 is too fine to scan."""
    card = end_card(1280, 720, Brand(), title="Mug", price=Decimal("19.00"), qr_url=url)
    assert "qr" not in card.layout.boxes and "qr_label" not in card.layout.boxes
    assert "cta" in card.layout.boxes


def test_no_badge_or_strike_without_a_real_discount(photo):
    card = end_card(1280, 720, Brand(), title="Mug", price=Decimal("24.00"), compare_at_price=Decimal("24.00"),
                    qr_url=URL)
    assert "badge" not in card.layout.boxes and "compare_at" not in card.layout.boxes
    card = end_card(1280, 720, Brand(), title="Mug", price=None, compare_at_price=None, qr_url=None)
    assert {"price", "qr"}.isdisjoint(card.layout.boxes) and "cta" in card.layout.boxes


@pytest.mark.parametrize("price,compare_at,expected", [
    ("75.00", "95.00", 21),  # 21.05 % rounds down
    ("199.00", "249.00", 20),  # 20.08 %
    ("10.00", "30.00", 66),  # 66.67 %: never promise 67
    ("50.00", "100.00", 50),
    ("99.50", "100.00", None),  # under 1 %
    ("24.00", "24.00", None),
    ("30.00", "20.00", None),  # compare-at below the price is not a discount
    ("30.00", None, None),
])
def test_discount_badge_maths(price, compare_at, expected):
    assert discount_percent(Decimal(price), Decimal(compare_at) if compare_at else None) == expected


def test_a_transparent_logo_stays_transparent(logo):
    image = load_logo(logo)
    assert image.mode == "RGBA" and image.getchannel("A").getextrema()[0] == 0
    card = end_card(1280, 720, Brand(logo=logo), title="Orbit", price=Decimal(10), qr_url=None)
    box = card.layout.boxes["logo"]
    pixels = np.asarray(card.image.convert("RGB"), np.float32)
    inside_corner = pixels[int(box.y) + 1, int(box.right) - 2]  # transparent part of the logo
    outside = pixels[int(box.y) + 1, int(box.right) + 6]  # the backdrop next to it
    assert np.abs(inside_corner - outside).max() < 12  # the backdrop shows through, no white box
    red = pixels[int(box.y + box.h / 2), int(box.x + box.h / 2)]
    assert red[0] > 150 and red[1] < 100


def test_an_opaque_logo_is_set_on_a_plate(tmp_path):
    path = tmp_path / "logo.jpg"
    Image.new("RGB", (200, 80), (250, 250, 250)).save(path)
    image = load_logo(path)
    assert image.getchannel("A").getextrema() == (0, 255)  # rounded corners, opaque inside


def test_bundled_fonts_cover_accented_latin_and_fall_back_for_arabic():
    for choice in FONTS.values():
        assert choice.licence == "OFL-1.1" and choice.regular.is_file()
        assert all(has_glyph(choice.regular, ch) for ch in "éèçñüßøåŁœ€£")
    fonts, text = typeset("manrope", "سماعات Orbit")
    assert "DejaVu" in fonts.regular_path and text == "سماعات Orbit"
    fonts, text = typeset("lato", "Crème brûlée 🔥")
    assert "Lato" in fonts.regular_path and text == "Crème brûlée"
    bold = typeset("fjalla-one", "Sale")[0]
    assert "Fjalla" in bold.font(40, bold=True).path and bold.stroke(40, True) > 0  # synthetic bold


def test_brand_colours_are_checked_and_ink_is_readable():
    with pytest.raises(ValueError, match="#RRGGBB"):
        Brand(primary="navy")
    with pytest.raises(ValueError, match="unknown font"):
        Brand(font="comic-sans")
    assert contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21)
    for colour in ((30, 42, 68), (242, 179, 61), (200, 40, 60), (244, 233, 221)):
        assert contrast_ratio(readable_ink(colour), colour) >= 4.5


def test_an_accent_on_a_wall_of_its_own_colour_is_lightened_until_it_reads():
    red, deep_red, navy = (200, 16, 46), (90, 7, 21), (30, 42, 68)
    kicker = legible_on(red, deep_red)
    assert contrast_ratio(kicker, deep_red) >= 3
    assert kicker[0] > kicker[1] + 60  # still red: pink, not white
    assert legible_on((242, 179, 61), navy) == (242, 179, 61)  # an accent that reads is kept


@pytest.mark.parametrize("wall", [(220, 40, 60), (90, 7, 21), (245, 245, 245)])
def test_the_watermark_shows_on_a_wall_of_the_logos_own_colour(logo, wall):
    mark = watermark(Brand(logo=logo, watermark=True), 1080, 1920)
    assert mark is not None
    on_wall = Image.new("RGBA", mark.size, (*wall, 255))
    on_wall.alpha_composite(mark)
    pixels = np.asarray(on_wall.convert("RGB"), np.float32)
    # the red disc's outline stands out from a red wall by its glow; the logo is faint, not gone
    assert np.abs(pixels - np.array(wall, np.float32)).max(-1).max() > 60
    assert watermark(Brand(logo=logo, watermark=False), 1080, 1920) is None



def test_a_dark_logo_on_a_dark_end_card_sits_on_a_plate_that_reads(tmp_path, logo):
    dark = tmp_path / "dark.png"
    image = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((10, 10, 90, 90), fill=(30, 24, 20, 255))
    image.save(dark)
    brand = {"primary": "#3B0A2A", "accent": "#F06292"}
    card = end_card(1080, 1920, Brand(**brand, logo=dark), title="Bloom Glass Vase", price=Decimal(39), qr_url=None)
    box = card.layout.boxes["logo"]
    pixels = np.asarray(card.image.convert("RGB"))[int(box.y) + 4:int(box.bottom) - 4, int(box.x) + 4:int(box.right) - 4]
    plate = tuple(int(c) for c in np.median(pixels.reshape(-1, 3), axis=0))
    assert contrast_ratio(plate, (30, 24, 20)) >= 3  # the disc reads on what is around it
    assert (np.abs(pixels.astype(int) - (30, 24, 20)).max(-1) < 12).sum() > 2000  # and is drawn whole
    # a red logo reads on that card by itself: no plate, the card shows around it
    card = end_card(1080, 1920, Brand(**brand, logo=logo), title="Bloom Glass Vase", price=Decimal(39), qr_url=None)
    box = card.layout.boxes["logo"]
    pixels = np.asarray(card.image.convert("RGB"))
    corner, beside = pixels[int(box.y) + 2, int(box.right) - 2], pixels[int(box.y) + 2, int(box.right) + 6]
    assert contrast_ratio(tuple(int(c) for c in corner), tuple(int(c) for c in beside)) < 1.2

@pytest.mark.parametrize("size", SIZES)
def test_a_scene_photo_keeps_a_photos_shape_on_the_card(tmp_path, size):
    scene = tmp_path / "throw-on-a-shelf.jpg"
    demo_shot("haven-throw", 1).image.save(scene, quality=90)
    card = end_card(*size, Brand(), title="Haven Knit Throw", price=Decimal(75), product=scene, qr_url=None)
    box = card.layout.boxes["product"]
    assert 0.79 <= box.w / box.h <= 1.26  # never a sliver of the shelf


@pytest.mark.parametrize("size", [(720, 1280), (1080, 1080)])
def test_a_card_with_nothing_beside_its_text_centres_every_line(size, photo, logo):
    product = photo if size[1] > size[0] else None  # a tall card stacks the product above the text
    card = end_card(*size, Brand(logo=logo), title="Orbit Wireless Headphones", price=Decimal("199.00"),
                    compare_at_price=Decimal("249.00"), qr_url=URL, product=product)
    safe = card.layout.safe
    boxes, middle = card.layout.boxes, size[0] / 2  # the frame's centre, as the captions' (not the safe zone's)
    price_row = (boxes["price"].x + boxes["badge"].right) / 2
    action_row = (boxes["cta"].x + max(boxes["qr"].right, boxes["qr_label"].right)) / 2
    for name, centre in [("logo", boxes["logo"].center[0]), ("price row", price_row), ("action row", action_row)] + (
            [("product", boxes["product"].center[0])] if product else []):
        assert abs(centre - middle) < size[0] * 0.02, name
    drawn = np.asarray(card.image.convert("L"), np.int16)
    title = boxes["title"]
    text = np.abs(drawn[int(title.y):int(title.bottom), int(title.x):int(title.right)]
                  - np.median(drawn[int(title.y):int(title.bottom), int(title.x):int(title.right)])) > 80
    columns = np.flatnonzero(text.any(0)) + title.x
    assert abs((columns[0] + columns[-1]) / 2 - middle) < size[0] * 0.02  # the title's ink, not its box
    # the code's label sits under the code, centred on it
    assert boxes["qr_label"].y > boxes["qr"].bottom
    assert abs(boxes["qr_label"].center[0] - boxes["qr"].center[0]) < 2
    # and the stack sits in the middle of the safe zone, not at its top
    stack = min(b.y for b in boxes.values()), max(b.bottom for b in boxes.values())
    assert abs((stack[0] + stack[1]) / 2 - (safe.y + safe.h / 2)) < safe.h * 0.03
