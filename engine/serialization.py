"""Workflow state to JSON and back, without the spec: the spec always comes from the compiled
process of the case's pinned version (`deployments.CompiledProcesses`)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.defaults import ParallelMultiInstanceTask, SubWorkflowTask

from .definitions import OnceCompletedSubprocess, PrincipalMultiInstance, TerminatingEndEvent
from .spiff_timers import CLOCK_TIMER_CLASSES


class StateConverter(BpmnWorkflowConverter):
    """SpiffWorkflow's workflow converter minus the two spec entries: a case's state is its
    tasks, data, subprocesses and events; restoring it takes the cached spec instead."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_state(
        self, dct: dict[str, Any], spec: Any, subprocess_specs: dict[str, Any], script_engine: Any
    ) -> BpmnWorkflow:
        """BpmnWorkflowConverter.from_dict, with the spec given rather than stored."""
        workflow = self.target_class(
            spec, subprocess_specs, script_engine=script_engine, deserializing=True
        )
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_config = dict(SPIFF_CONFIG)
for stock, ours in CLOCK_TIMER_CLASSES.items():
    _config[ours] = SPIFF_CONFIG[stock]
del _config[BpmnWorkflow]  # ours, registered below, as spiff/serializer/config.py registers its own
_registry = BpmnWorkflowSerializer.configure(_config)
# A converter registers itself with the registry it is made for (BpmnConverter.__init__).
CONVERTER = StateConverter(BpmnWorkflow, _registry)

# Specs as dictionaries, to compare two versions' steps (engine/migration.py): our spec
# classes are converted as the SpiffWorkflow classes they extend.
_spec_config = dict(SPIFF_CONFIG)
_spec_config[TerminatingEndEvent] = SPIFF_CONFIG[EndEvent]
_spec_config[OnceCompletedSubprocess] = SPIFF_CONFIG[SubWorkflowTask]
_spec_config[PrincipalMultiInstance] = SPIFF_CONFIG[ParallelMultiInstanceTask]
for stock, ours in CLOCK_TIMER_CLASSES.items():
    _spec_config[ours] = SPIFF_CONFIG[stock]
SPEC_REGISTRY = BpmnWorkflowSerializer.configure(_spec_config)


def dump_state(workflow: BpmnWorkflow) -> str:
    """The instance state: tasks, data, subprocesses, events; no spec."""
    dct = CONVERTER.to_dict(workflow)
    dct[BpmnWorkflowSerializer.VERSION_KEY] = VERSION
    return json.dumps(dct, separators=(",", ":"), ensure_ascii=False)


def load_state(state: str, spec: Any, subprocess_specs: dict[str, Any], script_engine: Any) -> Any:
    """Rebuild a live workflow from its state and the cached spec of its version."""
    dct = json.loads(state)
    stored = dct.pop(BpmnWorkflowSerializer.VERSION_KEY, VERSION)
    if stored != VERSION:
        # SpiffWorkflow's migrations expect the spec inside the state; ours never is.
        raise ValueError(f"state written by serializer {stored}, this engine reads {VERSION}")
    return CONVERTER.from_state(dct, spec, subprocess_specs, script_engine)
