"""Files made with other modelers, through the engine with real persistence: what their
extensions mean in our contract is done, what they cannot mean here is refused at deploy with
the element named, nothing is ignored in silence. The corpus of real files is
tests/conformance/test_interop.py; these are the cases one by one."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from engine import DeployRefused, WorkflowFailed
from engine.definitions import compile_sources, read_sources
from engine.deployments import store
from engine.tasks import TaskQuery

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:flowable="http://flowable.org/bpmn" '
    'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
    'xmlns:modeler="http://camunda.org/schema/modeler/1.0" '
    'id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn" '
    'modeler:executionPlatform="Camunda Platform">\n'
)


def _file(tmp_path: Path, body: str, name: str = "other.bpmn", pid: str = "other") -> Path:
    """A process as the Camunda Modeler writes one: start, the body's elements, end."""
    folder = tmp_path / "files"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(
        HEAD + f'<bpmn:process id="{pid}" name="别家的流程" isExecutable="true" '
        'camunda:historyTimeToLive="P180D">\n'
        '<bpmn:startEvent id="start"/>\n' + body + '<bpmn:endEvent id="end"/>\n'
        "</bpmn:process></bpmn:definitions>\n",
        encoding="utf-8",
    )
    return folder


def _task(attributes: str = "", inner: str = "", tag: str = "userTask") -> str:
    return (
        f'<bpmn:{tag} id="work" name="办理" {attributes}>{inner}</bpmn:{tag}>\n'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>\n'
        '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>\n'
    )


def _refused(engine, folder: Path) -> list:
    with pytest.raises(DeployRefused) as refused:
        engine.deploy([folder])
    return refused.value.problems


def _warnings(folder: Path) -> list:
    found: list = []
    compile_sources(read_sources([folder]), found)
    return found


def _open_task(engine, case: int) -> dict:
    (task,) = engine.instance(case)["open_tasks"]
    return task


def test_candidate_users_and_assignee_become_the_candidates(bare_engine, tmp_path):
    folder = _file(
        tmp_path, _task('camunda:candidateUsers="dispatcher" camunda:assignee="leader_ap_d1"')
    )
    bare_engine.deploy([folder])
    case = bare_engine.start("other", {}, bare_engine.actor("dispatcher"))
    task = _open_task(bare_engine, case)
    for who, sees in (("dispatcher", True), ("leader_ap_d1", True), ("dept_yjj", False)):
        found = bare_engine.tasks_for(bare_engine.actor(who), TaskQuery(instance_id=case))
        assert bool(found) is sees, who
    bare_engine.complete(task["id"], bare_engine.actor("leader_ap_d1"), {})
    assert bare_engine.instance(case)["status"] == "completed"


def test_a_missing_form_named_in_camunda_properties_is_refused(bare_engine, tmp_path):
    properties = (
        "<bpmn:extensionElements><camunda:properties>"
        '<camunda:property name="form" value="approval"/>'
        '<camunda:property name="progress" value="50"/>'
        "</camunda:properties></bpmn:extensionElements>"
    )
    folder = _file(tmp_path, _task(inner=properties))
    problems = _refused(bare_engine, folder)
    assert [(p.element, "camunda:property 'form'" in p.message) for p in problems] == [
        ("work", True)
    ]
    assert "forms/approval.json" in problems[0].message
    (folder / "forms").mkdir()
    form = {"type": "object", "title": "审批", "properties": {"ok": {"type": "boolean"}}}
    (folder / "forms" / "approval.json").write_text(json.dumps(form), encoding="utf-8")
    warnings = _warnings(folder)
    assert any(w.element == "work" and "camunda:property 'progress'" in w.message for w in warnings)
    assert any(w.element == "other" and "historyTimeToLive" in w.message for w in warnings)
    bare_engine.deploy([folder])
    case = bare_engine.start("other", {}, bare_engine.actor("dispatcher"))
    assert _open_task(bare_engine, case)["form_key"] == "approval"


def test_form_data_becomes_the_task_form(bare_engine, tmp_path):
    fields = (
        "<bpmn:extensionElements><camunda:formData>"
        '<camunda:formField id="days" label="天数" type="long">'
        '<camunda:validation><camunda:constraint name="required"/>'
        '<camunda:constraint name="min" config="1"/></camunda:validation></camunda:formField>'
        '<camunda:formField id="kind" label="类别" type="enum">'
        '<camunda:value id="annual" name="年假"/><camunda:value id="sick" name="病假"/>'
        "</camunda:formField></camunda:formData></bpmn:extensionElements>"
    )
    bare_engine.deploy([_file(tmp_path, _task('camunda:candidateGroups="dispatcher"', fields))])
    case = bare_engine.start("other", {}, bare_engine.actor("dispatcher"))
    task = bare_engine.task(_open_task(bare_engine, case)["id"], bare_engine.actor("dispatcher"))
    assert task["form"]["required"] == ["days"]
    assert task["form"]["properties"]["kind"]["oneOf"][1] == {"const": "sick", "title": "病假"}
    with pytest.raises(Exception) as refused:
        bare_engine.complete(task["id"], bare_engine.actor("dispatcher"), {"days": 0})
    assert "days" in refused.value.fields
    bare_engine.complete(task["id"], bare_engine.actor("dispatcher"), {"days": 3, "kind": "sick"})
    assert bare_engine.instance(case)["data"] == {"days": 3, "kind": "sick"}


