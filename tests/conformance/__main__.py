"""`make conformance [CORPUS=DIR]`: one line per corpus process, then the totals.

    python -m tests.conformance [--corpus DIR] [--only TEXT]

Lines: `same`, `differs: …`, `both fail: …`, `refused by sandbox: …`; a documented intended
difference (docs/conformance.md) is marked `(intended)`. The last line is
`N passed, M failed, K skipped`. Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

from tests.conformance.driver import (
    CORPUS_ENV,
    DEFAULT_CORPUS,
    acceptable,
    corpus_dir,
    discover,
    intended,
    run_case,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance", description=__doc__)
    parser.add_argument("--corpus", help=f"corpus folder (default ${CORPUS_ENV}, {DEFAULT_CORPUS})")
    parser.add_argument("--only", default="", help="run the processes whose name contains this")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")

    root = corpus_dir(args.corpus)
    if root is None and args.corpus:
        parser.error(f"no corpus folder at {args.corpus}")
    if root is None:
        print(f"no corpus found: pass --corpus DIR or set {CORPUS_ENV} (default {DEFAULT_CORPUS})")
        print("0 passed, 0 failed, 0 skipped")
        return 0
    cases, without = discover(root)
    passed = failed = skipped = 0
    counts: dict[str, int] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hazardflow-conformance-") as tmp:
        for name in without:
            if args.only in name:
                print(f"{name}: skipped: no executable process")
                skipped += 1
        for i, case in enumerate(cases):
            if args.only not in case.name:
                continue
            verdict = run_case(case, Path(tmp) / str(i))
            mark = " (intended)" if intended(case) and acceptable(case, verdict) else ""
            detail = f": {verdict.detail}" if verdict.detail else ""
            print(f"{case.name}: {verdict.kind}{mark}{detail}")
            counts[verdict.kind + mark] = counts.get(verdict.kind + mark, 0) + 1
            if acceptable(case, verdict):
                passed += 1
            else:
                failed += 1
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    sys.stdout.flush()
    print(f"# {summary} in {time.monotonic() - started:.0f} s", file=sys.stderr)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
