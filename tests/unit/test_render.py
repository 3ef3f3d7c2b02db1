"""The local renderer, checked the way a user would: by opening the files it writes.

Renders are short (5 s) and mostly x264 ``ultrafast`` so the whole file stays quick; one
module-scoped fixture renders every recipe once and several tests inspect those files.
"""

from __future__ import annotations

import re
import stat
import subprocess
import threading
import time
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image, ImageDraw

from webapp.render import (
    ASPECT_SIZES,
    RECIPES,
    Brand,
    Caption,
    InvalidImageError,
    RenderCanceled,
    RenderError,
    RenderSpec,
    render,
    render_instant,
    render_preview,
)
from webapp.render.ffmpeg import run

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()

DESCRIPTION = (
    "Double-wall vacuum insulation keeps drinks cold for 24 hours. Leak-proof lid, fits cup "
    "holders. BPA-free stainless steel."
)
INSTRUCTIONS = "Take it on every hike. Cold water all day long."

# recipe -> (aspect, music): spread the options over the six renders of the fixture
PLAN = {
    "product_showcase": ("16:9", True),
    "store_display": ("16:9", False),
    "lifestyle": ("9:16", False),
    "technical_demo": ("1:1", False),
    "unboxing": ("16:9", False),
    "human_usage": ("9:16", False),
}


# -- helpers ----------------------------------------------------------------------------------

