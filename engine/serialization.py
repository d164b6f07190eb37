"""Workflow state to JSON and back, without the spec (that comes from DefinitionCache)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .spiff_timers import CLOCK_TIMER_CLASSES

_config = dict(SPIFF_CONFIG)
for stock, ours in CLOCK_TIMER_CLASSES.items():
    _config[ours] = SPIFF_CONFIG[stock]
_registry = BpmnWorkflowSerializer.configure(_config)
SERIALIZER = BpmnWorkflowSerializer(_registry)
# The registry holds partial(_obj_to_dict, typename, converter.to_dict): get the converter.
_converter = _registry.convert_to_dict[_registry.typenames[BpmnWorkflow]].args[1].__self__


def dump_state(workflow: BpmnWorkflow) -> str:
    """The instance state: tasks, data, subprocesses, events; no spec."""
    dct = _workflow_dict(workflow)
    return json.dumps(dct, separators=(",", ":"), ensure_ascii=False)


def _workflow_dict(workflow: BpmnWorkflow) -> dict[str, Any]:
    # Mirrors BpmnWorkflowConverter.to_dict minus the two spec entries.
    dct = WorkflowConverter.to_dict(_converter, workflow)
    dct["subprocesses"] = _converter.mapping_to_dict(workflow.subprocesses)
    dct["bpmn_events"] = _registry.convert(workflow.bpmn_events)
    dct[BpmnWorkflowSerializer.VERSION_KEY] = VERSION
    return dct


def load_state(state: str, spec: Any, subprocess_specs: dict[str, Any], script_engine: Any) -> Any:
    """Rebuild a live workflow from its state and the cached spec of its version."""
    dct = json.loads(state)
    stored = dct.pop(BpmnWorkflowSerializer.VERSION_KEY, VERSION)
    if stored != VERSION:
        # SpiffWorkflow's migrations expect the spec inside the state; ours never is.
        raise ValueError(f"state written by serializer {stored}, this engine reads {VERSION}")
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine, deserializing=True)
    workflow.tasks = _converter.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
    workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
    _converter.set_default_attributes(workflow, dct)
    _converter.subprocesses_from_dict(dct["subprocesses"], workflow)
    workflow.bpmn_events = _registry.restore(dct.pop("bpmn_events", []))
    return workflow
