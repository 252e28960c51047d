"""Fault injection (issue 12, part 5).

* :mod:`tests.faults.harness` — a loopback double that corrupts answers (a
  :class:`tests.double.StrictPublishers` subclass) and :func:`~tests.faults.harness.run_kind`,
  which sends one bad-payload kind through the real path (``flows.fetch.fetch_source`` over HTTP,
  then the build's load step) and classifies the outcome;
* :mod:`tests.faults.kinds` — the catalogue of bad-payload kinds, each labelled with what it
  corrupts and the outcome expected;
* ``test_payloads.py`` — the in-process suite (marker ``faults``; in CI):
  ``uv run pytest -m faults tests/faults`` (prints the figures at the end);
* :mod:`tests.faults.soak` — kill -9 at each named step of a refresh and read-only queries during
  publishes (not in CI): ``uv run python -m tests.faults.soak``.

Every payload here is a corrupted copy of what the strict double serves: recorded values where
``shared/data/real`` (or a bundled sample) holds them, values labelled as made up elsewhere (the
double's made-up GACC, UN Comtrade and IMF stand-ins when ``shared`` is absent, so every kind runs
from a plain clone). The tests assert outcome classes, never figures.
"""