def make_images(folder: Path) -> list[Path]:
    """Four product photos of different shapes and formats."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    # 1. studio shot on white, landscape JPEG
    im = Image.new("RGB", (900, 600), (246, 246, 246))
    d = ImageDraw.Draw(im)
    d.rounded_rectangle((360, 120, 540, 520), radius=30, fill=(210, 60, 50))
    paths.append(folder / "bottle.jpg")
    im.save(paths[-1], quality=90)
    # 2. transparent cut-out, portrait PNG
    im = Image.new("RGBA", (500, 800), (0, 0, 0, 0))
    ImageDraw.Draw(im).ellipse((60, 200, 440, 580), fill=(40, 110, 200, 255))
    paths.append(folder / "ring.png")
    im.save(paths[-1])
    # 3. busy photo (no plain border), wide WebP
    arr = np.zeros((400, 1000, 3), np.uint8)
    arr[..., 0] = np.linspace(40, 220, 1000, dtype=np.uint8)[None, :]
    arr[..., 1] = np.linspace(200, 60, 400, dtype=np.uint8)[:, None]
    arr[..., 2] = 90
    paths.append(folder / "scene.webp")
    Image.fromarray(arr).save(paths[-1], quality=90)
    # 4. square grey-scale JPEG
    im = Image.new("L", (700, 700), 200)
    ImageDraw.Draw(im).rectangle((200, 200, 500, 500), fill=60)
    paths.append(folder / "box.jpg")
    im.save(paths[-1], quality=90)
    return paths


def media_info(path: Path) -> dict:
    """What ``ffmpeg -i`` says about a file (parsed here, independently of the renderer)."""
    err = subprocess.run([FFMPEG, "-hide_banner", "-i", str(path)], capture_output=True, text=True,
                         check=False).stderr
    info: dict = {"text": err}
    m = re.search(r"Duration: (\d+):(\d+):([\d.]+)", err)
    info["duration"] = int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3]) if m else None
    v = re.search(r"Video: (\w+).*?, (yuv\w+)\(.*?\), (\d+)x(\d+)", err)
    info["vcodec"], info["pix_fmt"] = (v[1], v[2]) if v else (None, None)
    info["size"] = (int(v[3]), int(v[4])) if v else None
    a = re.search(r"Audio: (\w+)", err)
    info["acodec"] = a[1] if a else None
    return info


def frame_at(path: Path, t: float) -> np.ndarray:
    """The decoded RGB frame shown at ``t`` seconds."""
    w, h = media_info(path)["size"]
    raw = subprocess.run(
        [FFMPEG, "-v", "error", "-ss", f"{t:.3f}", "-i", str(path), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(h, w, 3).astype(np.int16)


def spec_for(recipe: str, images, **kw) -> RenderSpec:
    base = {
        "recipe": recipe, "images": tuple(images), "title": "Aurora Insulated Bottle 750 ml",
        "price": "$49.00", "description": DESCRIPTION, "custom_instructions": INSTRUCTIONS,
        "duration": 5.0, "preset": "ultrafast",
    }
    base.update(kw)
    return RenderSpec(**base)


def fake_ffmpeg(folder: Path, body: str) -> str:
    script = folder / "fake-ffmpeg.sh"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


# -- one render of every recipe ---------------------------------------------------------------

@pytest.fixture(scope="module")
def images(tmp_path_factory) -> list[Path]:
    return make_images(tmp_path_factory.mktemp("images"))


@pytest.fixture(scope="module")
def renders(tmp_path_factory, images):
    out = tmp_path_factory.mktemp("renders")
    results = {}
    for recipe, (aspect, music) in PLAN.items():
        calls: list[tuple[int, str]] = []
        spec = spec_for(recipe, images, aspect_ratio=aspect, music=music,
                        captions=(Caption(0.5, 2.5, "Keeps drinks cold for 24 hours"),))
        result = render(spec, out / f"{recipe}.mp4", out / f"{recipe}.jpg",
                        on_progress=lambda p, s, calls=calls: calls.append((p, s)))
        results[recipe] = (spec, result, calls)
    return results


def test_plan_covers_every_recipe():
    assert set(PLAN) == set(RECIPES) == {
        "product_showcase", "human_usage", "store_display", "lifestyle", "technical_demo", "unboxing",
    }


@pytest.mark.parametrize("recipe", sorted(PLAN))
def test_every_recipe_makes_a_playable_h264_mp4(renders, recipe):
    spec, result, _ = renders[recipe]
    info = media_info(result.video_path)
    assert info["vcodec"] == "h264", info["text"]
    assert info["pix_fmt"] == "yuv420p"
    assert info["size"] == ASPECT_SIZES[spec.aspect_ratio]
    assert abs(info["duration"] - 5.0) <= 0.1
    frames, _secs = imageio_ffmpeg.count_frames_and_secs(str(result.video_path))
    assert abs(frames - 150) <= 1  # 5 s at 30 fps, every frame decodable (±1 frame: within the ±0.1 s promised)
    assert (result.width, result.height) == ASPECT_SIZES[spec.aspect_ratio]
    assert abs(result.duration - 5.0) <= 0.1
    assert result.size_bytes == result.video_path.stat().st_size > 10_000
    # faststart: the index (moov) comes before the media data (mdat)
    head = result.video_path.read_bytes()[:200_000]
    assert 0 <= head.find(b"moov") < head.find(b"mdat")


@pytest.mark.parametrize("recipe", sorted(PLAN))
def test_the_first_frame_is_a_picture_not_black(renders, recipe):
    """A feed shows the first frame before the video plays: it opens on the composition, not
    on a fade from black."""
    _, result, _ = renders[recipe]
    first = frame_at(result.video_path, 0)
    assert first.mean() > 40 and first.std() > 12, (first.mean(), first.std())


def test_portrait_and_square_outputs_have_exact_sizes(renders):
    assert media_info(renders["lifestyle"][1].video_path)["size"] == (720, 1280)
    assert media_info(renders["human_usage"][1].video_path)["size"] == (720, 1280)
    assert media_info(renders["technical_demo"][1].video_path)["size"] == (1080, 1080)


def test_music_adds_an_aac_track_and_no_music_means_no_audio(renders):
    assert media_info(renders["product_showcase"][1].video_path)["acodec"] == "aac"
    for recipe in ("store_display", "lifestyle", "technical_demo", "unboxing", "human_usage"):
        assert media_info(renders[recipe][1].video_path)["acodec"] is None, recipe


def test_music_track_is_not_silent(renders):
    path = renders["product_showcase"][1].video_path
    err = subprocess.run([FFMPEG, "-hide_banner", "-i", str(path), "-map", "0:a", "-af", "volumedetect",
                          "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    mean = float(re.search(r"mean_volume: (-?[\d.]+) dB", err)[1])
    assert mean > -45


@pytest.mark.parametrize("recipe", sorted(PLAN))
def test_thumbnail_is_a_jpeg_of_the_video_size(renders, recipe):
    spec, result, _ = renders[recipe]
    with Image.open(result.thumbnail_path) as im:
        assert im.format == "JPEG"
        assert im.size == ASPECT_SIZES[spec.aspect_ratio]
        assert np.asarray(im.convert("L")).std() > 5  # a picture, not a blank frame


def test_thumbnail_is_a_frame_of_the_video(renders):
    _spec, result, _ = renders["store_display"]
    with Image.open(result.thumbnail_path) as im:
        thumb = np.asarray(im.convert("RGB").resize((160, 90)), np.int16)
    reader = imageio_ffmpeg.read_frames(str(result.video_path))
    meta = next(reader)
    w, h = meta["size"]
    best = min(
        np.abs(np.asarray(Image.frombytes("RGB", (w, h), frame).resize((160, 90)), np.int16) - thumb).mean()
        for frame in reader
    )
    assert best < 4


def test_progress_increases_and_ends_at_100(renders):
    for recipe, (_spec, _result, calls) in renders.items():
        percents = [p for p, _ in calls]
        assert len(percents) >= 2, recipe
        assert percents == sorted(percents), recipe
        assert percents[-1] == 100
        assert all(0 <= p <= 100 for p in percents)
        assert all(isinstance(stage, str) and stage for _, stage in calls)
    # the renders take more than a second, so ffmpeg's own progress shows up in between
    stages = [s for _, (_, _, calls) in renders.items() for _, s in calls]
    assert any(s.startswith("Rendering") for s in stages)


def test_recipes_look_different(renders):
    showcase = frame_at(renders["product_showcase"][1].video_path, 2.0)
    store = frame_at(renders["store_display"][1].video_path, 2.0)
    unboxing = frame_at(renders["unboxing"][1].video_path, 2.0)
    assert np.abs(showcase - store).mean() > 20
    assert np.abs(showcase - unboxing).mean() > 10
    assert np.abs(store - unboxing).mean() > 10


def test_video_moves(renders):
    path = renders["product_showcase"][1].video_path
    assert np.abs(frame_at(path, 0.6) - frame_at(path, 1.4)).mean() > 1.0


# -- captions and text ------------------------------------------------------------------------

def test_timed_caption_is_burned_in_its_box_while_it_is_on(tmp_path, images):
    caption = Caption(1.0, 3.0, "Keeps drinks cold for 24 hours")
    plain = render(spec_for("product_showcase", images[:1]), tmp_path / "a.mp4", tmp_path / "a.jpg")
    captioned = render(spec_for("product_showcase", images[:1], captions=(caption,)),
                       tmp_path / "b.mp4", tmp_path / "b.jpg")
    # the caption is drawn in the box the layout gave it, clear of the product, and only while on
    box = captioned.layout.boxes["captions"]
    assert not box.intersects(captioned.layout.boxes["product_0"])
    assert captioned.layout.spans["captions"] == (1.0, 3.0)
    region = (slice(int(box.y), int(box.y + box.h)), slice(int(box.x), int(box.x + box.w)))

    def change(t: float) -> float:
        return float(np.abs(frame_at(plain.video_path, t)[region] - frame_at(captioned.video_path, t)[region]).mean())

    assert change(2.0) > 15
    assert change(4.0) < 2


def test_long_text_is_wrapped_and_shrunk_to_the_width():
    from webapp.render.fonts import FontSet
    from webapp.render.overlays import layout_text

    fonts = FontSet.for_texts(["x"])
    title = "The Extraordinarily Comfortable Everyday Ergonomic Office Chair With Lumbar Support " * 2
    block = layout_text(fonts, title, 600, 60, bold=True, max_lines=2)
    assert len(block.lines) <= 2
    assert block.width <= 600
    assert block.size < 60
    assert block.lines[-1].endswith(("...", "\u2026"))


def test_text_without_installed_fonts_is_folded_to_the_builtin_font(monkeypatch):
    from webapp.render import fonts

    monkeypatch.setattr(fonts, "_system_paths", lambda: None)
    fs = fonts.FontSet.for_texts(["Cr\u00e8me br\u00fbl\u00e9e \u2013 \u20ac5"])
    assert fs.regular_path is None
    assert fs.prepare("Cr\u00e8me br\u00fbl\u00e9e \u2013 \u20ac5") == "Creme brulee - EUR 5"


def test_bullets_tagline_and_phrases_come_from_the_users_text():
    from webapp.render.textutil import bullets, phrases, tagline

    items = bullets(DESCRIPTION)
    assert 2 <= len(items) <= 4
    assert items[0].startswith("Double-wall vacuum insulation")
    assert all(len(i) <= 60 for i in items)
    assert tagline(DESCRIPTION, "Focus on the lid", "T").startswith("Double-wall")
    assert tagline(DESCRIPTION, "Your everyday carry, upgraded.", "T") == "Your everyday carry, upgraded"
    lines = phrases("Carry it to work, to the gym and on weekend trips. Built to last.", 8.0)
    assert lines[0] == "Carry it to work"
    assert all(len(p.split()) <= 5 for p in lines)


# -- failures ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"recipe": "slideshow"}, "Unknown recipe"),
        ({"duration": 4.0}, "Duration"),
        ({"duration": 31.0}, "Duration"),
        ({"aspect_ratio": "4:3"}, "aspect ratio"),
        ({"images": ()}, "image"),
        ({"custom_instructions": "x" * 501}, "500"),
    ],
)
def test_invalid_spec_is_a_value_error(tmp_path, images, change, message):
    with pytest.raises(ValueError, match=message):
        spec = spec_for(**{"recipe": "product_showcase", "images": images, **change})
        render(spec, tmp_path / "v.mp4", tmp_path / "t.jpg")
    assert list(tmp_path.iterdir()) == []


def test_corrupt_image_is_reported_by_name_before_ffmpeg_starts(tmp_path, images):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg" * 10)
    marker = tmp_path / "ffmpeg-was-started"
    exe = fake_ffmpeg(tmp_path, f"touch {marker}\nexit 0\n")
    out = tmp_path / "out"
    with pytest.raises(InvalidImageError, match=r"Product image 2 \(broken\.jpg\)"):
        render(spec_for("product_showcase", [images[0], broken]), out / "v.mp4", out / "t.jpg",
               ffmpeg_exe=exe)
    assert not marker.exists()
    assert not out.exists() or list(out.iterdir()) == []


def test_truncated_and_missing_images_are_invalid(tmp_path, images):
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(images[0].read_bytes()[:2000])
    with pytest.raises(InvalidImageError, match=r"cut\.jpg"):
        render(spec_for("lifestyle", [truncated]), tmp_path / "v.mp4", tmp_path / "t.jpg")
    with pytest.raises(InvalidImageError, match=r"gone\.png"):
        render(spec_for("lifestyle", [tmp_path / "gone.png"]), tmp_path / "v.mp4", tmp_path / "t.jpg")
    assert not (tmp_path / "v.mp4").exists()


def test_ffmpeg_failure_reports_the_end_of_its_stderr(tmp_path, images):
    lines = "".join(f"echo 'fake line {i}' >&2\n" for i in range(1, 10))
    exe = fake_ffmpeg(tmp_path, lines + "echo 'Conversion failed: disk on fire' >&2\nexit 1\n")
    out = tmp_path / "out"
    with pytest.raises(RenderError) as info:
        render(spec_for("unboxing", images[:2]), out / "v.mp4", out / "t.jpg", ffmpeg_exe=exe)
    message = str(info.value)
    assert "exit code 1" in message
    assert "Conversion failed: disk on fire" in message
    assert "fake line 9" in message
    assert "fake line 1\n" not in message + "\n"
    assert not isinstance(info.value, (InvalidImageError, RenderCanceled))
    assert list(out.iterdir()) == []  # no partial files


def test_an_ffmpeg_that_stops_putting_out_frames_is_run_again(tmp_path):
    """ffmpeg 9 now and then deadlocks on a graph (every thread asleep): the run with no new
    frame for stall_s is stopped and run again, and the second run's result stands."""
    runs = tmp_path / "runs"
    exe = fake_ffmpeg(tmp_path, f"echo run >> {runs}\n"
                                "echo out_time_us=40000; echo progress=continue\n"
                                f"if [ $(wc -l < {runs}) -eq 1 ]; then exec sleep 30; fi\n"
                                "echo out_time_us=3500000; echo progress=end\nexit 0\n")
    started = time.monotonic()
    run([exe, "-progress", "pipe:1"], total_seconds=3.5, stall_s=0.5)
    assert runs.read_text().count("run") == 2 and time.monotonic() - started < 10


