"""JUEL (Camunda, Flowable, Activiti) as the sandbox's Python, and FEEL entries of decision
tables as the Python SpiffWorkflow reads: what is translated means the same, what is not is
refused with the way to write it."""

from __future__ import annotations

import pytest

from engine import feel, juel, sandbox


@pytest.mark.parametrize(
    ("text", "python", "data", "value"),
    [
        ("${approved}", "approved", {"approved": True}, True),
        ("#{!approved}", "(not approved)", {"approved": True}, False),
        ("${approved == true}", "(approved == True)", {"approved": True}, True),
        ("${a && b || !c}", "((a and b) or (not c))", {"a": 1, "b": 0, "c": 0}, True),
        ("${x eq 'a' and y ne 2}", "((x == 'a') and (y != 2))", {"x": "a", "y": 3}, True),
        ("${score le 5 or score gt 9}", "((score <= 5) or (score > 9))", {"score": 7}, False),
        ("${movieDesc == null}", "(movieDesc == None)", {"movieDesc": None}, True),
        ("${empty name}", "(name in (None, '', [], {}))", {"name": ""}, True),
        ("${not empty name}", "(not (name in (None, '', [], {})))", {"name": "x"}, True),
        (
            "${content.approved == false}",
            "(content['approved'] == False)",
            {"content": {"approved": False}},
            True,
        ),
        ("${items[0].n > 1}", "(items[0]['n'] > 1)", {"items": [{"n": 2}]}, True),
        ("${checkResult=='通过'}", "(checkResult == '通过')", {"checkResult": "通过"}, True),
        ("${a ? 'x' : 'y'}", "('x' if a else 'y')", {"a": False}, "y"),
        ("${n div 2 mod 3}", "((n / 2) % 3)", {"n": 8}, 1.0),
        ("${execution.getVariable('amount') > 10}", "(amount > 10)", {"amount": 11}, True),
        ("dept_${code}", "'dept_' + str(code)", {"code": "yjj"}, "dept_yjj"),
        ("${ source }", "source", {"source": 1}, 1),
    ],
)
def test_the_safe_subset_means_what_it_meant(text, python, data, value):
    assert juel.translate(text) == python
    sandbox.check(python, "eval")
    assert sandbox.Sandbox().evaluate(python, data) == value


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("${jobService.findRequester(id)}", "'jobService.findRequester(…)' calls a method"),
        ("${execution.setVariable('a', 1)}", "the Java 'execution' object"),
        ("${x instanceof y}", "'instanceof'"),
        ("${__class__}", "cannot be a variable name"),
        ("${a", "no closing"),
        ("${}", "empty"),
        ("${a ?: b}", "'?:' is not JUEL"),
        ("${a ~ b}", "'~' is not JUEL"),
    ],
)
def test_the_rest_is_refused_with_the_way_to_write_it(text, words):
    with pytest.raises(juel.JuelError) as refused:
        juel.translate(text)
    assert words in str(refused.value)
    assert "JUEL is not supported here; write it as" in str(refused.value)


@pytest.mark.parametrize(
    ("entry", "python"),
    [
        ('"Fall"', '"Fall"'),  # the same in both
        ("< 600", "< 600"),
        ("-", "-"),
        ('? in ("a", "b")', '? in ("a", "b")'),  # ours, untouched
        ('"Fall","Winter"', '? == ("Fall") or ? == ("Winter")'),
        ("[600..699]", "600 <= ? <= 699"),
        ("]0..10[", "0 < ? < 10"),
        ('not("Summer")', 'not (? == ("Summer"))'),
        ("true", "? == True"),
        ("[1..5], > 9", "1 <= ? <= 5 or ? > 9"),
    ],
)
def test_feel_entries_become_the_python_spiffworkflow_reads(entry, python):
    assert feel.input_entry(entry) == python


def test_feel_literals_in_output_entries():
    assert feel.output_entry("true") == "True"
    assert feel.output_entry('"approved"') == '"approved"'
