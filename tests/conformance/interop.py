"""The interop corpus through the engine, as a process author would try it.

`../shared/corpus/interop/` (or `$HAZARDFLOW_INTEROP_CORPUS`) holds BPMN and DMN files made
with other modelers (Camunda, Operaton, Flowable, Activiti, bpmn-js, SpiffArena). Each BPMN
file is deployed with the files it needs from its folder (the processes it calls, the DMN
files of the decisions it uses); if it deploys, each of its processes is started and driven
to its end as the conformance driver drives one (`driver.drive`: every task completed, with
the data of `SCENARIOS` where the process reads what a person or the calling application
would give, timers fired, messages delivered), every step through the database. The report
says file by file whether it deploys, whether it runs to an end, and why not.

    python -m tests.conformance.interop                       # the report, on stdout
    python -m tests.conformance.interop --write docs/interop.md   # `make interop`
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import tempfile
import traceback
import warnings
from collections import Counter
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

from engine import DeployRefused
from engine.config import PROJECT_ROOT
from engine.definitions import CompiledProcess, compile_sources, read_sources
from engine.errors import Problem
from tests.conformance.driver import (
    Case,
    EngineSide,
    Limits,
    Outcome,
    Scenario,
    discover,
    drive,
    is_bpmn,
)

CORPUS_ENV = "HAZARDFLOW_INTEROP_CORPUS"
DEFAULT_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus" / "interop"
# Before this work (commit 92385de), measured with this driver: 19 of the 53 BPMN files
# deployed and 12 ran to an end; nothing crashed.
BEFORE = (19, 12)

# What the Java application around a process would give it (start data), or a person would
# fill in where a condition reads it; chosen from each file's own conditions and assignments.
SCENARIOS: dict[str, Scenario] = {
    "zh-flowable/cag2050-flowable-demo__leave.bpmn20.xml": Scenario(
        start={"applyUser": "zhangsan"}
    ),
    "zh-flowable/flowable-engine-service__leave.bpmn20.xml": Scenario(
        start={"applicant": "zhangsan"}
    ),
    "zh-flowable/flowable-plus__test-candidate-users.bpmn20.xml": Scenario(
        start={"initiator": "zhangsan"}
    ),
    "zh-flowable/flowable-plus__test-parallel-gateway.bpmn20.xml": Scenario(
        start={
            "initiator": "zhangsan",
            "approver1": "lisi",
            "approver2": "wangwu",
            "approver3": "zhaoliu",
            "skipFinal": False,
        }
    ),
    "zh-flowable/ruoyi-budget__budgetProcess.bpmn20.xml": Scenario(
        start={
            "deptLeaderGroup": "dept_leader",
            "branchLeaderGroup": "branch_leader",
            "hqLeaderGroup": "hq_leader",
        },
        tasks={"*": {"result": "pass"}},
    ),
    "flowable-examples/blog__04-2021-jobs__processes__timer.bpmn20.xml": Scenario(
        start={"timerDate": "2026-03-03T09:00:00+00:00"}
    ),
    "flowable-examples/flowable-intro__dmn.bpmn20.xml": Scenario(start={"name": "Flowable"}),
    "operaton-examples/core-examples__dmn-decision__loan-application.bpmn": Scenario(
        start={"creditScore": 650, "requestedAmount": 20000}
    ),
    "operaton-examples/core-examples__user-task-forms__leave-request.bpmn": Scenario(
        tasks={
            "UserTask_SubmitRequest": {
                "employeeName": "李明",
                "startDate": "2026-03-09",
                "endDate": "2026-03-10",
                "leaveType": "annual",
            },
            "UserTask_ReviewRequest": {"approved": True, "comments": "同意"},
        }
    ),
}


def corpus_dir(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    raw = explicit or os.environ.get(CORPUS_ENV)
    path = Path(raw) if raw else DEFAULT_CORPUS
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    return path if path.is_dir() else None


@dataclass
class Run:
    process_id: str
    outcome: Outcome

    @property
    def ended(self) -> bool:
        return self.outcome.status == "completed"


@dataclass
class FileResult:
    file: str  # relative to the corpus
    deployed_with: list[str]  # the other files of its deployment
    refusals: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    crash: str | None = None  # a traceback: an engine bug, never expected
    compiled: dict[str, CompiledProcess] = field(default_factory=dict, repr=False)

    @property
    def deploys(self) -> bool:
        return not self.refusals and self.crash is None

    @property
    def runs_to_an_end(self) -> bool:
        return self.deploys and bool(self.runs) and all(r.ended for r in self.runs)


def deployments(root: Path) -> dict[str, tuple[list[Path], list[str]]]:
    """Every BPMN file under root -> (the files of its deployment, its executable processes)."""
    cases, _without = discover(root)
    found: dict[str, tuple[list[Path], list[str]]] = {}
    for case in cases:
        paths, processes = found.setdefault(case.file, ([*case.bpmn, *case.dmn], []))
        processes.append(case.process_id)
    for path in sorted(p for p in root.rglob("*") if is_bpmn(p)):
        found.setdefault(path.relative_to(root).as_posix(), ([path], []))
    return dict(sorted(found.items()))


def check_file(
    root: Path, file: str, paths: list[Path]
) -> tuple[FileResult, dict[str, CompiledProcess]]:
    """Validate a file's deployment: its refusals and warnings, or the crash."""
    result = FileResult(file, [p.relative_to(root).as_posix() for p in paths[1:]])
    compiled: dict[str, CompiledProcess] = {}
    try:
        compiled = result.compiled = compile_sources(read_sources(paths), result.warnings)
    except DeployRefused as refused:
        result.refusals = list(refused.problems)
    except Exception:  # the finding itself: no file may crash the engine
        result.crash = traceback.format_exc()
    return result, compiled


