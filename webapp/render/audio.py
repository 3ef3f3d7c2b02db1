"""The sound of a video. A music bed synthesised here: a chord progression (pad + plucked
arpeggio + optional soft hi-hat), faded in and out, so no audio files are needed; and the
soundtrack: the voiceover over that bed, ducked while the voice speaks, the
whole normalised to the loudness the platforms play at."""

from __future__ import annotations

import re
import subprocess
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .ffmpeg import contained
from .graph import num
from .spec import RenderError

# note frequencies (Hz)
_N = {
    "C3": 130.81, "D3": 146.83, "E3": 164.81, "F3": 174.61, "G3": 196.00, "A3": 220.00, "B3": 246.94,
    "C4": 261.63, "D4": 293.66, "E4": 329.63, "F4": 349.23, "G4": 392.00, "A4": 440.00, "B4": 493.88,
    "C5": 523.25, "D5": 587.33, "E5": 659.25,
}


@dataclass(frozen=True)
class Mood:
    chords: tuple[tuple[str, ...], ...]  # each chord: bass note then 3-4 upper notes
    bar: float  # seconds per chord
    arp: bool = True  # plucked arpeggio, 4 notes per chord
    hats: bool = False  # soft noise hi-hat on eighths
    pad: float = 0.10
    pluck: float = 0.10


MOODS: dict[str, Mood] = {
    "bright": Mood((("C3", "E4", "G4", "C5"), ("G3", "D4", "G4", "B4"), ("A3", "C4", "E4", "A4"),
                    ("F3", "C4", "F4", "A4")), bar=2.0),
    "warm": Mood((("F3", "A4", "C5", "E5"), ("E3", "G4", "B4", "D5"), ("D3", "F4", "A4", "C5"),
                  ("C3", "E4", "G4", "B4")), bar=2.5, arp=False, pad=0.13),
    "retail": Mood((("D3", "D4", "F4", "A4"), ("B3", "D4", "F4", "B4"), ("G3", "B3", "D4", "G4"),
                    ("A3", "C4", "E4", "A4")), bar=1.6, hats=True),
    "tech": Mood((("A3", "C4", "E4", "A4"), ("F3", "C4", "F4", "A4"), ("C3", "E4", "G4", "C5"),
                  ("G3", "B3", "D4", "G4")), bar=2.0, hats=True, pad=0.07, pluck=0.12),
    "playful": Mood((("C3", "E4", "G4", "C5"), ("A3", "C4", "E4", "A4"), ("F3", "A4", "C5", "F4"),
                     ("G3", "B3", "D4", "G4")), bar=1.5),
    "upbeat": Mood((("E3", "E4", "G4", "B4"), ("C3", "C4", "E4", "G4"), ("G3", "D4", "G4", "B4"),
                    ("D3", "D4", "F4", "A4")), bar=1.2, hats=True, pluck=0.11),
}


MUSIC_RATE = 22050


def music_bed(mood_key: str, duration: float, rate: int = MUSIC_RATE) -> np.ndarray:
    """The dry music bed of ``mood_key``, mono, ``duration`` s at ``rate`` (numpy: a few
    milliseconds where ffmpeg's per-sample expression source took most of a second)."""
    mood = MOODS.get(mood_key, MOODS["bright"])
    t = np.arange(round(duration * rate)) / rate
    chords = mood.chords
    ci = np.floor(t / mood.bar).astype(int) % len(chords)  # chord index
    m = np.mod(t, mood.bar)  # time within the chord
    env = np.minimum(1, m / 0.35) * np.minimum(1, (mood.bar - m) / 0.45)  # zero at chord edges: no clicks
    upper = np.zeros_like(t)
    for voice in range(1, len(chords[0])):
        f = np.array([_N[c[voice]] for c in chords])[ci]
        upper += np.sin(2 * np.pi * t * f) + 0.25 * np.sin(4 * np.pi * t * f)
    bass = np.array([_N[c[0]] / 2 for c in chords])[ci]
    signal = mood.pad * env * (upper / (len(chords[0]) - 1) + 0.9 * np.sin(2 * np.pi * t * bass))
    if mood.arp:
        step = mood.bar / 4
        k = np.floor(t / step).astype(int) % 4
        notes = np.array([[_N[c[1:][j % (len(c) - 1)]] * 2 for j in (0, 1, 2, 1)] for c in chords])
        s = np.mod(t, step)
        signal += mood.pluck * np.exp(-7 * s) * np.minimum(1, s / 0.004) * np.sin(2 * np.pi * s * notes[ci, k])
    if mood.hats:
        e = np.mod(t, mood.bar / 8)
        noise = np.random.default_rng(0).uniform(-1, 1, len(t))
        signal += 0.035 * np.exp(-60 * e) * noise
    return signal.astype(np.float32)