def test_an_ffmpeg_stuck_every_time_is_a_render_error(tmp_path):
    exe = fake_ffmpeg(tmp_path, "echo out_time_us=40000; echo progress=continue\nexec sleep 30\n")
    with pytest.raises(RenderError, match="stopped making progress"):
        run([exe, "-progress", "pipe:1"], total_seconds=3.5, stall_s=0.3)


def test_cancel_stops_ffmpeg_and_leaves_no_file(tmp_path, images):
    cancel = threading.Event()
    seen: list[int] = []

    def on_progress(percent: int, stage: str) -> None:
        seen.append(percent)
        if stage.startswith("Rendering"):
            cancel.set()

    # long and slow enough that it is still running when the first progress arrives
    spec = spec_for("product_showcase", images, duration=30.0, aspect_ratio="9:16", preset="medium",
                    music=True)
    with pytest.raises(RenderCanceled):
        render(spec, tmp_path / "v.mp4", tmp_path / "t.jpg", on_progress=on_progress, cancel=cancel)
    assert max(seen) < 100
    assert list(tmp_path.iterdir()) == []


def test_cancel_before_start_does_nothing(tmp_path, images):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(RenderCanceled):
        render(spec_for("lifestyle", images), tmp_path / "v.mp4", tmp_path / "t.jpg", cancel=cancel)
    assert list(tmp_path.iterdir()) == []


