"""Process files that would stop the server, deployed for real and started through the API:
each is refused at deploy with a message naming the file and the element, or stopped at run
time within the sandbox's limits with a clear 422, never a hang and never a 500."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from engine import DeployRefused
from engine.sandbox import Sandbox, SandboxViolation
from tests.conftest import PROCESSES
from tests.helpers import MEMBER

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# A structure of 2^40 tuples built from 40 distinct ones: hashing or comparing it walks them all.
SHARED = "(" * 40 + "0" + ",)*2" * 40
OTHER = "(" * 40 + "1-1" + ",)*2" * 40  # equal to SHARED, not the same object: no shortcut
HASH_BOMB = "{" + SHARED + "} == 1"  # the gateway condition


def _process(script: str = "x = 1", condition: str = "True", dmn: bool = False) -> str:
    """start -> (a decision) -> script -> gateway: `condition` to `yes`, else `no`."""
    rule = (
        '<bpmn:businessRuleTask id="decide"><bpmn:extensionElements><spiffworkflow:'
        "calledDecisionId>hostile_table</spiffworkflow:calledDecisionId></bpmn:extensionElements>"
        "<bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>"
        '</bpmn:businessRuleTask><bpmn:sequenceFlow id="f0" sourceRef="begin" targetRef="decide"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="decide" targetRef="work"/>'
        if dmn
        else '<bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="work"/>'
    )
    first = "f0" if dmn else "f1"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="d" targetNamespace="http://example.com/hostile">
  <bpmn:process id="hostile" name="hostile" isExecutable="true">
    <bpmn:startEvent id="begin"><bpmn:outgoing>{first}</bpmn:outgoing></bpmn:startEvent>
    {rule}
    <bpmn:scriptTask id="work"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="choose" default="to_no"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>to_yes</bpmn:outgoing><bpmn:outgoing>to_no</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="yes"><bpmn:incoming>to_yes</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="no"><bpmn:incoming>to_no</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="choose"/>
    <bpmn:sequenceFlow id="to_yes" sourceRef="choose" targetRef="yes">
      <bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_no" sourceRef="choose" targetRef="no"/>
  </bpmn:process>
</bpmn:definitions>"""


def _dmn(input_entry: str = '"a"', output_entry: str = '"ok"') -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="t" name="t"
    namespace="http://example.com/hostile">
  <decision id="hostile_table" name="hostile">
    <decisionTable id="table" hitPolicy="UNIQUE">
      <input id="in_kind" label="kind"><inputExpression id="e" typeRef="string">
        <text>kind</text></inputExpression></input>
      <output id="out" label="result" name="result" typeRef="string"/>
      <rule id="r1"><inputEntry id="r1_in"><text>{escape(input_entry)}</text></inputEntry>
        <outputEntry id="r1_out"><text>{escape(output_entry)}</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""


def _folder(tmp_path: Path, bpmn: str, dmn: str | None = None) -> Path:
    folder = tmp_path / "hostile"
    folder.mkdir(exist_ok=True)
    (folder / "hostile.bpmn").write_text(bpmn, encoding="utf-8")
    if dmn is not None:
        (folder / "hostile.dmn").write_text(dmn, encoding="utf-8")
    return folder


@pytest.fixture
def api(app, engine):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {engine.new_token(MEMBER)}"
    return client


def _start(api, body: dict | None = None):
    began = time.monotonic()
    answer = api.post("/api/v1/processes/hostile/instances", json=body or {"kind": "a"})
    return answer, time.monotonic() - began


# --- at run time: stopped within the limits, a 422 that says why, nothing stored -----------