def music_filters(duration: float) -> list[str]:
    """What turns the dry bed into the music of a video: band-limited, widened by an echo,
    faded in and out, stereo at SAMPLE_RATE."""
    fade_out = min(1.5, duration / 4)
    return [
        "highpass=f=60", "lowpass=f=7000",
        f"aresample={SAMPLE_RATE}", "pan=stereo|c0=c0|c1=c0",
        "aecho=0.8:0.6:110|170:0.22|0.16", "volume=8dB",
        f"afade=t=in:st=0:d={num(min(1.0, duration / 5))}",
        f"afade=t=out:st={num(duration - fade_out)}:d={num(fade_out)}",
        f"atrim=end={num(duration)}", "aformat=sample_fmts=fltp:channel_layouts=stereo",
    ]


def write_wav(path: Path, signal: np.ndarray, rate: int) -> Path:
    """A mono 16-bit WAV of ``signal`` (floats in -1..1)."""
    pcm = (np.clip(signal, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


# -- the soundtrack: voice over ducked music, normalised ----------------------------------------

LOUDNESS_TARGET = -14.0  # LUFS integrated: what TikTok, Instagram and YouTube play at
TRUE_PEAK_CEILING = -1.0  # dBTP, after AAC encoding
# the limiter's ceiling: it limits samples, and the peaks between samples and AAC's rounding
# add up to about a decibel on voice and music; measured true peaks stay under -1.5 dBTP
_LIMIT = 10 ** (-2.5 / 20)
_LOUDNESS_TOLERANCE = 0.5  # LU: close enough to stop correcting (the platforms ask for +-1)
MUSIC_GAIN_DB = -3.0  # the bed against the voice when nobody speaks
DUCK = 0.25  # music gain while the voice speaks (-12 dB)
DUCK_ATTACK_S = 0.2  # the music dips this long before a line starts
DUCK_RELEASE_S = 0.4  # and comes back over this long after it ends
SAMPLE_RATE = 44100
# the voice: rumble off, a gentle compressor (a steadier level, a less spiky peak to limit)
VOICE_CHAIN = ("highpass=f=70", "acompressor=threshold=0.125:ratio=3:attack=5:release=120:makeup=1.6")


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS
    true_peak: float | None  # dBTP, when it was measured
    lra: float  # LU


_SUMMARY = re.compile(
    r"Integrated loudness:\s*I:\s*(-?[\d.]+|-inf) LUFS.*?LRA:\s*(-?[\d.]+) LU"
    r"(?:.*?True peak:\s*Peak:\s*(-?[\d.]+|-inf) dBFS)?", re.DOTALL)


def parse_ebur128(stderr: str) -> Loudness:
    """The summary that ffmpeg's ``ebur128`` filter prints when its input ends (the true peak
    with ``peak=true``)."""
    found = _SUMMARY.findall(stderr)
    if not found:
        raise RenderError("ffmpeg printed no loudness summary")
    integrated, lra, peak = found[-1]

    def value(text: str) -> float:
        return -120.0 if text == "-inf" else float(text)

    return Loudness(value(integrated), value(peak) if peak else None, float(lra))


def duck_expression(spans: Sequence[tuple[float, float]]) -> str:
    """Gain of the music at time ``t``: 1, dipping to DUCK under each spoken span, with ramps."""
    if not spans:
        return "1"
    a, r = num(DUCK_ATTACK_S), num(DUCK_RELEASE_S)
    envelopes = [f"min(1,max(0,(t-{num(start)}+{a})/{a}))*min(1,max(0,({num(end)}+{r}-t)/{r}))"
                 for start, end in spans]
    inside = envelopes[0]
    for env in envelopes[1:]:
        inside = f"max({inside},{env})"
    return f"1-{num(1 - DUCK)}*{inside}"


def soundtrack(exe: str, workdir: Path, *, duration: float, voice: Path | None = None,
               voice_start: float = 0.0, spans: Sequence[tuple[float, float]] = (),
               mood: str | None = None) -> tuple[Path, Loudness]:
    """The audio of a video as a WAV file: the voice (starting at ``voice_start``) over the
    music bed of ``mood`` ducked under the spoken ``spans`` (video time), either one alone
    when the other is None, normalised to LOUDNESS_TARGET with a true-peak ceiling.

    Audio is tiny next to video, so this takes a few passes over a WAV: mix and measure, then
    gain and limit, measured again and corrected until it is on target."""
    if voice is None and mood is None:
        raise ValueError("A soundtrack needs a voice or music")
    d = num(duration)
    inputs: list[str] = []  # ffmpeg's arguments: voice first, then music
    chains: list[str] = []
    mixed: list[str] = []
    if voice is not None:
        inputs += ["-i", str(voice)]
        delay = round(voice_start * 1000)
        chains.append(f"[0:a]{','.join(VOICE_CHAIN)},aresample={SAMPLE_RATE},"
                      f"aformat=sample_fmts=fltp:channel_layouts=stereo,"
                      f"adelay={delay}|{delay},apad=whole_dur={d},atrim=end={d}[voice]")
        mixed.append("[voice]")
    if mood is not None:
        bed = write_wav(workdir / "music.wav", music_bed(mood, duration), MUSIC_RATE)
        inputs += ["-i", str(bed)]
        gain = f"{num(10 ** (MUSIC_GAIN_DB / 20))}*({duck_expression(spans)})" if voice else "1"
        chains.append(f"[{len(inputs) // 2 - 1}:a]{','.join(music_filters(duration))},asetnsamples=n=512,"
                      f"volume='{gain}':eval=frame[music]")
        mixed.append("[music]")
    if len(mixed) == 2:
        chains.append("[voice][music]amix=inputs=2:normalize=0:duration=first[mix]")
    else:
        chains.append(f"{mixed[0]}anull[mix]")
    chains.append("[mix]asplit=2[out][measure];[measure]ebur128=framelog=quiet,anullsink")
    mix = workdir / "mix.wav"
    err = _run_audio([exe, *inputs, "-filter_complex", ";".join(chains), "-map", "[out]",
                      "-c:a", "pcm_f32le", "-ar", str(SAMPLE_RATE), str(mix)])
    loudness = parse_ebur128(err)
    out = workdir / "soundtrack.wav"
    gain_db = 0.0
    for _ in range(3):
        gain_db += max(-40.0, min(40.0, LOUDNESS_TARGET - loudness.integrated))
        loudness = _gain_and_limit(exe, mix, out, gain_db)
        on_target = abs(loudness.integrated - LOUDNESS_TARGET) <= _LOUDNESS_TOLERANCE
        if on_target or loudness.integrated < -70:  # silence cannot be brought up
            break
    return out, loudness


def _gain_and_limit(exe: str, source: Path, out: Path, gain_db: float) -> Loudness:
    graph = (f"[0:a]volume={gain_db:.2f}dB,"
             f"alimiter=limit={_LIMIT:.4f}:attack=2:release=60:level=false:latency=true,"
             "asplit=2[out][measure];"
             "[measure]ebur128=peak=true:framelog=quiet,anullsink")
    err = _run_audio([exe, "-i", str(source), "-filter_complex", graph, "-map", "[out]",
                      "-c:a", "pcm_f32le", str(out)])
    return parse_ebur128(err)


def encode_aac(exe: str, wav: Path, out: Path) -> Path:
    """The soundtrack as AAC for the MP4 (encoded here, while the video is still being drawn).
    The fast coder: half the CPU of the default one, and at 160 kb/s the same loudness and
    true peak."""
    _run_audio([exe, "-i", str(wav), "-c:a", "aac", "-aac_coder", "fast", "-b:a", "160k", "-ar", str(SAMPLE_RATE),
                str(out)])
    return out


def add_audio(exe: str, video: Path, sound: Path, out: Path) -> Path:
    """``video`` with the audio of ``sound``, both copied as they are, index first (faststart)."""
    _run_audio([exe, "-i", str(video), "-i", str(sound), "-map", "0:v:0", "-map", "1:a:0", "-c", "copy",
                "-movflags", "+faststart", "-f", "mp4", str(out)])
    return out


def measure_loudness(exe: str, path: Path) -> Loudness:
    """Integrated loudness, true peak and loudness range of the first audio stream of ``path``."""
    return parse_ebur128(_run_audio([exe, "-i", str(path), "-map", "0:a:0",
                                     "-af", "ebur128=peak=true:framelog=quiet", "-f", "null", "-"]))


def _run_audio(args: list[str]) -> str:
    cmd = [args[0], "-nostdin", "-y", "-hide_banner", "-nostats", "-loglevel", "info", *args[1:]]
    proc = subprocess.run(contained(cmd), capture_output=True, text=True, errors="replace",
                          timeout=300, check=False)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-4:])
        raise RenderError(f"ffmpeg could not make the sound (exit code {proc.returncode}):\n{tail}")
    return proc.stderr
