"""What a "word" is in the transcript, per language (docs/TRANSCRIPTION.md, "Words").

- Languages written with spaces (English, Korean, ...): a word is a space-separated token — for Korean that is
  the eojeol (어절), the unit Korean spacing and Korean captions use (e.g. "날씨가", "좋습니다."). Whisper's
  tokenizer already splits these languages on spaces.
- Japanese and Chinese (no spaces; also Cantonese and Thai): Whisper's "words" are single tokens, often one
  character or less, which make unreadable karaoke and caption breaks. They are regrouped into the phrases
  BudouX (Google's caption/line-break segmenter, a small model shipped in its wheel) finds: Japanese bunsetsu
  (e.g. "今日は", "天気ですね。"), Chinese words (e.g. "今天", "天气"). Punctuation stays on the phrase it ends.
  A phrase starts when its first character starts and ends when its last one ends; characters take their
  token's time, split evenly between the characters of a multi-character token. Its probability is the lowest
  of its tokens' (one unsure character makes the phrase unsure).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .asr import Word

# Language → BudouX parser loader. Whisper writes Chinese in either script; BudouX's simplified model also
# segments traditional text sensibly for the common characters, and Cantonese gets the traditional model.
_PARSERS = {
    "ja": "load_default_japanese_parser",
    "zh": "load_default_simplified_chinese_parser",
    "yue": "load_default_traditional_chinese_parser",
    "th": "load_default_thai_parser",
}
UNSPACED = frozenset(_PARSERS)


@functools.cache
def _parser(language: str):
    import budoux

    return getattr(budoux, _PARSERS[language])()


def joiner(language: str | None) -> str:
    """How words join into a segment's text: nothing between them for unspaced scripts."""
    return "" if language in UNSPACED else " "


def phrases(text: str, language: str) -> list[str]:
    """BudouX phrases of ``text`` (their concatenation is ``text``)."""
    return [p for p in _parser(language).parse(text) if p]


LOOP_MIN_REPEATS = 4
LOOP_MAX_UNIT = 12


def _without_repeats(chars: list[tuple]) -> list[tuple]:
    """Keep one copy of a 1–12 character unit repeated ≥ 4 times in a row (punctuation ignored): a decoder
    loop in a script without spaces, where token "words" vary too much for the word-level check."""
    out = list(chars)
    i = 0
    while i < len(out):
        letters = [k for k in range(i, len(out)) if out[k][0].isalnum()]
        done = False
        for unit in range(1, LOOP_MAX_UNIT + 1):
            if len(letters) < unit * LOOP_MIN_REPEATS:
                break
            seq = [out[k][0] for k in letters]
            reps = 1
            while seq[reps * unit : (reps + 1) * unit] == seq[:unit]:
                reps += 1
            if reps >= LOOP_MIN_REPEATS:
                cut_from, cut_to = letters[unit], letters[reps * unit - 1] + 1
                while cut_to < len(out) and not out[cut_to][0].isalnum():
                    cut_to += 1  # the punctuation that followed the last copy goes with it
                del out[cut_from:cut_to]
                done = True
                break
        i += 0 if done else 1
    return out


def regroup(group: list[Word], language: str | None) -> list[Word]:
    """Whisper's token-words of one segment → phrase words, for languages written without spaces."""
    if language not in UNSPACED or not group:
        return group
    from .asr import Word

    chars: list[tuple[str, float, float, float | None]] = []  # (char, start, end, probability)
    for w in group:
        text = w.text.strip()
        if not text:
            continue
        step = (w.end - w.start) / len(text)
        for k, ch in enumerate(text):
            chars.append((ch, w.start + k * step, w.start + (k + 1) * step, w.probability))
    chars = _without_repeats(chars)
    text = "".join(c[0] for c in chars)
    out: list[Word] = []
    pos = 0
    for phrase in phrases(text, language):
        span = chars[pos : pos + len(phrase)]
        pos += len(phrase)
        if not phrase.strip():
            continue
        probs = [c[3] for c in span if c[3] is not None]
        out.append(Word(phrase, round(span[0][1], 3), round(span[-1][2], 3), min(probs) if probs else None))
    return out
