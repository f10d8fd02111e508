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
