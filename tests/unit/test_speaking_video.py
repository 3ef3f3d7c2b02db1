"""Videos that speak, checked as a viewer would: every template in every aspect ratio is
rendered with a voiceover of a two-sentence script; Debian's tesseract reads the captions off
frames taken while each phrase is said, ffmpeg's ebur128 measures the loudness, and the
WebVTT file is read back. Slow (18 renders): marked ``render``, run once."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import time
from difflib import SequenceMatcher
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from tests.vtt import read_vtt
from webapp.generation.script import write_script
from webapp.providers.base import GenerationRequest, ProviderState
from webapp.providers.local import LocalProvider
from webapp.render import ASPECT_SIZES, RECIPES, Brand, Caption, RenderSpec, render
from webapp.render.audio import measure_loudness
from webapp.render.layout import safe_zone
from webapp.render.spec import END_CARD_S, VOICE_START_S

pytestmark = pytest.mark.render

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
TESSERACT = shutil.which("tesseract")
INSTRUCTIONS = "Desk at night. USB-C charging."
SCRIPT = write_script(title="Aurora Desk Lamp", description="Warm dimmable LED. Touch control.",
                      price="$89.00", compare_at_price=None, instructions=INSTRUCTIONS)


def product_photos(folder: Path) -> list[Path]:
    """Three studio shots: a lamp-like shape on a pale backdrop, square, tall and wide."""
    paths = []
    for i, (size, colour) in enumerate([((900, 900), (232, 164, 48)), ((600, 900), (70, 132, 200)),
                                        ((1000, 640), (58, 104, 74))]):
        im = Image.new("RGB", size, (240, 238, 232))
        d = ImageDraw.Draw(im)
        w, h = size
        d.ellipse((w * 0.3, h * 0.78, w * 0.7, h * 0.86), fill=(200, 196, 188))
        d.rounded_rectangle((w * 0.4, h * 0.25, w * 0.6, h * 0.8), radius=20, fill=colour)
        path = folder / f"photo_{i}.jpg"
        im.save(path, quality=90)
        paths.append(path)
    return paths


def frame_at(path: Path, t: float, size: tuple[int, int]) -> np.ndarray:
    raw = subprocess.run([FFMPEG, "-v", "error", "-ss", f"{t:.3f}", "-i", str(path), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(size[1], size[0], 3)


def ocr(image: np.ndarray, folder: Path) -> str:
    """What tesseract reads on the caption plate in ``image``: light text on a dark plate
    (inverted), or dark text on a light one (human_usage's accent plates), as black on white."""
    lum = np.asarray(Image.fromarray(image).convert("L"))
    rows, cols = np.nonzero(lum < 80)
    if len(rows):  # the plate, or the dark text on a light plate: where the dark pixels are
        image = image[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    grey = Image.fromarray(image).convert("L")
    grey = grey.resize((grey.width * 2, grey.height * 2), Image.Resampling.LANCZOS)
    if np.mean(np.asarray(grey) > 150) > 0.5:  # a light plate: its dark text is the ink
        ink = ImageOps.expand(grey.point(lambda v: 0 if v < 110 else 255), border=24, fill=255)
    else:
        ink = grey.point(lambda v: 0 if v > 150 else 255)
    path = folder / "ocr.png"
    ink.save(path)
    return subprocess.run([TESSERACT, str(path), "stdout", "--psm", "6"], capture_output=True, text=True,
                          check=True).stdout


def ocr_dark_on_light(image: np.ndarray, folder: Path) -> str:
    """What tesseract reads in ``image`` as it is: dark type on a light card."""
    path = folder / "ocr.png"
    grey = Image.fromarray(image).convert("L")
    grey.resize((grey.width * 2, grey.height * 2), Image.Resampling.LANCZOS).save(path)
    return subprocess.run([TESSERACT, str(path), "stdout", "--psm", "6"], capture_output=True, text=True,
                          check=True).stdout


def normal(word: str) -> str:
    return re.sub(r"[^a-z0-9$]", "", word.lower())


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> list[Path]:
    return product_photos(tmp_path_factory.mktemp("photos"))


CASES = [(recipe, aspect) for recipe in sorted(RECIPES) for aspect in ASPECT_SIZES]


@pytest.mark.skipif(TESSERACT is None, reason="Debian's tesseract-ocr is needed to read the frames")
@pytest.mark.parametrize(("recipe", "aspect"), CASES, ids=[f"{r}-{a}" for r, a in CASES])
def test_a_speaking_video_says_and_shows_its_script(tmp_path, photos, recipe, aspect):
    spec = RenderSpec(recipe=recipe, images=tuple(photos), title="Aurora Desk Lamp", price="$89.00",
                      description="Warm dimmable LED. Touch control.", custom_instructions=INSTRUCTIONS,
                      aspect_ratio=aspect, music=True, script=SCRIPT.lines, voiceover=True,
                      preset="ultrafast", fps=15)  # half the frames: the checks look at a few
    result = render(spec, tmp_path / "v.mp4", tmp_path / "v.jpg")
    width, height = ASPECT_SIZES[aspect]

    # the script is said, whole and in order, and the video lasts as long as it needs
    said = [normal(w.text) for w in result.words]
    assert said == [normal(w) for line in SCRIPT.lines for w in line.split()]
    assert said[:5] == ["desk", "at", "night", "usbc", "charging"]
    last = result.words[-1].end
    # room for the end card after the last word, and no long silence
    assert END_CARD_S - 0.05 <= result.duration - last <= END_CARD_S + 0.6
    assert result.words[0].start >= VOICE_START_S

    # the caption box: inside the platform's safe zone, clear of the product's area
    box = result.layout.boxes["captions"]
    assert safe_zone(width, height).contains(box)
    for name, other in result.layout.boxes.items():
        if name.startswith("avoid_"):
            assert not box.intersects(other), name
    if aspect == "9:16":
        assert box.y >= 0.12 * height and box.bottom <= 0.80 * height and box.right <= 0.88 * width

    # what is on screen while each phrase is said: its words, read by OCR inside the box
    cues = read_vtt(result.captions_path, line_break=' ')
    x0, y0, x1, y1 = int(box.x), int(box.y), int(box.right), int(box.bottom)
    def unread(text: str, t: float) -> list[str]:
        seen = [normal(w) for w in ocr(frame_at(result.video_path, t, (width, height))[y0:y1, x0:x1],
                                       tmp_path).split()]
        return [word for word in text.split()
                if max((SequenceMatcher(None, normal(word), s).ratio() for s in seen), default=0) < 0.75]

    for start, end, text in cues:
        middle = [w for w in result.words if start - 0.001 <= w.start < end]  # (ms in the file)
        # a viewer has the whole cue to read it: OCR of one frame misses now and then, so up to
        # three frames (its middle word, its middle, a quarter in) must show every word once
        times = [(middle[len(middle) // 2].start + middle[len(middle) // 2].end) / 2, (start + end) / 2,
                 start + (end - start) / 4]
        misses = [(t, unread(text, t)) for t in times[:1]]
        for t in times[1:]:
            if not misses[-1][1]:
                break
            misses.append((t, unread(text, t)))
        assert not misses[-1][1], f"{text!r} not read whole at {[(round(t, 2), m) for t, m in misses]}"

    # the WebVTT cues cover the spoken words, in order
    assert [normal(w) for _, _, text in cues for w in text.split()] == said
    words = iter(result.words)
    for start, end, text in cues:
        for _ in text.split():
            w = next(words)
            assert start - 0.001 <= w.start < w.end <= end + 0.01
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(cues))

    # the mix plays at the platforms' loudness without clipping
    loudness = measure_loudness(FFMPEG, result.video_path)
    assert loudness.integrated == pytest.approx(-14.0, abs=1.0)
    assert loudness.true_peak <= -1.0


@pytest.mark.skipif(TESSERACT is None, reason="Debian's tesseract-ocr is needed to read the frames")
def test_merchant_timed_captions_take_the_place_of_the_words(tmp_path, photos):
    spec = RenderSpec(recipe="product_showcase", images=tuple(photos[:1]), title="Aurora Desk Lamp",
                      aspect_ratio="9:16", duration=8.0, script=SCRIPT.lines, voiceover=True,
                      captions=(Caption(0.5, 4.0, "Free shipping today"),), preset="ultrafast")
    result = render(spec, tmp_path / "v.mp4", tmp_path / "v.jpg")
    assert result.duration == pytest.approx(8.0, abs=0.05)
    assert read_vtt(result.captions_path, line_break=' ') == [(0.5, 4.0, "Free shipping today")]
    box = result.layout.boxes["captions"]
    crop = frame_at(result.video_path, 2.0, (720, 1280))[int(box.y):int(box.bottom), int(box.x):int(box.right)]
    assert "free shipping today" in " ".join(ocr(crop, tmp_path).lower().split())
    # the voice still speaks the script, paced into the chosen length
    assert [normal(w.text) for w in result.words][:3] == ["desk", "at", "night"]
    assert result.words[-1].end <= 8.0 - END_CARD_S + 0.3
    assert measure_loudness(FFMPEG, result.video_path).integrated == pytest.approx(-14.0, abs=1.0)


def test_without_voiceover_the_video_is_as_before(tmp_path, photos):
    spec = RenderSpec(recipe="lifestyle", images=tuple(photos[:1]), title="Aurora Desk Lamp", music=True,
                      script=SCRIPT.lines, preset="ultrafast")
    result = render(spec, tmp_path / "v.mp4", tmp_path / "v.jpg")
    assert result.duration == pytest.approx(8.0, abs=0.05)  # today's default length
    assert result.words == () and result.captions_path is None
    assert not (tmp_path / "v.vtt").exists()
    assert measure_loudness(FFMPEG, result.video_path).integrated == pytest.approx(-14.0, abs=1.0)


def test_the_local_provider_writes_the_webvtt_beside_the_video(tmp_path, photos):
    provider = LocalProvider({"MEDIA_DIR": str(tmp_path), "RENDER_SLOTS": 1})
    keys = []
    for photo in photos[:2]:  # the product's images, in the media storage
        (tmp_path / "products").mkdir(exist_ok=True)
        shutil.copy(photo, tmp_path / "products" / photo.name)
        keys.append(f"products/{photo.name}")
    request = GenerationRequest(
        video_id=7, reference="v7", template="human_usage", title="Aurora Desk Lamp", sku="AUR-100",
        description="Warm dimmable LED.", price="$89.00", image_files=tuple(keys), image_urls=(),
        custom_instructions=INSTRUCTIONS, aspect_ratio="9:16", duration=0, script=SCRIPT.lines,
        voiceover=True, workspace_id=3)
    try:
        job = provider.submit(request)
        deadline = time.monotonic() + 240
        while not (status := provider.status(job)).state.finished and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        provider.shutdown()
    assert status.state == ProviderState.SUCCEEDED, status.error
    result = status.result
    assert result.captions_file == result.video_file.removesuffix(".mp4") + ".vtt"
    assert result.captions_file.startswith("videos/3/7-")
    cues = read_vtt(tmp_path / result.captions_file, line_break=' ')
    assert " ".join(text for _, _, text in cues).startswith("Desk at night USB-C charging")
    assert 5.0 <= result.duration <= 30.0


# a long name beside a watermark: unboxing's banner shows it smaller than the captions, after
# its intro card opened it big
NAME_CASES = [("product_showcase", "16:9", "Aurora Desk Lamp", False), ("human_usage", "16:9", "Aurora Desk Lamp", False),
              ("unboxing", "1:1", "Aurora Desk Lamp", False), ("unboxing", "1:1", "Stride Running Sneaker", True),
              ("unboxing", "9:16", "Stride Running Sneaker", True), ("lifestyle", "9:16", "Aurora Desk Lamp", False)]


@pytest.mark.skipif(TESSERACT is None, reason="Debian's tesseract-ocr is needed to read the frames")
@pytest.mark.parametrize(("recipe", "aspect", "title", "watermarked"), NAME_CASES,
                         ids=[f"{r}-{a}-{t}" + ("-watermarked" if w else "") for r, a, t, w in NAME_CASES])
def test_the_name_is_on_screen_once_while_the_voice_says_it(tmp_path, photos, recipe, aspect, title, watermarked):
    """A script written from the product starts with its name. The showcase's hook already
    shows it in big type, so the captions leave that phrase to it (the WebVTT keeps it); so do
    unboxing's, whose intro card shows the name and hands it to the price banner while the voice
    still says it. human_usage shows it only in a small chip, so its captions still say it, big;
    lifestyle leaves it to the captions (its plate above them repeated it)."""
    script = write_script(title=title, description="Warm dimmable LED. Touch control.",
                          price="$89.00", compare_at_price=None, instructions="")
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (300, 100), (15, 118, 110, 255)).save(logo)
    brand = Brand(font="red-hat-display", logo=logo, watermark=True) if watermarked else Brand()
    spec = RenderSpec(recipe=recipe, images=tuple(photos), title=title, price="$89.00", brand=brand,
                      aspect_ratio=aspect, script=script.lines, voiceover=True, preset="ultrafast", fps=15)
    result = render(spec, tmp_path / "v.mp4", tmp_path / "v.jpg")
    cues = read_vtt(result.captions_path, line_break=" ")
    assert cues[0][2] == title
    captions = result.layout.boxes["captions"]

    def read(box, t: float, reader=ocr) -> list[str]:
        frame = frame_at(result.video_path, t, ASPECT_SIZES[aspect])
        return [normal(w) for w in reader(frame[int(box.y):int(box.bottom), int(box.x):int(box.right)],
                                          tmp_path).split()]

    said_at = (cues[0][0] + cues[0][1]) / 2
    name = {normal(word) for word in title.split()}
    if recipe == "human_usage":
        assert "chip" in result.layout.boxes
        assert name <= set(read(captions, said_at))
    elif recipe == "lifestyle":  # the captions alone say it: no plate above them repeats it
        assert name <= set(read(captions, said_at))
        spans = result.layout.spans
        assert [n for n in ("tagline", "name") if n in spans and spans[n][0] < said_at < spans[n][1]] == []
    else:
        if recipe == "product_showcase":
            assert name <= set(read(result.layout.boxes["hook"], said_at))
        else:  # dark type on the intro card, as the voice starts the name
            assert name <= set(read(result.layout.boxes["intro"], cues[0][0] + 0.1, ocr_dark_on_light))
        assert not any(name & set(read(captions, t)) for t in (cues[0][0] + 0.1, said_at, cues[0][1] - 0.1))
    # the next phrase is captioned as ever
    start, end, text = cues[1]
    assert [normal(w) for w in text.split()] == read(captions, (start + end) / 2)


@pytest.mark.skipif(TESSERACT is None, reason="Debian's tesseract-ocr is needed to read the frames")
@pytest.mark.parametrize(("recipe", "aspect"), [("product_showcase", "16:9"), ("product_showcase", "9:16"),
                                             ("lifestyle", "16:9")])
def test_the_poster_carries_no_phrase_of_the_voice(tmp_path, photos, recipe, aspect):
    """A poster with the captions on it showed a phrase cut from a sentence ("with three
    levels", "Makes any shelf") in the list, the share page and every unfurled link. It is the
    frame without them: the showcase's lower third names the product there; lifestyle, whose
    words are all spoken, shows its scene."""
    spec = RenderSpec(recipe=recipe, images=tuple(photos), title="Aurora Desk Lamp", price="$89.00",
                      aspect_ratio=aspect, script=SCRIPT.lines, voiceover=True, preset="ultrafast", fps=15)
    result = render(spec, tmp_path / "v.mp4", tmp_path / "v.jpg")
    box = result.layout.boxes["captions"]
    with Image.open(result.thumbnail_path) as im:
        plate = np.asarray(im.convert("RGB"))[int(box.y):int(box.bottom), int(box.x):int(box.right)]
    spoken = {normal(w.text) for w in result.words} - {""}
    read = {normal(word) for word in ocr(plate, tmp_path).split()} & spoken
    assert not read, read


@pytest.mark.skipif(TESSERACT is None, reason="Debian's tesseract-ocr is needed to read the frames")
def test_a_merchants_own_timed_caption_stays_on_the_poster(tmp_path, photos):
    """Their own whole line, typed to be seen, unlike a phrase of the voice."""
    spec = RenderSpec(recipe="lifestyle", images=tuple(photos), title="Aurora Desk Lamp", price="$89.00",
                      aspect_ratio="16:9", captions=(Caption(0.0, 7.0, "Warm light for late nights"),),
                      duration=8, preset="ultrafast", fps=15)
    result = render(spec, tmp_path / "v.mp4", tmp_path / "v.jpg")
    box = result.layout.boxes["captions"]
    with Image.open(result.thumbnail_path) as im:
        plate = np.asarray(im.convert("RGB"))[int(box.y):int(box.bottom), int(box.x):int(box.right)]
    assert {"warm", "light", "late", "nights"} & {normal(word) for word in ocr(plate, tmp_path).split()}