def run_file(
    root: Path, file: str, paths: list[Path], processes: list[str], workdir: Path
) -> FileResult:
    """Deploy one corpus file and drive each of its processes to its end."""
    result, compiled = check_file(root, file, paths)
    if not result.deploys:
        return result
    scenario = SCENARIOS.get(file, Scenario())
    bpmn = tuple(p for p in paths if is_bpmn(p))
    dmn = tuple(p for p in paths if p.suffix == ".dmn")
    for i, process_id in enumerate(p for p in processes if p in compiled):
        case = Case(f"{file}:{process_id}", file, process_id, bpmn, dmn)
        with redirect_stdout(io.StringIO()):
            outcome = drive(EngineSide(case, workdir / str(i)), scenario, Limits())
        result.runs.append(Run(process_id, outcome))
    return result


def check_decisions(root: Path, results: list[FileResult]) -> list[FileResult]:
    """Every DMN file read alone: what the engine says of it, besides that a deployment needs
    a process; `deployed_with` lists the BPMN files deployed with it."""
    checked = []
    for path in sorted(root.rglob("*.dmn")):
        file = path.relative_to(root).as_posix()
        result, _compiled = check_file(root, file, [path])
        result.refusals = [p for p in result.refusals if p.file != "no BPMN file"]
        result.deployed_with = [r.file for r in results if file in r.deployed_with]
        checked.append(result)
    return checked


def run_corpus(root: Path) -> list[FileResult]:
    with tempfile.TemporaryDirectory(prefix="hazardflow-interop-") as tmp:
        return [
            run_file(root, file, paths, processes, Path(tmp) / str(i))
            for i, (file, (paths, processes)) in enumerate(deployments(root).items())
        ]


# --- the report ------------------------------------------------------------------------------

HEADER = """# Files made with other modelers: the interop corpus

Generated by `make interop` (`python -m tests.conformance.interop --write docs/interop.md`)
from a run of the engine; do not edit by hand: change the engine, then run it again. What the
engine reads of other modelers' files, and what it refuses or warns about, is the process
authors' contract: `processes/README.md` §12. `tests/conformance/test_interop.py` checks the
same files, and that this page is up to date, on every test run.

`../shared/corpus/interop/` holds {files} public BPMN and DMN files from ten projects
(Camunda, Operaton, Flowable, Activiti, bpmn-js, SpiffArena, Chinese Flowable demos; see its
`SOURCES.txt`). Each BPMN file is deployed as a user would upload it, with the files it needs
from its folder (the processes it calls, the DMN files of the decisions it uses). If it
deploys, each of its processes is started and driven through the database until it ends:
every task completed (with the data listed under "Inputs" where the process reads what its
Java application or a person would give), timers fired, messages delivered.

**{deploys} of the {bpmn} BPMN files deploy, {ends} run to an end** (before this work:
{before_deploys} and {before_ends}). No file crashed the engine; every refusal names its
element; every vendor attribute the engine does not read is named in a warning.
"""


def _status(result: FileResult) -> tuple[str, str]:
    if result.crash:
        return "CRASH", "CRASH"
    if not result.deploys:
        return "no", "–"
    if not result.runs:
        return "yes", "no process to run"
    ends = [r for r in result.runs if r.ended]
    return "yes", "yes" if len(ends) == len(result.runs) else f"{len(ends)} of {len(result.runs)}"


def _why(result: FileResult) -> str:
    if result.crash:
        return result.crash.strip().splitlines()[-1]
    if result.refusals:
        return "; ".join(_problem(p) for p in result.refusals)
    notes = []
    for run in result.runs:
        outcome = run.outcome
        if outcome.status == "completed":
            notes.append(f"`{run.process_id}` ends at `{outcome.end_events[-1]}`")
        else:
            notes.append(f"`{run.process_id}` {outcome.status}: {_cell(outcome.error or '')}")
    return "; ".join(notes)


def _problem(problem: Problem) -> str:
    where = f"`{_cell(problem.element)}`: " if problem.element else ""
    return where + _cell(problem.message)


