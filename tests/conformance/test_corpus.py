"""Every executable process of the SpiffWorkflow corpus, plain vs through our engine.

The corpus is not part of the project (LGPL test data of SpiffWorkflow): it is read from
$HAZARDFLOW_CORPUS or ../shared/corpus/spiffworkflow. Without it these tests are skipped.
"""

from __future__ import annotations

import pytest

from tests.conformance.driver import (
    CORPUS_ENV,
    DEFAULT_CORPUS,
    acceptable,
    corpus_dir,
    discover,
    intended,
    run_case,
)

CORPUS = corpus_dir()
CASES = discover(CORPUS)[0] if CORPUS else []
NO_CORPUS = f"no SpiffWorkflow corpus: set {CORPUS_ENV} (default {DEFAULT_CORPUS})"


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.name) for c in CASES]
    or [pytest.param(None, id="no-corpus", marks=pytest.mark.skip(reason=NO_CORPUS))],
)
def test_process_runs_as_in_plain_spiffworkflow(case, tmp_path):
    verdict = run_case(case, tmp_path)
    expected = intended(case)
    assert acceptable(case, verdict), (
        f"{verdict.line}\n  documented: {expected}" if expected else verdict.line
    )
