"""Search terms: CJK runs as characters and overlapping pairs, other letters and digits as
lower-cased words; a query needs the pairs of its runs; case numbers read generously."""

from __future__ import annotations

from engine.case_numbers import CaseRef, parse
from engine.search_text import MAX_QUERY_TERMS, document, document_terms, query_terms


def test_a_document_has_each_character_each_pair_and_each_word():
    assert document_terms(["危化品混存"]) == [
        "危",
        "化",
        "品",
        "混",
        "存",
        "危化",
        "化品",
        "品混",
        "混存",
    ]
    assert document_terms(["No.3 Warehouse，3号库"]) == ["no", "3", "warehouse", "号", "库", "号库"]
    assert document(["ＹＨ－２０２６－０００１２３"]) == "yh 2026 000123"  # full-width: NFKC
    assert document(["仓库 仓库", "仓库"]) == "仓 库 仓库"  # each term once
    assert document(["", "!!", "—"]) == ""


def test_a_query_needs_the_pairs_of_its_runs_and_its_words():
    assert query_terms("危化品 混存") == ["危化", "化品", "混存"]
    assert query_terms("库") == ["库"]
    assert query_terms("3号库 WARE-house") == ["3", "号库", "ware", "house"]
    assert query_terms("、。！") == []
    assert len(query_terms(" ".join(f"w{i}" for i in range(100)))) == MAX_QUERY_TERMS


def test_kana_and_hangul_are_paired_like_han():
    assert query_terms("ガス漏れ") == ["ガス", "ス漏", "漏れ"]
    assert query_terms("가스") == ["가스"]


def test_case_numbers_are_read_however_they_are_typed():
    number = CaseRef(number="YH-2026-000123")
    for typed in (
        "YH-2026-000123",
        "yh-2026-123",
        "YH2026000123",
        "yh 2026 123",
        "2026-000123",
        "ＹＨ－２０２６－０００１２３",
        "YH–2026–000123",  # en dashes
    ):
        assert parse(typed, "YH") == number, typed
    assert parse("AQ-2025-7", "YH") == CaseRef(number="AQ-2025-000007")  # an older prefix
    assert parse(" 123 ", "YH") == CaseRef(instance_id=123)
    assert parse("２０２６", "YH") == CaseRef(instance_id=2026)
    for text in ("南门", "YH-2026", "YH-26-1", "3号库", ""):
        assert parse(text, "YH") is None, text