# -- previews -----------------------------------------------------------------------------------

@pytest.mark.render
@pytest.mark.parametrize("aspect", ["9:16", "1:1"])
@pytest.mark.parametrize("recipe", sorted(PLAN))
def test_every_preview_ends_with_its_last_frame(tmp_path, images, recipe, aspect):
    # A graph whose end-card part never ended once made ffmpeg repeat a frame until memory ran
    # out (store_display and lifestyle, 9:16 and 1:1): each preview is its 5 s, no more.
    result = render_preview(recipe, images, tmp_path / "p.mp4", tmp_path / "p.jpg", aspect_ratio=aspect)
    frames, _secs = imageio_ffmpeg.count_frames_and_secs(str(result.video_path))
    assert frames == 150, (recipe, aspect, frames)


@pytest.mark.render
@pytest.mark.parametrize("aspect", ["16:9", "9:16", "1:1"])
@pytest.mark.parametrize("recipe", sorted(PLAN))
def test_every_instant_preview_is_made_at_360p(tmp_path, images, recipe, aspect):
    brand = Brand(cta_text="Go", cta_url="https://shop.example.com/a-rather-long/path?campaign=1")
    spec = spec_for(recipe, images, aspect_ratio=aspect, title="Aurora Insulated Water Bottle 750 ml, Glacier Blue",
                    compare_at_price="$59.00", link="https://shop.example.com/products/aurora", brand=brand,
                    script=("Cold for a day.", "Hot for twelve hours."))
    result = render_instant(spec, tmp_path / "i.mp4", tmp_path / "i.jpg")
    assert min(result.width, result.height) == 360 and 3.0 <= result.duration <= 4.0


