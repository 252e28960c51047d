"""Shared test fixtures.

Real recorded payloads live in ``../shared/data/real`` (beside the checkout, never copied into
the repository; ``TRADE_IMBALANCE_REAL_DATA`` points elsewhere); tests that need them skip with a
clear reason when the folder is absent. A few small real excerpts from publishers whose terms allow
redistribution are bundled under ``tests/fixtures/<publisher>/sample/`` (``NOTICE.md`` beside
them): :func:`recording_or_sample` gives the recording or, without ``shared/``, its sample, so the
tests of the product's own guarantees run from a plain clone.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Prefect must never touch the developer's ~/.prefect or phone home: isolate it before import.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="prefect-home-")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# The in-process ephemeral API can take tens of seconds to start on a busy 2-core machine.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REAL = Path(os.environ.get("TRADE_IMBALANCE_REAL_DATA", ROOT.parent / "shared" / "data" / "real"))


@pytest.fixture(scope="session")
def real_data() -> Path:
    """Path of ``shared/data/real``; skips the test when the recorded payloads are absent."""
    if not REAL.is_dir():
        pytest.skip(f"real recorded payloads not found at {REAL} (shared/ is not beside the checkout)")
    return REAL


@pytest.fixture(scope="session")
def recordings() -> Path:
    """Path of ``shared/data/real`` for the strict double, which falls back to the bundled samples
    (``tests.double.SAMPLES``) and labelled made-up payloads when it is absent: never skips."""
    return REAL


def recording_or_sample(relative: str) -> Path:
    """The recording ``shared/data/real/<relative>`` or, when absent, its bundled sample
    (``tests.double.SAMPLES``); skips when neither exists."""
    from tests.double import recording

    path = recording(REAL, relative)
    if path is None:
        pytest.skip(f"recorded payload {relative} not found under {REAL} and not bundled")
    return path


def real_file(real_data: Path, relative: str) -> Path:
    """One recorded payload; skips when that file is absent."""
    path = real_data / relative
    if not path.is_file():
        pytest.skip(f"recorded payload {relative} not found under {real_data}")
    return path


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory, monkeypatch):
    """No test reads the developer's settings or Prefect home, or writes outside tmp."""
    for name in list(os.environ):
        if name.startswith("TRADE_IMBALANCE_") and name != "TRADE_IMBALANCE_REAL_DATA":
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRADE_IMBALANCE_WAREHOUSE", str(tmp_path_factory.mktemp("warehouse")))
    from flows.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
