"""Every bad-payload kind of :mod:`tests.faults.kinds` through the real HTTP path, fetch and the
build's load step: the outcome must be the one the kind is labelled with, a rejection must name
source, request and problem, and nothing may run past the deadlines (issue 12 part 5).

Run: ``uv run pytest -m faults tests/faults`` (figures printed at the end).
"""

from __future__ import annotations

import pytest

from tests.faults.conftest import RESULTS
from tests.faults.harness import HANG_SECONDS, run_kind
from tests.faults.kinds import KINDS

pytestmark = pytest.mark.faults


def test_the_catalogue_has_seventy_kinds_over_six_publishers():
    assert len(KINDS) >= 70
    assert len({k.id for k in KINDS}) == len(KINDS)
    assert {k.source for k in KINDS} == {"gacc", "comtrade", "imf", "census", "eurostat", "ecb"}


@pytest.mark.parametrize("fault", KINDS, ids=[k.id for k in KINDS])
def test_bad_payload(fault, loopback, baselines, tmp_path):
    result = run_kind(fault, loopback, tmp_path, baselines(fault.source))
    RESULTS.append(result)
    assert result.seconds < HANG_SECONDS, f"{fault.id} ran {result.seconds:.1f} s"
    assert result.outcome == fault.expect, (
        f"{fault.id} ({fault.label}): expected {fault.expect}, got {result.outcome}: "
        f"{result.message or result.lines}"
    )
