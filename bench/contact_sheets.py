"""Contact sheets of the six templates in the three aspect ratios, to look at what a merchant
downloads: for each template, one row per aspect ratio with its hook (0.5 s), a middle frame
and its end card, taken from full renders of a demo product with a demo brand kit, a voiceover,
captions and music. The end card's QR code is read back from the MP4's last frame with
zxing-cpp and its text printed under the row.

    python -m bench.contact_sheets [--out docs] [--only product_showcase,lifestyle]

Writes docs/contact-<template>.png (`make contact-sheets`).
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import zxingcpp
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from webapp.catalog.demo import DEMO_BY_KEY, demo_photo
from webapp.generation.script import write_script
from webapp.render import ASPECT_SIZES, FONTS, Brand, DirectoryCache, RenderSpec, render

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
ROW_HEIGHTS = {"16:9": 216, "9:16": 480, "1:1": 300}


@dataclass(frozen=True)
class Kit:
    name: str
    primary: str
    accent: str
    font: str
    mark: tuple[int, int, int]


KITS = (
    Kit("NORTHWIND", "#1E2A44", "#F2B33D", "manrope", (242, 179, 61)),
    Kit("Maison", "#F4E9DD", "#C8102E", "fjalla-one", (200, 16, 46)),
    Kit("VERDE", "#0F766E", "#FACC15", "red-hat-display", (250, 204, 21)),
)
# template -> (demo product, brand kit)
CASES = {
    "product_showcase": ("orbit-headphones", KITS[0]),
    "human_usage": ("trail-pack", KITS[2]),
    "store_display": ("luma-candle", KITS[1]),
    "lifestyle": ("nimbus-mug", KITS[1]),
    "technical_demo": ("pulse-watch", KITS[0]),
    "unboxing": ("stride-sneaker", KITS[2]),
}


def logo(kit: Kit, path: Path) -> Path:
    """A wordmark: a round mark in the accent and the name, on transparency."""
    font = ImageFont.truetype(_font_file(kit.font), 64)
    image = Image.new("RGBA", (520, 120), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 12, 104, 108), fill=(*kit.mark, 255))
    ink = (255, 255, 255, 255) if kit.primary in ("#1E2A44", "#0F766E") else (30, 24, 20, 255)
    draw.text((124, 60), kit.name, fill=ink, font=font, anchor="lm")
    bbox = image.getchannel("A").getbbox()
    image.crop(bbox).save(path)
    return path


def _font_file(key: str) -> str:
    return str(FONTS[key].bold or FONTS[key].regular)


def frame_at(video: Path, t: float) -> Image.Image:
    raw = subprocess.run([FFMPEG, "-v", "error", "-ss", f"{t:.3f}", "-i", str(video), "-frames:v", "1",
                          "-f", "image2pipe", "-vcodec", "png", "-"], capture_output=True, check=True).stdout
    return Image.open(io.BytesIO(raw)).convert("RGB")


def render_case(template: str, aspect: str, folder: Path) -> tuple[Path, float, list[str]]:
    key, kit = CASES[template]
    product = DEMO_BY_KEY[key]
    images = []
    for position in range(len(product.shots)):
        path = folder / f"{key}-{position}.jpg"
        if not path.exists():
            path.write_bytes(demo_photo(key, position))
        images.append(path)
    brand = Brand(primary=kit.primary, accent=kit.accent, font=kit.font, logo=logo(kit, folder / f"logo-{kit.name}.png"),
                  cta_text="Shop now", cta_url="https://shop.example.com", watermark=True)
    price = f"${product.price}"
    was = f"${product.compare_at_price}" if product.compare_at_price else None
    script = write_script(title=product.title, description=product.description, price=price, compare_at_price=was,
                          instructions="")
    spec = RenderSpec(recipe=template, images=tuple(images), title=product.title, price=price, compare_at_price=was,
                      description=product.description, aspect_ratio=aspect, music=True, script=script.lines,
                      voiceover=True, brand=brand, link=f"https://shop.example.com/products/{key}")
    video = folder / f"{template}-{aspect.replace(':', 'x')}.mp4"
    result = render(spec, video, video.with_suffix(".jpg"), looks=DirectoryCache(folder / "looks"))
    last = frame_at(video, result.duration - 0.1)
    codes = [found.text for found in zxingcpp.read_barcodes(np.asarray(last))]
    return video, result.duration, codes


def sheet(template: str, rows: list[tuple[str, Path, float, list[str]]]) -> Image.Image:
    font = ImageFont.load_default(size=15)
    gap, label_h = 8, 22
    made = []
    for aspect, video, duration, codes in rows:
        h = ROW_HEIGHTS[aspect]
        times = (0.5, duration * 0.5, duration - 0.1)
        frames = [frame_at(video, t) for t in times]
        frames = [f.resize((round(f.width * h / f.height), h), Image.Resampling.LANCZOS) for f in frames]
        qr = f"QR: {codes[0]}" if codes else "QR: not read"
        label = f"{aspect}   {times[0]:.1f} s · {times[1]:.1f} s · {times[2]:.1f} s of {duration:.1f} s   {qr}"
        made.append((label, frames))
    width = max(sum(f.width for f in frames) + gap * (len(frames) - 1) for _, frames in made)
    height = sum(label_h + frames[0].height + gap for _, frames in made) + 30
    out = Image.new("RGB", (width + 2 * gap, height), (250, 250, 250))
    draw = ImageDraw.Draw(out)
    draw.text((gap, 6), template, fill=(17, 24, 39), font=ImageFont.load_default(size=18))
    y = 30
    for label, frames in made:
        draw.text((gap, y + 3), label, fill=(55, 65, 81), font=font)
        y += label_h
        x = gap
        for f in frames:
            out.paste(f, (x, y))
            x += f.width + gap
        y += frames[0].height + gap
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--only", help="comma-separated templates")
    parser.add_argument("--keep", type=Path, help="keep the rendered videos in this folder")
    args = parser.parse_args()
    templates = args.only.split(",") if args.only else list(CASES)
    args.out.mkdir(parents=True, exist_ok=True)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="contact-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for template in templates:
            rows = []
            for aspect in ASPECT_SIZES:
                started = time.monotonic()
                video, duration, codes = render_case(template, aspect, folder)
                print(f"{template} {aspect}: {duration:.1f} s video in {time.monotonic() - started:.0f} s, "
                      f"QR {codes or 'NOT READ'}", flush=True)
                failed += not codes
                rows.append((aspect, video, duration, codes))
            path = args.out / f"contact-{template}.png"
            sheet(template, rows).save(path, optimize=True)
            print(f"wrote {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
