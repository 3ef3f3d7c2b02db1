"""A music bed made by ffmpeg's own audio sources: a chord progression (pad + plucked
arpeggio + optional soft hi-hat), faded in and out. No audio files are needed."""

from __future__ import annotations

from dataclasses import dataclass

from .graph import num

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


def _select(values: list[str], index_expr: str) -> str:
    """Nested if() picking values[i] for i = index_expr (0-based)."""
    expr = values[-1]
    for i in range(len(values) - 2, -1, -1):
        expr = f"if(lt({index_expr},{i + 1}),{values[i]},{expr})"
    return expr


def music_chain(mood_key: str, duration: float, sample_rate: int = 22050) -> str:
    """A filter chain (starting with a source) that outputs a stereo music bed of ``duration`` s."""
    mood = MOODS.get(mood_key, MOODS["bright"])
    bar = mood.bar
    n = len(mood.chords)
    ci = f"mod(floor(t/{num(bar)}),{n})"  # chord index
    m = f"mod(t,{num(bar)})"  # time within the chord
    env = f"min(1,{m}/0.35)*min(1,({num(bar)}-{m})/0.45)"  # zero at chord edges: no clicks
    terms = []
    for voice in range(1, len(mood.chords[0])):
        f = _select([num(_N[c[voice]]) for c in mood.chords], ci)
        terms.append(f"sin(2*PI*t*{f})+0.25*sin(4*PI*t*{f})")
    bass = _select([num(_N[c[0]] / 2) for c in mood.chords], ci)
    pad = f"{num(mood.pad)}*{env}*(({'+'.join(terms)})/{len(terms)}+0.9*sin(2*PI*t*{bass}))"
    parts = [pad]
    if mood.arp:
        step = bar / 4
        k = f"mod(floor(t/{num(step)}),4)"
        note_freqs = []
        for c in mood.chords:
            upper = [_N[x] * 2 for x in c[1:]]
            note_freqs.append([upper[j % len(upper)] for j in (0, 1, 2, 1)])
        per_step = [_select([num(nf[j]) for nf in note_freqs], ci) for j in range(4)]
        f = _select(per_step, k)
        s = f"mod(t,{num(step)})"
        parts.append(f"{num(mood.pluck)}*exp(-7*{s})*min(1,{s}/0.004)*sin(2*PI*{s}*{f})")
    if mood.hats:
        e = f"mod(t,{num(bar / 8)})"
        parts.append(f"0.035*exp(-60*{e})*(2*random(0)-1)")
    expr = "+".join(parts)
    fade_out = min(1.5, duration / 4)
    return ",".join([
        # evaluated once (mono, 22 kHz): expression sources are slow; widened by the echo
        f"aevalsrc=exprs='{expr}':s={sample_rate}:d={num(duration)}",
        "highpass=f=60", "lowpass=f=7000",
        "aresample=44100", "pan=stereo|c0=c0|c1=c0",
        "aecho=0.8:0.6:110|170:0.22|0.16", "volume=8dB",
        f"afade=t=in:st=0:d={num(min(1.0, duration / 5))}",
        f"afade=t=out:st={num(duration - fade_out)}:d={num(fade_out)}",
        f"atrim=end={num(duration)}", "aformat=sample_fmts=fltp:channel_layouts=stereo",
    ])
