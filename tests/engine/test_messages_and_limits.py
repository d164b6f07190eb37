"""Messages into a waiting case; processes the engine refuses or stops rather than hang on."""

from __future__ import annotations

import pytest

from engine import Conflict, DeployRefused
from engine.org import SYSTEM

NS = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
)

WAIT_FOR_REPLY = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} id="d" targetNamespace="http://example.com/m">
  <bpmn:message id="m_reply" name="reply" />
  <bpmn:process id="wait_for_reply" isExecutable="true">
    <bpmn:startEvent id="begin"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:receiveTask id="await_reply" messageRef="m_reply">
      <bpmn:extensionElements>
        <spiffworkflow:messageVariable>reply</spiffworkflow:messageVariable>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:receiveTask>
    <bpmn:scriptTask id="note"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>print("got", reply)
answer = reply["text"].upper()</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="replied"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="await_reply"/>
    <bpmn:sequenceFlow id="f2" sourceRef="await_reply" targetRef="note"/>
    <bpmn:sequenceFlow id="f3" sourceRef="note" targetRef="replied"/>
  </bpmn:process>
</bpmn:definitions>"""

CALLS_ITSELF = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
    targetNamespace="http://example.com/r">
  <bpmn:process id="again_and_again" isExecutable="true">
    <bpmn:startEvent id="begin"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:callActivity id="recurse" calledElement="again_and_again">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:callActivity>
    <bpmn:endEvent id="finish"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="recurse"/>
    <bpmn:sequenceFlow id="f2" sourceRef="recurse" targetRef="finish"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_message_reaches_the_waiting_case_with_its_payload(bare_engine, tmp_path):
    path = tmp_path / "wait_for_reply.bpmn"
    path.write_text(WAIT_FOR_REPLY, encoding="utf-8")
    bare_engine.deploy([path])
    case = bare_engine.start("wait_for_reply", {}, SYSTEM)
    with pytest.raises(Conflict, match="not waiting for message 'other'"):
        bare_engine.send_message("other", {}, SYSTEM, instance_id=case)
    bare_engine.live.clear()  # delivered to the workflow restored from the database
    result = bare_engine.send_message("reply", {"text": "ok"}, SYSTEM, instance_id=case)
    assert result == {"instance_id": case, "status": "completed"}
    done = bare_engine.instance(case)
    assert done["end_event"] == "replied"
    assert done["data"]["reply"] == {"text": "ok"} and done["data"]["answer"] == "OK"
    assert [e["action"] for e in done["history"]] == ["start", "message", "end"]
    with pytest.raises(Conflict, match="completed"):
        bare_engine.send_message("reply", {}, SYSTEM, instance_id=case)


def test_a_process_calling_itself_is_refused_at_deploy(bare_engine, tmp_path):
    path = tmp_path / "recursive.bpmn"
    path.write_text(CALLS_ITSELF, encoding="utf-8")
    with pytest.raises(DeployRefused) as refused:
        bare_engine.deploy([path])
    [problem] = refused.value.problems
    assert problem.element == "recurse" and "calls itself" in problem.message