@pytest.mark.render
def test_an_instant_preview_is_laid_out_as_its_video_will_be(tmp_path, images):
    """With a voiceover the video captions the voice's words one by one (lifestyle then shows
    no tagline: the words say it); the preview, silent, captions the script's words at the
    voice's pace the same way. Without one, neither shows the script."""
    script = ("Meet the Aurora bottle.", "Cold all day long.")
    spoken = render_instant(spec_for("lifestyle", images, script=script, voiceover=True),
                            tmp_path / "v.mp4", tmp_path / "v.jpg")
    assert [w.text for w in spoken.words][:4] == ["Meet", "the", "Aurora", "bottle."]
    assert "captions" in spoken.layout.boxes and "tagline" not in spoken.layout.boxes
    silent = render_instant(spec_for("lifestyle", images, script=script, voiceover=False),
                            tmp_path / "s.mp4", tmp_path / "s.jpg")
    assert silent.words == () and "captions" not in silent.layout.boxes and "tagline" in silent.layout.boxes


def test_render_preview_is_a_short_small_clip(tmp_path, images):
    result = render_preview("store_display", images, tmp_path / "p.mp4", tmp_path / "p.jpg")
    info = media_info(result.video_path)
    assert info["size"] == (640, 360)
    assert info["vcodec"] == "h264" and info["acodec"] is None
    assert 4.0 <= info["duration"] <= 5.1
    with Image.open(result.thumbnail_path) as im:
        assert im.format == "JPEG" and im.size == (640, 360)