@pytest.mark.parametrize(
    ("script", "condition", "words"),
    [
        ("x = 1", HASH_BOMB, "parts"),
        ("x = 1", f"{SHARED} == {OTHER}", "parts"),  # comparing two such lists
        ("x = 1", f"[{SHARED}] < [{OTHER}]", "parts"),
        ("x = 1", f"{SHARED} in [{OTHER}]", "parts"),
        ("x = 1", f"len(sorted([{SHARED}, {OTHER}])) == 2", "parts"),
        ("x = 1", f"{{{SHARED}: 1}} == {{}}", "parts"),
        ("x = 1", f"len({{k: 1 for k in [{SHARED}]}}) == 1", "parts"),
        ("x = 1", f"[{OTHER}].index({SHARED}) == 0", "parts"),
        ("a = [0]\nfor i in range(64):\n    a = [a, a]", "True", "a"),  # 2^64 in task data
        ("t = (0,)\nfor i in range(64):\n    t = (t, t)\nd = {t: 1}", "True", "parts"),
        ("m = map(str, [1, 2])", "True", "m"),  # not JSON: the serializer's TypeError before
        ("s = {1, 2}", "True", "s"),
        ("loop = [1]\nloop.append(loop)", "True", "loop"),
    ],
    ids=[
        "hash-bomb",
        "compare",
        "order",
        "in-list",
        "sorted",
        "dict-key",
        "dict-comprehension",
        "index",
        "shared-list-in-data",
        "tuple-key-in-script",
        "map-in-data",
        "set-in-data",
        "self-containing",
    ],
)
def test_a_hostile_expression_or_script_is_stopped_with_a_422(
    engine, api, tmp_path, script, condition, words
):
    engine.deploy([_folder(tmp_path, _process(script, condition))])
    before = len(engine.instances(limit=1000))
    answer, took = _start(api)
    assert answer.status_code == 422, answer.get_data(as_text=True)
    error = answer.get_json()
    assert error["error"] == "workflow_error" and words in error["message"]
    assert took < engine.config.sandbox_time_limit + 2  # no worker held
    assert len(engine.instances(limit=1000)) == before  # nothing of the case stored


def test_a_decision_output_that_is_not_data_is_a_422(engine, api, tmp_path):
    folder = _folder(tmp_path, _process(dmn=True), _dmn(output_entry="map(str, [1])"))
    engine.deploy([folder])
    answer, _took = _start(api)
    assert answer.status_code == 422 and "not plain JSON" in answer.get_json()["message"]


def test_the_same_process_with_plain_data_runs(engine, api, tmp_path):
    script = "a = [[0, 1]] * 3\nnames = sorted(['b', 'a'])\nlookup = {'k': 1}"
    folder = _folder(tmp_path, _process(script, "names == ['a', 'b'] and (1, 2) in {(1, 2)}", True))
    (folder / "hostile.dmn").write_text(_dmn(), encoding="utf-8")
    engine.deploy([folder])
    answer, _took = _start(api)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    case = engine.instance(answer.get_json()["id"])
    assert case["status"] == "completed" and case["end_event"] == "yes"
    assert case["data"]["result"] == "ok" and case["data"]["a"] == [[0, 1]] * 3


def test_the_sandbox_measures_shared_parts_in_time_of_the_distinct_ones():
    sandbox = Sandbox(time_limit=1.0)
    for source in (HASH_BOMB, f"{SHARED} == {OTHER}", f"set([{SHARED}])", f"str({SHARED})"):
        with pytest.raises(SandboxViolation):  # a hang instead: pytest-timeout fails the test
            sandbox.evaluate(source, {})
    with pytest.raises(SandboxViolation):  # the value of an expression goes on unguarded
        sandbox.evaluate(SHARED, {})
    shared: tuple = (0,)
    for _ in range(64):
        shared = (shared, shared)
    with pytest.raises(SandboxViolation):
        sandbox.evaluate("x == y", {"x": shared, "y": ((0,), (0,))})
    assert sandbox.evaluate("x in {1, 2} and [1, [2]] == [1, [2]]", {"x": 1}) is True


# --- at deploy: refused, naming the file and the element --------------------------------


def _refused(engine, paths) -> list:
    with pytest.raises(DeployRefused) as refused:  # a hang instead: pytest-timeout fails it
        engine.deploy(paths)
    return refused.value.problems


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ("?" * 60_000, "60000 characters"),  # SpiffWorkflow's regex is quadratic in it
        ("__import__('os').system('id')", "__import__"),
        ("__builtins__['open']('/etc/passwd')", "__builtins__"),
        ("? == ().__class__", "dunder"),
        ('> open("/etc/passwd")', "open"),
    ],
    ids=["question-marks", "import", "builtins", "dunder", "operator-then-open"],
)
def test_every_decision_input_entry_is_checked_at_deploy(engine, tmp_path, entry, words):
    problems = _refused(engine, [_folder(tmp_path, _process(dmn=True), _dmn(entry))])
    assert any(
        p.file == "hostile.dmn" and p.element == "hostile_table" and words in p.message
        for p in problems
    ), problems
    assert any("rule 1 input 'kind'" in p.message for p in problems)


