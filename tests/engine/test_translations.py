"""translations/<locale>.yaml: the process files' texts in a second language, deployed with
them, checked for gaps, and refused when malformed."""

from __future__ import annotations

import pytest

from engine import DeployRefused
from tests.conftest import PROCESSES


def test_every_text_of_the_shipped_processes_has_english(engine):
    warnings: list = []
    engine.validate([PROCESSES], warnings)
    assert [str(w) for w in warnings if w.file.startswith("translations/")] == []
    texts = engine.process_texts("en")
    assert texts["部门退回"] == "Returned by departments"
    assert texts["隐患描述"] == "Description"
    assert engine.process_texts("fr") == {}  # no such file: everything shows as written


def test_gaps_and_stale_entries_are_warnings_naming_the_text(engine, folder):
    en = folder / "translations" / "en.yaml"
    en.write_text(
        en.read_text(encoding="utf-8")
        .replace("待核查: Awaiting verification\n", "")
        .replace("渔业: Fishery", "渔船: Fishing boats"),
        encoding="utf-8",
    )
    warnings: list = []
    engine.validate([folder], warnings)
    assert sorted(w.message for w in warnings) == [
        "'渔船' is not a text of any process file",
        "no translation for '待核查' (queue property)",
        "no translation for '渔业' (forms/_defs.json)",  # the shared category options
    ]
    assert {w.file for w in warnings} == {"translations/en.yaml"}


def test_a_malformed_translation_is_refused_and_nothing_is_deployed(engine, folder):
    en = folder / "translations" / "en.yaml"
    en.write_text(en.read_text(encoding="utf-8") + "是: [yes]\n", encoding="utf-8")
    before = engine.processes()
    with pytest.raises(DeployRefused) as refused:
        engine.deploy([folder])
    assert str(refused.value.problems[0]) == (
        "translations/en.yaml: '是': the translation must be a non-empty text"
    )
    assert engine.processes() == before


def test_a_new_deployment_brings_its_translations(engine, folder):
    en = folder / "translations" / "en.yaml"
    en.write_text(
        en.read_text(encoding="utf-8").replace("Description", "What was found"), encoding="utf-8"
    )
    engine.deploy([folder])
    assert engine.process_texts("en")["隐患描述"] == "What was found"
