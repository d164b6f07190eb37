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


def _as_a_modeler_writes_it(text: str) -> str:
    """The same file as bpmn-js and dmn-js save it: indented their way, the diagram's shapes
    in another order, a default value (hitPolicy UNIQUE) left out."""
    from lxml import etree

    tree = etree.fromstring(text.encode())
    for plane in tree.iter("{*}BPMNPlane", "{*}DMNDiagram"):
        plane[:] = list(reversed(plane))
    for table in tree.iter("{*}decisionTable"):
        if table.get("hitPolicy") == "UNIQUE":
            del table.attrib["hitPolicy"]
    for node in tree.iter():
        node.text = node.text if node.text and node.text.strip() else None
        node.tail = None
    etree.indent(tree, space="    ")
    return etree.tostring(tree, encoding="unicode")


def test_a_file_saved_by_a_modeler_changes_only_what_was_edited(engine, folder):
    table, hazard = folder / "dispatch.dmn", folder / "hazard.bpmn"
    table.write_text(_as_a_modeler_writes_it(table.read_text()))
    hazard.write_text(_as_a_modeler_writes_it(hazard.read_text()))
    diffs = engine.draft_diff([folder])
    assert {d["name"] for d in diffs} == {"dispatch.dmn", "hazard.bpmn"}  # the bytes differ
    assert [d["changes"] for d in diffs] == [[], []]  # nothing that means anything


def test_an_extension_property_is_named_with_its_old_and_new_value(engine, folder):
    hazard = folder / "hazard.bpmn"
    text = hazard.read_text()
    old = """<spiffworkflow:property name="candidates" value='["dept:" + department]' />"""
    new = old.replace("department]", 'department, "role:dispatcher"]')
    assert text.count(old) == 2  # receive and rectify
    at = text.index('<bpmn:userTask id="rectify"')
    text = text[:at] + text[at:].replace(old, new, 1)
    hazard.write_text(text)
    (diff,) = engine.draft_diff([folder])
    (change,) = diff["changes"]
    assert change["id"] == "rectify"
    assert change["details"] == [
        'candidates: ["dept:" + department] → ["dept:" + department, "role:dispatcher"]'
    ]


def test_a_namespace_a_modeler_declares_and_an_empty_part_change_nothing(engine, folder):
    hazard = folder / "hazard.bpmn"
    text = hazard.read_text()
    text = text.replace(
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"',
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bioc="http://bpmn.io/schema/bpmn/biocolor/1.0"',
        1,
    )
    at = text.index('<bpmn:exclusiveGateway id="gw_classify"')
    end = text.index(">", at) + 1
    text = text[:end] + "<bpmn:extensionElements/>" + text[end:]
    hazard.write_text(text)
    (diff,) = engine.draft_diff([folder])
    assert diff["changes"] == []