def _alias_bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    return "\n".join(lines) + "\nholidays: *i\n"


@pytest.mark.parametrize("name", ["calendar.yaml", "translations/en.yaml"])
def test_a_yaml_alias_bomb_is_refused_quickly_with_a_short_message(engine, tmp_path, name):
    folder = tmp_path / "processes"
    shutil.copytree(PROCESSES, folder)
    bomb = _alias_bomb()
    assert len(bomb) < 1024
    (folder / name).write_text(bomb, encoding="utf-8")
    problems = _refused(engine, [folder])
    assert [p.file for p in problems] == [name]
    assert "aliases" in problems[0].message and len(problems[0].message) < 1000


def test_deep_and_huge_yaml_is_refused(engine, tmp_path):
    folder = tmp_path / "processes"
    shutil.copytree(PROCESSES, folder)
    (folder / "calendar.yaml").write_text("holidays: " + "[" * 5000 + "]" * 5000, "utf-8")
    assert "nested too deeply" in _refused(engine, [folder])[0].message
    (folder / "calendar.yaml").write_text("holidays: []\n" + "# x\n" * 400_000, "utf-8")
    assert "larger than" in _refused(engine, [folder])[0].message


def test_a_100k_deep_form_is_refused_naming_the_file(engine, tmp_path):
    folder = tmp_path / "processes"
    shutil.copytree(PROCESSES, folder)
    deep = '{"type": "object", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    (folder / "forms" / "report.json").write_text(deep, encoding="utf-8")
    problems = _refused(engine, [folder])
    assert any(p.file == "forms/report.json" and "nested more than" in p.message for p in problems)


def test_hazardflow_validate_refuses_them_without_a_traceback(tmp_path):
    """The CLI an administrator runs: exit code 1, the file named, no traceback."""
    import os
    import subprocess
    import sys

    folder = tmp_path / "processes"
    shutil.copytree(PROCESSES, folder)
    (folder / "calendar.yaml").write_text(_alias_bomb(), encoding="utf-8")
    (folder / "forms" / "report.json").write_text("[" * 100_000 + "]" * 100_000, "utf-8")
    (folder / "dispatch.dmn").write_text(
        (PROCESSES / "dispatch.dmn")
        .read_text(encoding="utf-8")
        .replace('<text>"general"</text>', "<text>__import__('os')</text>", 1),
        encoding="utf-8",
    )
    hazardflow = str(Path(sys.executable).with_name("hazardflow"))
    env = {**os.environ, "HAZARDFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    done = subprocess.run(
        [hazardflow, "validate", str(folder)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    for named in ("calendar.yaml", "forms/report.json", "dispatch.dmn", "__import__"):
        assert named in done.stderr, done.stderr
    assert len(done.stderr) < 5000


def test_submitted_data_and_task_data_share_one_rule():
    """The check of what a script leaves is the forms' plain-data check (engine/forms.py)."""
    from engine.forms import plain_data_problems

    nested: list = []
    for _ in range(64):
        nested = [nested, nested]
    assert set(plain_data_problems({"a": nested, "b": [1], "m": map(str, [])})) == {"a", "m"}
    assert json.dumps(plain_data_problems({"ok": {"x": [1, "y"]}})) == "{}"


def test_the_size_bound_is_configured(make_engine):
    engine = make_engine(sandbox_max_size=1000)
    assert engine.sandbox.max_size == 1000
    assert engine.sandbox.evaluate("[0] * 1000 == [0] * 1000", {}) is True
    with pytest.raises(SandboxViolation):
        engine.sandbox.evaluate("[[0] * 600] * 2 == [[0] * 600] * 2", {})


@pytest.mark.parametrize(
    "source",
    [
        f"sorted(x for x in [{SHARED}, {OTHER}])",
        f"max(reversed([{SHARED}, {OTHER}]))",
        f"{{'a': {SHARED}}}.items() == {{'a': {OTHER}}}.items()",
        f"set(map(tuple, [{SHARED}]))",
    ],
    ids=["generator", "iterator", "dict-views", "map"],
)
def test_what_an_iterator_or_a_view_brings_is_measured_too(source):
    with pytest.raises(SandboxViolation):  # a hang instead: pytest-timeout fails the test
        Sandbox(time_limit=1.0).evaluate(source, {})
