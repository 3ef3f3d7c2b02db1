"""The end card every video closes on: logo, product, title, price (with the compare-at price
struck through and a "−N%" badge when there is a discount), the call to action and a QR code
a phone can scan from the screen.

Every box is measured first and placed through ``Layout.place`` (inside the safe zone, no
overlaps), then drawn; the returned layout is what tests check.
"""

from __future__ import annotations

import math
import re
import tempfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFilter

from .brand import (
    Brand,
    contrast_ratio,
    fit_image,
    load_logo,
    logo_colour,
    readable_ink,
    typeset,
)
from .compose import PhotoError, analyse, backdrop_png, cut_out, fill_crop
from .layout import Box, Layout
from .overlays import TextBlock, draw_block, layout_text
from .textutil import is_rtl

QR_QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks
QR_MIN_MODULE_PX = 4  # smallest module that still scans after a 720p JPEG round trip
QR_MAX_VERSION = 10  # 57 modules: past that, a link's code is too fine to scan off a phone's screen
SCENE_WIDEST, SCENE_NARROWEST = 1.25, 0.8  # width ÷ height of a scene photo on the card
PRICE_ROW_GAP, BADGE_PAD = 1.8, 1.2  # hundredths of the card's short side: between prices, in the badge


@dataclass
class EndCard:
    image: Image.Image  # RGBA, opaque
    layout: Layout


def discount_percent(price: Decimal | None, compare_at_price: Decimal | None) -> int | None:
    """Whole percent saved, rounded down (never promising more than the real discount); None
    without a higher compare-at price or when the saving is under 1 %."""
    if price is None or compare_at_price is None or compare_at_price <= price or compare_at_price <= 0:
        return None
    percent = math.floor((Decimal(compare_at_price) - Decimal(price)) * 100 / Decimal(compare_at_price))
    return percent if percent >= 1 else None


def price_label(value: Decimal, currency: str = "$") -> str:
    return f"{currency}{Decimal(value):,.2f}"


_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def parse_price(label: str | Decimal | None) -> Decimal | None:
    """The amount of a price label ("$1,299.99", "EUR 24", "24,00 €" is not read); None when
    it has no number."""
    if label is None or isinstance(label, Decimal):
        return label
    found = _NUMBER.search(label)
    if found is None:
        return None
    try:
        return Decimal(found.group().replace(",", ""))
    except InvalidOperation:
        return None


def _label(value: str | Decimal | None, currency: str) -> str | None:
    return price_label(value, currency) if isinstance(value, Decimal) else value


@dataclass
class _Text:
    block: TextBlock
    align: str


def _text(brand: Brand, text: str, max_w: float, size: float, *, bold: bool, max_lines: int = 1,
          min_size: float | None = None, centred: bool = False) -> _Text:
    fonts, drawn = typeset(brand.font, text)
    block = layout_text(fonts, drawn, int(max_w), int(size), bold=bold, max_lines=max_lines,
                        min_size=int(min_size) if min_size else None)
    return _Text(block, "center" if centred else "right" if is_rtl(drawn) else "left")


