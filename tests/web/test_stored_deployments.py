"""A deployment stored by an earlier release, which checks added since would refuse: the
server starts, lists it and runs its cases (the findings are warnings in its log)."""

from __future__ import annotations

import pytest

from engine.definitions import compile_sources, read_sources
from engine.deployments import store
from tests.web.conftest import Client, Server

pytestmark = pytest.mark.slow

CAMUNDA = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="x">
  <bpmn:process id="older" name="旧版流程" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="approve" name="审批" camunda:formKey="embedded:app:forms/approve.html"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="approve"/>
    <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_the_server_runs_a_deployment_new_checks_would_refuse(engine, database_url, tmp_path):
    path = tmp_path / "older.bpmn"
    path.write_text(CAMUNDA, encoding="utf-8")
    sources = read_sources([path])
    with engine.runtime.command() as session:  # as the earlier release stored it
        store(session, sources, compile_sources(sources, stored=True), "admin", engine.now())
    server = Server(database_url, tmp_path / "data")
    server.start()
    try:
        admin = Client(server, engine.new_token("admin"))
        listed = admin.get("/processes")
        assert listed.status_code == 200, listed.text
        assert "older" in {p["process_id"] for p in listed.json()}
        started = admin.post("/processes/older/instances", {})
        assert started.status_code == 201, started.text
        case = started.json()["id"]
        (task,) = admin.get(f"/instances/{case}").json()["open_tasks"]
        done = admin.post(f"/tasks/{task['id']}/complete", {})
        assert done.status_code == 200, done.text
        assert admin.get(f"/instances/{case}").json()["status"] == "completed"
    finally:
        server.stop()
