"""A deployment's BPMN and DMN, read before SpiffWorkflow parses them: what other modelers
write is checked and, where its meaning is plain, written into our contract
(engine/model_checks.py, engine/vendor.py). One pass over the whole deployment, since a file's
checks need to know the others' processes, decisions and forms.

Its refusals are checks added after deployments were stored: a stored deployment is compiled
again whenever a process starts, so for one (`stored`) they are warnings, and the vendor
extensions keep the meaning they had when it was deployed (none): its cases run on as before.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from . import model_checks, vendor
from .errors import Problem
from .model_checks import Findings, bpmn
from .wording import wording


@dataclass
class Prepared:
    bpmn: list[tuple[str, etree._ElementTree]] = field(default_factory=list)
    dmn: list[tuple[str, list[Any]]] = field(default_factory=list)  # file -> its documents
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)  # made from formData
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    answered: dict[str, set[str]] = field(default_factory=dict)  # file -> elements named

    def answers(self, problem: Problem) -> bool:
        """Whether one of these findings names the problem's element already (SpiffWorkflow
        and the later checks would say less about it: "unexpected indent" for JavaScript)."""
        return bool(problem.element) and problem.element in self.answered.get(problem.file, ())


def prepare(
    trees: list[tuple[str, str, etree._ElementTree]], form_keys: set[str], stored: bool = False
) -> Prepared:
    """(name, kind, tree) of the deployment's XML files -> what SpiffWorkflow should parse."""
    prepared = Prepared()
    for name, kind, tree in trees:
        if kind == "dmn":
            found = Findings(name)
            roots = model_checks.dmn_roots(tree.getroot(), found)
            vendor.dmn_warnings(tree.getroot(), found)
            prepared.dmn.append((name, roots))
            _collect(prepared, found)
    documents = [r for _n, roots in prepared.dmn for r in roots]
    context = vendor.Context(
        form_keys=set(form_keys), decisions=model_checks.decision_outputs(documents)
    )
    requirements = model_checks.decision_requirements(documents)
    process_ids = {
        str(process.get("id"))
        for _name, kind, tree in trees
        if kind == "bpmn"
        for process in tree.iter(bpmn("process"))
        if process.get("id")
    }
    for name, kind, tree in trees:
        if kind != "bpmn":
            continue
        found = Findings(name)
        model_checks.name_flows(tree, found)
        if stored:
            vendor.adapt(copy.deepcopy(tree), context, found)  # findings only
        else:
            for key, schema in vendor.adapt(tree, context, found).items():
                if key in prepared.forms:
                    found.warn(
                        key,
                        wording(
                            "two elements with the id '%(id)s' have formData: "
                            "the first is the form",
                            id=key,
                        ),
                    )
                else:
                    prepared.forms[key] = schema
        model_checks.check_bpmn(tree, process_ids, found)
        if not stored:  # a stored deployment's decisions run as they did
            model_checks.chain_decisions(tree, requirements, found)
        prepared.bpmn.append((name, tree))
        _collect(prepared, found)
    if stored:
        prepared.warnings = [
            Problem(p.file, p.element, p.wording or p.message, "warning") for p in prepared.problems
        ] + prepared.warnings
        prepared.problems = []
        prepared.answered = {}
    return prepared


def _collect(prepared: Prepared, found: Findings) -> None:
    prepared.problems.extend(found.problems)
    prepared.warnings.extend(found.warnings)
    prepared.answered.setdefault(found.file, set()).update(found.answered)
