"""The texts of the process files in a second language.

`processes/translations/<locale>.yaml` maps each text people read in the process files (task,
event and flow names, form titles and descriptions, option titles, check messages, queue
names) to its translation. The keys are the texts themselves, as in gettext: an author edits a
form in Chinese and adds one line for the English, with no message ids to invent. A text
without a translation is shown as written; validation lists the missing ones as warnings.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any

from .errors import Problem
from .wording import Text, wording
from .yaml_text import load_mapping

TRANSLATIONS_DIR = "translations"
_READ_KEYS = ("title", "description", "message", "placeholder")  # what a form shows as text
_HAN = re.compile(r"[\u3400-\u9fff]")


def locale_of(name: str) -> str | None:
    """`translations/en.yaml` -> "en"; None for any other file."""
    path = PurePosixPath(name)
    if len(path.parts) >= 2 and path.parts[-2] == TRANSLATIONS_DIR and path.suffix == ".yaml":
        return path.stem
    return None


def parse_translations(content: str) -> dict[str, str]:
    """Read a translations file; raises ValueError naming the bad entry."""
    doc = load_mapping(content, "a mapping of each text to its translation")
    for text, translated in doc.items():
        if not isinstance(translated, str) or not translated.strip():
            raise ValueError(
                wording("'%(text)s': the translation must be a non-empty text", text=str(text))
            )
    return dict(doc)


def form_texts(schema: Any) -> Iterator[str]:
    """Every text a form shows: titles, descriptions, option titles, check messages."""
    if isinstance(schema, Mapping):
        for key, value in schema.items():
            if key in _READ_KEYS and isinstance(value, str):
                yield value
            elif key == "x-done":
                yield from _strings(value)
            else:
                yield from form_texts(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from form_texts(item)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)


_BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def lane_title(lane: Any) -> str | None:
    """What people call a lane's role: the first line of its documentation (its `name` is the
    role key that works its tasks, e.g. `dispatcher`, for 牵头部门调度员)."""
    lines = (lane.findtext(f"{_BPMN}documentation") or "").strip().splitlines()
    return lines[0].strip() if lines else None


def bpmn_texts(tree: Any) -> Iterator[str]:
    """The names of the elements of a BPMN file (what the diagram and the timeline show)."""
    for lane in tree.iter(f"{_BPMN}lane"):
        title = lane_title(lane)
        if title:
            yield title
    for element in tree.iter():
        if (
            isinstance(element.tag, str)
            and element.get("name")
            and "spiffworkflow" not in str(element.tag)
        ):
            yield element.get("name")


def expression_texts(expression: str) -> Iterator[str]:
    """The string literals of an expression, e.g. the queue names of a `queue` property."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def needs_translation(text: str) -> bool:
    return bool(_HAN.search(text))


def translation_warnings(
    translations: Mapping[str, Mapping[str, str]], texts: Mapping[str, Text]
) -> list[Problem]:
    """For each translations file: texts of the processes it lacks, and entries no process
    file uses any more (often a text that was reworded). `texts`: text -> file it is in."""
    problems = []
    for file, table in translations.items():
        for text, where in texts.items():
            if needs_translation(text) and text not in table:
                said = wording("no translation for '%(text)s' (%(where)s)", text=text, where=where)
                problems.append(Problem(file, None, said, "warning"))
        for text in table:
            if text not in texts:
                said = wording("'%(text)s' is not a text of any process file", text=text)
                problems.append(Problem(file, None, said, "warning"))
    return problems


def translate_schema(schema: Any, table: Mapping[str, str]) -> Any:
    """A copy of a form schema with its texts translated (what is not in `table` stays)."""
    if not table:
        return schema
    if isinstance(schema, Mapping):
        return {
            key: (
                table.get(value, value)
                if key in _READ_KEYS and isinstance(value, str)
                else translate_schema(value, table)
            )
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [translate_schema(item, table) for item in schema]
    return schema


def collect_texts(
    forms: Mapping[str, Any], trees: Iterable[tuple[str, Any]], queues: Iterable[str]
) -> dict[str, Text]:
    """text -> the file it first appears in (a queue property: worded as that), over forms
    (file -> schema), BPMN trees ((file, tree)) and queue expressions."""
    found: dict[str, Text] = {}
    for file, schema in forms.items():
        for text in form_texts(schema):
            found.setdefault(text, file)
    for file, tree in trees:
        for text in bpmn_texts(tree):
            found.setdefault(text, file)
    for expression in queues:
        for text in expression_texts(expression):
            found.setdefault(text, wording("queue property"))
    return found