def _cell(text: str | None, limit: int = 300) -> str:
    text = " ".join((text or "").split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _warned(found: list[Problem]) -> str:
    """Warnings counted by what they are about: the vendor attribute, else their first words."""
    kinds: Counter[str] = Counter()
    for warning in found:
        attribute = re.match(r"[\w-]+:[\w-]+", warning.message)
        words = " ".join(warning.message.split()[:4])
        kinds[attribute.group() if attribute else words + " …"] += 1
    ranked = sorted(kinds.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"`{k}` ×{n}" if n > 1 else f"`{k}`" for k, n in ranked)


REASONS = (  # (words in a refusal, what a reader calls it), the first that matches
    ("malformed XML", "not well-formed XML"),
    ('isExecutable="false"', 'only diagrams (isExecutable="false")'),
    ("the serviceTask", "service tasks: Java code, connectors, external workers"),
    ("a JSON Schema form", "a form the file names is not deployed with it"),
    ("calls process", "a called process is not deployed with it"),
    ("names no process to call", "a call activity names no process"),
    ("the script is written in", "scripts in another language"),
    ("the timer has no time", "timers without a time"),
    ("cron expression", "cron timers"),
    ("JUEL is not supported", "JUEL beyond the translated subset"),
    ("Parameter '", "input/output parameters HazardFlow cannot set"),
    ("inputOutput is not supported", "input/output parameters HazardFlow cannot set"),
    ("without a condition and is not its default", "gateway flows without a condition"),
    ("is not allowed", "refused by the sandbox"),
    ("has no end event", "processes without an end event"),
    ("data store", "data stores"),
)


def _reasons(results: list[FileResult]) -> list[str]:
    counted: Counter[str] = Counter()
    for result in results:
        found = {
            next((name for words, name in REASONS if words in p.message), "other")
            for p in result.refusals
        }
        counted.update(found)
    lines = ["| why | files |", "|---|---|"]
    ranked = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    lines += [f"| {reason} | {n} |" for reason, n in ranked]
    return lines


def markdown(results: list[FileResult], decisions: list[FileResult], total_files: int) -> str:
    deploys = sum(r.deploys for r in results)
    ends = sum(r.runs_to_an_end for r in results)
    lines = [
        HEADER.format(
            files=total_files,
            bpmn=len(results),
            deploys=deploys,
            ends=ends,
            before_deploys=BEFORE[0],
            before_ends=BEFORE[1],
        ),
        "## Why files are refused",
        "",
        "A file counts once under each reason it has.",
        "",
        *_reasons(results),
        "",
        "## File by file",
        "",
        "| file | deploys | runs to an end | why not, or where it ends | warnings |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        deployed, ended = _status(result)
        name = f"`{result.file}`"
        if result.deployed_with:
            name += " (with " + ", ".join(f"`{Path(f).name}`" for f in result.deployed_with) + ")"
        lines.append(
            f"| {name} | {deployed} | {ended} | {_why(result)} | {_warned(result.warnings)} |"
        )
    lines += [
        "",
        "## Decision tables",
        "",
        "Each DMN file read alone (a deployment also needs the process that calls it).",
        "",
        "| file | read | deployed with | why not | warnings |",
        "|---|---|---|---|---|",
    ]
    for result in decisions:
        read = "CRASH" if result.crash else "yes" if result.deploys else "no"
        users = ", ".join(f"`{Path(f).name}`" for f in result.deployed_with) or "–"
        why = _why(result) if not result.deploys else ""
        lines.append(f"| `{result.file}` | {read} | {users} | {why} | {_warned(result.warnings)} |")
    lines += ["", "## Inputs", ""]
    lines.append("What the runs gave the processes that read data their application provides:")
    lines.append("")
    for file, scenario in SCENARIOS.items():
        given = []
        if scenario.start:
            given.append(f"start data `{scenario.start}`")
        if scenario.tasks:
            given.append(f"task data `{scenario.tasks}`")
        lines.append(f"- `{file}`: {', '.join(given)}")
    lines += ["", "## Warnings, file by file", ""]
    for result in [*results, *decisions]:
        if result.warnings:
            lines.append(f"- `{result.file}`:")
            lines.extend(f"  - {_problem(w)}" for w in result.warnings)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.conformance.interop", description=__doc__
    )
    parser.add_argument("--corpus", help=f"corpus folder (default ${CORPUS_ENV}, {DEFAULT_CORPUS})")
    parser.add_argument("--write", help="write the report to this file instead of stdout")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    root = corpus_dir(args.corpus)
    if root is None:
        print(
            f"no interop corpus: pass --corpus DIR or set {CORPUS_ENV} (default {DEFAULT_CORPUS})"
        )
        return 0 if not args.corpus else 2
    results = run_corpus(root)
    decisions = check_decisions(root, results)
    total = sum(1 for p in root.rglob("*") if is_bpmn(p) or p.suffix == ".dmn")
    report = markdown(results, decisions, total)
    if args.write:
        Path(args.write).write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    deploys = sum(r.deploys for r in results)
    ends = sum(r.runs_to_an_end for r in results)
    print(f"{len(results)} BPMN files: {deploys} deploy, {ends} run to an end", file=sys.stderr)
    return 1 if any(r.crash for r in [*results, *decisions]) else 0


if __name__ == "__main__":
    sys.exit(main())
