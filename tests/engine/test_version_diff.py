"""What a draft of process files changes against the deployed version, as an administrator
reads it before deploying: DMN rows, BPMN elements, form fields, other files; on real files."""

from __future__ import annotations

from tests.helpers import edit_json


def _by_name(diffs):
    return {d["name"]: d for d in diffs}


def test_an_unchanged_folder_changes_nothing(engine, folder):
    assert engine.draft_diff([folder]) == []


def test_a_deadline_in_the_dispatch_table_is_one_changed_row(engine, folder):
    table = folder / "dispatch.dmn"
    table.write_text(
        table.read_text().replace(
            '<outputEntry id="rule_hazardous_chemicals_general_deadline_days"><text>10</text>',
            '<outputEntry id="rule_hazardous_chemicals_general_deadline_days"><text>7</text>',
        )
    )
    (diff,) = engine.draft_diff([folder])
    assert diff["name"] == "dispatch.dmn" and diff["status"] == "changed"
    (row,) = diff["changes"]
    assert row["kind"] == "rule" and row["id"] == "rule_hazardous_chemicals_general"
    assert row["change"] == "changed"
    (detail,) = row["details"]
    assert '"yjj" | 10 | 2 | 3' in detail and '"yjj" | 7 | 2 | 3' in detail


def test_bpmn_elements_added_removed_and_renamed_by_id(engine, folder):
    hazard = folder / "hazard.bpmn"
    text = hazard.read_text().replace('name="整改">', 'name="整改落实">', 1)
    text = text.replace(
        '<bpmn:scriptTask id="set_deadline" name="计算整改期限">',
        '<bpmn:scriptTask id="set_deadline" name="计算整改期限（工作日）">',
    )
    hazard.write_text(text)
    (diff,) = engine.draft_diff([folder])
    changes = {c["id"]: c for c in diff["changes"]}
    assert set(changes) == {"rectify", "set_deadline"}  # the stage around rectify: unchanged
    assert changes["rectify"]["details"] == ["name: 整改 → 整改落实"]
    assert changes["rectify"]["name"] == "整改落实"


def test_form_fields_and_other_files(engine, folder):
    def change(schema):
        schema["properties"]["unit"]["title"] = "单位名称"
        schema["properties"]["contact_phone"] = {"type": "string", "title": "联系电话"}
        del schema["properties"]["location"]
        return schema

    edit_json(folder / "forms" / "report.json", change)
    (folder / "calendar.yaml").write_text((folder / "calendar.yaml").read_text() + "\n# note\n")
    diffs = _by_name(engine.draft_diff([folder]))
    assert set(diffs) == {"forms/report.json", "calendar.yaml"}
    fields = {c["id"]: c for c in diffs["forms/report.json"]["changes"]}
    assert fields["unit"]["details"] == ["title: 生产经营单位 → 单位名称"]
    assert fields["contact_phone"]["change"] == "added"
    assert fields["location"]["change"] == "removed"
    assert fields["location.lat"]["change"] == "removed"  # nested fields by their path
    assert diffs["calendar.yaml"]["changes"][0]["details"] == ["+2 −0 lines"]