@pytest.mark.parametrize(
    ("attributes", "inner", "words"),
    [
        ('camunda:class="org.example.Mail"', "", "calls the Java class org.example.Mail"),
        ('camunda:delegateExpression="${mailer}"', "", "calls the Java bean ${mailer}"),
        ('camunda:type="external" camunda:topic="mail"', "", "external worker on the topic 'mail'"),
        (
            "",
            '<bpmn:extensionElements><zeebe:taskDefinition type="mailer"/>'
            "</bpmn:extensionElements>",
            "job worker of the type 'mailer'",
        ),
        ("", "", "has no implementation"),
    ],
    ids=["class", "bean", "external", "zeebe", "nothing"],
)
def test_service_tasks_are_refused_saying_what_they_would_call(
    bare_engine, tmp_path, attributes, inner, words
):
    problems = _refused(bare_engine, _file(tmp_path, _task(attributes, inner, "serviceTask")))
    assert [p.element for p in problems] == ["work"]
    assert words in problems[0].message and "must have an operator" not in problems[0].message


def test_a_script_in_another_language_is_refused_naming_it(bare_engine, tmp_path):
    script = "<bpmn:script>\n    var sum = a + b;\n    </bpmn:script>"
    body = _task('scriptFormat="groovy"', script, "scriptTask")
    problems = _refused(bare_engine, _file(tmp_path, body))
    assert [p.element for p in problems] == ["work"]
    assert "groovy" in problems[0].message and "indent" not in problems[0].message


def test_an_indented_python_script_runs(bare_engine, tmp_path):
    lines = "\n        total = 1\n        total = total + 1\n    "
    script = f"<bpmn:script><![CDATA[{lines}]]></bpmn:script>"
    bare_engine.deploy([_file(tmp_path, _task('scriptFormat="python"', script, "scriptTask"))])
    case = bare_engine.start("other", {}, bare_engine.actor("dispatcher"))
    assert bare_engine.instance(case)["data"] == {"total": 2}


def test_input_output_of_a_script_task_runs_around_its_script(bare_engine, tmp_path):
    """SpiffWorkflow's parser reads a script task's script only: the parameters were dropped
    without a word, the case ending without them."""
    mapping = (
        "<bpmn:extensionElements><camunda:inputOutput>"
        '<camunda:inputParameter name="base">5</camunda:inputParameter>'
        '<camunda:outputParameter name="reported">${total}</camunda:outputParameter>'
        "</camunda:inputOutput></bpmn:extensionElements>"
    )
    script = "<bpmn:script>total = int(base) + 1</bpmn:script>"
    body = _task('scriptFormat="python"', mapping + script, "scriptTask")
    bare_engine.deploy([_file(tmp_path, body)])
    case = bare_engine.start("other", {}, bare_engine.actor("dispatcher"))
    assert bare_engine.instance(case)["data"] == {"base": "5", "total": 6, "reported": 6}


def _gateway(condition: str) -> str:
    return (
        '<bpmn:exclusiveGateway id="ok" default="f3"/>\n'
        '<bpmn:userTask id="fix" name="修改"/>\n'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ok"/>\n'
        f'<bpmn:sequenceFlow id="f2" sourceRef="ok" targetRef="end"><bpmn:conditionExpression>'
        f"{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>\n"
        '<bpmn:sequenceFlow id="f3" sourceRef="ok" targetRef="fix"/>\n'
        '<bpmn:sequenceFlow id="f4" sourceRef="fix" targetRef="end"/>\n'
    )


def test_juel_conditions_run_as_python(bare_engine, tmp_path):
    bare_engine.deploy([_file(tmp_path, _gateway("${approved &amp;&amp; amount gt 100}"))])
    done = bare_engine.start(
        "other", {"approved": True, "amount": 200}, bare_engine.actor("dispatcher")
    )
    assert bare_engine.instance(done)["status"] == "completed"
    left = bare_engine.start(
        "other", {"approved": True, "amount": 50}, bare_engine.actor("dispatcher")
    )
    assert [t["task_name"] for t in bare_engine.instance(left)["open_tasks"]] == ["fix"]


def test_juel_beyond_the_subset_is_refused_saying_how_to_write_it(bare_engine, tmp_path):
    problems = _refused(bare_engine, _file(tmp_path, _gateway("${checker.isOk(amount)}")))
    assert [p.element for p in problems] == ["f2"]
    assert "JUEL is not supported here; write it as" in problems[0].message


def test_a_failed_condition_keeps_its_cause(bare_engine, tmp_path):
    bare_engine.deploy([_file(tmp_path, _gateway("result == 1"))])
    with pytest.raises(WorkflowFailed) as failed:
        bare_engine.start("other", {}, bare_engine.actor("dispatcher"))
    assert "NameError: name 'result' is not defined" in str(failed.value)