def _qr(url: str, target_px: float) -> Image.Image | None:
    """The QR code with its quiet zone on white, each module a whole number of pixels; None for
    a link too long to make a code a phone reads from a screen (the card keeps its button)."""
    try:
        code = segno.make(url, error="m", micro=False)
    except segno.DataOverflowError:
        return None
    if code.version > QR_MAX_VERSION:
        return None
    modules = np.array([list(row) for row in code.matrix], dtype=bool)
    side = modules.shape[0] + 2 * QR_QUIET_ZONE
    module_px = max(QR_MIN_MODULE_PX, int(target_px // side))
    grid = np.ones((side, side), np.uint8) * 255
    grid[QR_QUIET_ZONE:-QR_QUIET_ZONE, QR_QUIET_ZONE:-QR_QUIET_ZONE][modules] = 17
    image = Image.fromarray(grid).resize((side * module_px, side * module_px), Image.Resampling.NEAREST)
    return image.convert("RGBA")


def _product_image(product: Path | Image.Image, max_w: float, max_h: float, workdir: Path) -> Image.Image:
    """The product for the card: a transparent image (a cut-out) as it is; a packshot cut out;
    a scene cropped to the area's shape with rounded corners."""
    if isinstance(product, Image.Image):
        image = product.convert("RGBA")
    else:
        with Image.open(product) as opened:
            image = opened.convert("RGBA")
    if image.getchannel("A").getextrema()[0] < 250:
        bbox = image.getchannel("A").point(lambda a: 255 if a > 8 else 0).getbbox()
        return fit_image(image.crop(bbox) if bbox else image, max_w, max_h)
    analysis = analyse(product)
    if analysis.kind == "packshot":
        try:
            cut = cut_out(product, workdir / "endcard-product.png")
            with Image.open(cut.path) as opened:
                return fit_image(opened.convert("RGBA"), max_w, max_h)
        except PhotoError:
            pass
    # a scene keeps the shape of a photo (4:5 to 5:4), not the sliver a tall column would cut
    tile_w = min(max_w, max_h * SCENE_WIDEST)
    tile_h = min(max_h, tile_w / SCENE_NARROWEST)
    crop = fill_crop(analysis.size, analysis.product_box, tile_w / tile_h)
    tile = image.crop((round(crop.x), round(crop.y), round(crop.right), round(crop.bottom)))
    tile = tile.resize((max(1, round(tile_w)), max(1, round(tile_h))), Image.Resampling.LANCZOS)
    corners = Image.new("L", tile.size, 0)
    ImageDraw.Draw(corners).rounded_rectangle((0, 0, tile.width - 1, tile.height - 1),
                                              radius=round(min(tile.size) * 0.06), fill=255)
    tile.putalpha(corners)
    return tile


def _logo_on(logo: Image.Image, card_rgb: tuple[int, int, int]) -> Image.Image:
    """The logo as the card shows it: as it is, or, when its colours are too near the card's
    (a navy logo on a navy card), on a rounded plate of the ink that contrasts with them."""
    if contrast_ratio(logo_colour(logo), card_rgb) >= 3:
        return logo
    pad = max(2, round(logo.height * 0.22))
    plate = Image.new("RGBA", (logo.width + 2 * pad, logo.height + 2 * pad), (0, 0, 0, 0))
    ImageDraw.Draw(plate).rounded_rectangle((0, 0, plate.width - 1, plate.height - 1), radius=pad * 1.5,
                                            fill=(*readable_ink(logo_colour(logo)), 255))
    plate.alpha_composite(logo, (pad, pad))
    return plate


def _price_row_width(price: _Text | None, was: _Text | None, badge: _Text | None, u: float) -> float:
    """The price row as drawn: the price, the struck-through was-price and the badge (padded)."""
    if price is None:
        return 0.0
    return (price.block.width + (PRICE_ROW_GAP * u + was.block.width if was else 0)
            + (PRICE_ROW_GAP * u + badge.block.width + 2 * BADGE_PAD * u if badge else 0))


def _draw_text(canvas: Image.Image, text: _Text, box: Box, fill: tuple[int, int, int, int]) -> None:
    draw_block(ImageDraw.Draw(canvas), text.block, box.x, box.y, fill, align=text.align, box_w=round(box.w))


def end_card(width: int, height: int, brand: Brand, *, title: str, price: Decimal | str | None,
             compare_at_price: Decimal | str | None = None, cta_text: str | None = None, qr_url: str | None = None,
             product: Path | Image.Image | None = None, currency: str = "$") -> EndCard:
    """The last frame of a video, ``width`` x ``height``, in the brand's colours. Prices are
    amounts or labels as the catalog shows them ("$1,299.99"); ``product`` a photo, or a
    cut-out (an RGBA image) to show as it is."""
    if width < 240 or height < 240:
        raise ValueError(f"an end card needs at least 240x240 pixels, not {width}x{height}")
    layout = Layout(width, height)
    zone = layout.safe
    u = min(width, height) / 100
    gap = 2.4 * u
    wide = product is not None and height / width <= 1.2  # the product beside the text, not above it
    discount = discount_percent(parse_price(price), parse_price(compare_at_price))
    price, compare_at_price = _label(price, currency), _label(compare_at_price, currency)
    cta = (cta_text or brand.cta_text).strip()

    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        dark = readable_ink(brand.primary_rgb) == (255, 255, 255)
        light_at = (0.27, 0.45) if wide else (0.5, 0.35)
        backdrop = backdrop_png(width, height, brand.primary_rgb, brand.accent_rgb, workdir / "backdrop.png",
                                light_at=light_at, dark=dark)
        with Image.open(backdrop) as opened:
            canvas = opened.convert("RGBA")
        card_rgb = tuple(int(c) for c in np.asarray(canvas)[..., :3].reshape(-1, 3).mean(0))
        ink_rgb = readable_ink(card_rgb)
        ink = (*ink_rgb, 255)
        muted = (*ink_rgb, 170)

        # a wide card sets the product beside the column; others stack it above the title, centred
        # on the frame as the captions are (9:16's safe zone keeps clear of a right rail: its
        # centre is not the frame's), as wide as the safe zone allows there
        half = min(width / 2 - zone.x, zone.right - width / 2)
        column = Box(zone.x + zone.w * 0.5, zone.y, zone.w * 0.5, zone.h) if wide else Box(
            width / 2 - half, zone.y, 2 * half, zone.h)

        # measure every piece first
        logo = _logo_on(fit_image(load_logo(brand.logo), column.w * 0.5, 8 * u), card_rgb) if brand.logo else None
        title_text = _text(brand, title, column.w, 6.2 * u, bold=True, max_lines=3, min_size=3.4 * u, centred=not wide)
        scale = 1.0
        for _ in range(4):  # the price row is one line: shrink it until it fits the column
            price_text = _text(brand, price, column.w, 8 * u * scale, bold=True) if price else None
            was_text = (_text(brand, compare_at_price, column.w, 4.6 * u * scale, bold=False)
                        if discount and compare_at_price else None)
            badge_text = (_text(brand, f"\u2212{discount}%", column.w, 4.2 * u * scale, bold=True)
                          if discount else None)
            row_w = _price_row_width(price_text, was_text, badge_text, u)
            if row_w <= column.w:
                break
            scale *= column.w / row_w * 0.97
        qr_image = _qr(qr_url, min(24 * u, column.w * 0.4)) if qr_url else None
        pad_x, pad_y = 2.6 * u, 1.6 * u
        cta_room = column.w - (qr_image.width + gap if qr_image else 0) - 2 * pad_x
        cta_label = _text(brand, cta, min(cta_room, column.w * 0.6), 4.6 * u, bold=True, min_size=2.6 * u)
        scan_text = _text(brand, "Scan to shop", column.w * 0.4, 3.2 * u, bold=False) if qr_image else None

        cta_w, cta_h = cta_label.block.width + 2 * pad_x, cta_label.block.height + 2 * pad_y
        # the code with its label under it, as a phone's user looks for it
        qr_h = qr_image.height + 0.8 * u + scan_text.block.height if qr_image and scan_text else 0
        row_h = max(cta_h, qr_h)
        price_h = max((price_text.block.height if price_text else 0), (was_text.block.height if was_text else 0),
                      (badge_text.block.height + 1.4 * u if badge_text else 0))
        fixed = [logo.height if logo else 0, title_text.block.height, price_h, row_h]
        needed = sum(fixed) + gap * (sum(1 for f in fixed if f) - 1)
        item, beside = None, Box(zone.x, zone.y, zone.w * 0.46, zone.h)
        if product is not None and wide:
            item = _product_image(product, beside.w - 2, beside.h - 2, workdir)
        elif product is not None and zone.h - needed - gap > 10 * u:
            item = _product_image(product, column.w - 2, zone.h - needed - gap - 2, workdir)
            needed += item.height + gap

        # place: a vertical stack centred in its column; without a product beside it, each line centred too
        top = column.y + max(0.0, (column.h - needed) / 2)

        def across(width: float) -> float:
            return column.x if wide else column.x + (column.w - width) / 2

        if logo:
            layout.place("logo", Box(across(logo.width), top, logo.width, logo.height))
            canvas.alpha_composite(logo, (round(across(logo.width)), round(top)))
            top += logo.height + gap
        if item is not None:
            area = beside if wide else Box(column.x, top, column.w, item.height)
            px = area.x + (area.w - item.width) / 2
            py = area.y + (area.h - item.height) / 2
            box = layout.place("product", Box(px, py, item.width, item.height))
            shadow = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
            ImageDraw.Draw(shadow).ellipse((box.x + box.w * 0.12, box.bottom - 1.2 * u, box.right - box.w * 0.12,
                                            box.bottom + 1.4 * u), fill=(0, 0, 0, 90))
            canvas.alpha_composite(shadow.filter(ImageFilter.GaussianBlur(1.4 * u)))
            canvas.alpha_composite(item, (round(box.x), round(box.y)))
            if not wide:
                top = box.bottom + gap
        title_box = layout.place("title", Box(column.x, top, column.w, title_text.block.height))
        _draw_text(canvas, title_text, title_box, ink)
        top = title_box.bottom + gap
        if price_text:
            box = layout.place("price", Box(across(row_w), top, price_text.block.width, price_text.block.height))
            _draw_text(canvas, price_text, box, ink)
            px = box.right + PRICE_ROW_GAP * u
            if was_text:
                was_y = box.bottom - was_text.block.height - 0.6 * u
                was_box = layout.place("compare_at", Box(px, was_y, was_text.block.width, was_text.block.height))
                _draw_text(canvas, was_text, was_box, muted)
                ascent = was_text.block.font.getmetrics()[0]
                strike_y = was_box.y + ascent * 0.62
                ImageDraw.Draw(canvas).line((was_box.x - 0.3 * u, strike_y, was_box.right + 0.3 * u, strike_y),
                                            fill=muted, width=max(2, round(was_text.block.size / 12)))
                px = was_box.right + PRICE_ROW_GAP * u
            if badge_text:
                bw, bh = badge_text.block.width + 2 * BADGE_PAD * u, badge_text.block.height + 1.4 * u
                badge = layout.place("badge", Box(px, box.y + (box.h - bh) / 2, bw, bh))
                ImageDraw.Draw(canvas).rounded_rectangle((badge.x, badge.y, badge.right, badge.bottom),
                                                         radius=bh / 2, fill=(*brand.accent_rgb, 255))
                _draw_text(canvas, badge_text, Box(badge.x + BADGE_PAD * u, badge.y + 0.7 * u, badge_text.block.width,
                                                   badge_text.block.height), (*readable_ink(brand.accent_rgb), 255))
            top = max(box.bottom, top + price_h) + gap
        row_y = top
        qr_w = max(qr_image.width, scan_text.block.width) if qr_image and scan_text else 0
        cta_x = across(cta_w + (gap + qr_w if qr_w else 0))
        cta_box = layout.place("cta", Box(cta_x, row_y + (row_h - cta_h) / 2, cta_w, cta_h))
        ImageDraw.Draw(canvas).rounded_rectangle((cta_box.x, cta_box.y, cta_box.right, cta_box.bottom),
                                                 radius=cta_h / 2, fill=(*brand.accent_rgb, 255))
        _draw_text(canvas, cta_label, Box(cta_box.x + pad_x, cta_box.y + pad_y, cta_label.block.width,
                                          cta_label.block.height), (*readable_ink(brand.accent_rgb), 255))
        if qr_image is not None and scan_text is not None:
            qr_centre = column.right - qr_w / 2 if wide else cta_box.right + gap + qr_w / 2
            qr_box = layout.place("qr", Box(qr_centre - qr_image.width / 2, row_y + (row_h - qr_h) / 2,
                                            qr_image.width, qr_image.height))
            canvas.alpha_composite(qr_image, (round(qr_box.x), round(qr_box.y)))
            box = layout.place("qr_label", Box(qr_centre - scan_text.block.width / 2, qr_box.bottom + 0.8 * u,
                                               scan_text.block.width, scan_text.block.height))
            _draw_text(canvas, scan_text, box, muted)
    return EndCard(canvas, layout)
