"""Search terms from text, the same way for the stored document and for the query.

Chinese is written without spaces, so neither SQLite FTS5's tokenizers nor PostgreSQL's
'simple' parser can find a word inside a sentence: they see "仓库内危化品混存" as one token.
We tokenize ourselves, as Lucene's CJK analyzer does, and store the terms separated by
spaces; the database then only splits on those spaces:

- a run of CJK characters (Han, kana, Hangul) gives each character and each overlapping
  pair: 危化品 -> 危 化 品 危化 化品;
- a run of other letters and digits gives one lower-cased word: "No.3 Warehouse" -> no 3
  warehouse;
- everything else (spaces, punctuation, symbols) separates.

A query gives the same words, the pairs of its CJK runs (a single character stands for
itself), and every term must match: "化品" matches, "品危" does not. Text is NFKC-normalised
first, so full-width letters and digits (ＹＨ２０２６) are the ordinary ones.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator

MAX_WORD = 60  # longer runs of letters are cut (nobody types them; PostgreSQL limits lexemes)
MAX_QUERY_TERMS = 32

_CJK_RANGES = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3134F),  # CJK extensions B to G
)


def is_cjk(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_RANGES)


def _runs(text: str) -> Iterator[tuple[bool, str]]:
    """(is CJK, run) for each run of CJK characters or of other letters and digits."""
    run: list[str] = []
    run_cjk = False
    for char in unicodedata.normalize("NFKC", text).lower():
        cjk = is_cjk(char)
        if not cjk and not char.isalnum():
            if run:
                yield run_cjk, "".join(run)
            run = []
            continue
        if run and cjk != run_cjk:
            yield run_cjk, "".join(run)
            run = []
        run_cjk = cjk
        run.append(char)
    if run:
        yield run_cjk, "".join(run)


def _pairs(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def document_terms(texts: Iterable[str]) -> list[str]:
    """The terms a document is found by: words, CJK characters and their pairs; each once."""
    terms: dict[str, None] = {}
    for text in texts:
        for cjk, run in _runs(text):
            if cjk:
                terms.update(dict.fromkeys(run))
                terms.update(dict.fromkeys(_pairs(run)))
            else:
                terms[run[:MAX_WORD]] = None
    return list(terms)


def query_terms(text: str) -> list[str]:
    """The terms a query needs, all of them: words, and the pairs of its CJK runs (a run of
    one character is that character); at most MAX_QUERY_TERMS."""
    terms: dict[str, None] = {}
    for cjk, run in _runs(text):
        if cjk and len(run) > 1:
            terms.update(dict.fromkeys(_pairs(run)))
        else:
            terms[run[:MAX_WORD]] = None
    return list(terms)[:MAX_QUERY_TERMS]


def document(texts: Iterable[str]) -> str:
    """The stored search document: the terms separated by single spaces."""
    return " ".join(document_terms(texts))