def test_a_bare_iso_duration_is_a_timer_that_fires(bare_engine, tmp_path, clock):
    timer = (
        '<bpmn:boundaryEvent id="late" attachedToRef="work"><bpmn:timerEventDefinition>'
        "<bpmn:timeDuration>PT5M</bpmn:timeDuration></bpmn:timerEventDefinition>"
        "</bpmn:boundaryEvent>\n"
        '<bpmn:endEvent id="too_late"/>\n'
        '<bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="too_late"/>\n'
    )
    bare_engine.deploy([_file(tmp_path, _task('camunda:candidateGroups="dispatcher"') + timer)])
    case = bare_engine.start("other", {}, bare_engine.actor("dispatcher"))
    assert bare_engine.fire_due_timers(clock.now() + timedelta(minutes=6)) == 1
    detail = bare_engine.instance(case)
    assert (detail["status"], detail["end_event"]) == ("completed", "too_late")


def test_a_cron_timer_and_a_timer_without_a_time_are_refused(bare_engine, tmp_path):
    body = _task() + (
        '<bpmn:boundaryEvent id="cron" attachedToRef="work"><bpmn:timerEventDefinition>'
        "<bpmn:timeCycle>0 0/5 * * * ?</bpmn:timeCycle></bpmn:timerEventDefinition>"
        '</bpmn:boundaryEvent><bpmn:boundaryEvent id="empty" attachedToRef="work">'
        "<bpmn:timerEventDefinition/></bpmn:boundaryEvent>"
    )
    problems = {p.element: p.message for p in _refused(bare_engine, _file(tmp_path, body))}
    assert "R/PT5M" in problems["cron"] and "has no time" in problems["empty"]


def test_flows_without_an_id_are_named_and_run(bare_engine, tmp_path):
    body = (
        '<bpmn:userTask id="work" name="办理"/>\n'
        '<bpmn:sequenceFlow sourceRef="start" targetRef="work"/>\n'
        '<bpmn:sequenceFlow sourceRef="work" targetRef="end"/>\n'
    )
    folder = _file(tmp_path, body)
    named = [w.element for w in _warnings(folder) if "has no id" in w.message]
    assert named == ["Flow_start_work", "Flow_work_end"]
    bare_engine.deploy([folder])
    case = bare_engine.start("other", {}, bare_engine.actor("dispatcher"))
    bare_engine.complete(_open_task(bare_engine, case)["id"], bare_engine.actor("admin"), {})
    assert bare_engine.instance(case)["end_event"] == "end"


def test_a_feel_list_in_a_decision_matches_any_of_its_items(bare_engine, tmp_path):
    rule = (
        '<bpmn:businessRuleTask id="decide" camunda:decisionRef="season_dish"/>\n'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide"/>\n'
        '<bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="end"/>\n'
    )
    folder = _file(tmp_path, rule)
    (folder / "dish.dmn").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" '
        'namespace="x"><decision id="season_dish" name="菜"><decisionTable hitPolicy="FIRST">'
        '<input label="季节"><inputExpression typeRef="string"><text>season</text>'
        '</inputExpression></input><output name="dish" typeRef="string"/>'
        '<rule><inputEntry><text>"Fall","Winter"</text></inputEntry>'
        '<outputEntry><text>"Stew"</text></outputEntry></rule>'
        "<rule><inputEntry><text>-</text></inputEntry>"
        '<outputEntry><text>"Salad"</text></outputEntry></rule>'
        "</decisionTable></decision></definitions>",
        encoding="utf-8",
    )
    bare_engine.deploy([folder])
    case = bare_engine.start("other", {"season": "Winter"}, bare_engine.actor("dispatcher"))
    assert bare_engine.instance(case)["data"]["dish"] == "Stew"


def test_a_stored_deployment_checks_added_since_would_refuse_keeps_running(
    make_engine, tmp_path, caplog
):
    """Deployed by an earlier release, which ignored camunda:formKey: the server recompiles
    it when a case needs it; the new finding is a warning in the log, its cases run on."""
    engine = make_engine()
    engine.upgrade()
    engine.load_demo()
    folder = _file(tmp_path, _task('camunda:formKey="embedded:app:forms/approve.html"'))
    assert "forms/approve.json" in _refused(engine, folder)[0].message
    sources = read_sources([folder])
    with engine.runtime.command() as session:  # as the earlier release stored it
        store(session, sources, compile_sources(sources, stored=True), "admin", engine.now())
    restarted = make_engine()  # another process: nothing compiled yet
    with caplog.at_level(logging.WARNING, logger="engine.deployments"):
        case = restarted.start("other", {}, restarted.actor("dispatcher"))
    assert any("camunda:formKey" in r.getMessage() for r in caplog.records)
    task = _open_task(restarted, case)
    assert task["form_key"] is None
    restarted.complete(task["id"], restarted.actor("admin"), {})
    assert restarted.instance(case)["status"] == "completed"
    assert [p["name"] for p in restarted.processes()] == ["别家的流程"]
