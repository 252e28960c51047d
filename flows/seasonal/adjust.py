"""Seasonal adjustment of one monthly series with X-13 (X-11 by default, SEATS as a cross-check).

Method (docs/methods.md §A4):

1. **Input.** Consecutive months; a combined January–February release enters as two missing
   months (X-13's missing code) with its total kept aside. Where another source reports the same
   concept's January and February separately, the caller passes them as ``history`` and they
   split the combined total for X-13 (the published total is kept).
2. **Spec selection** (:func:`select_spec`, cached by the caller): on a fixed airline model
   ``(0 1 1)(0 1 1)``, log, no outlier search (so AICc values are comparable), each
   before/after window pair of :data:`PRE_GRID` × :data:`POST_GRID` (× :data:`LAG_GRID` days
   for a partner's imports from China) is fitted; the best pair is kept only when its AICc is at
   least :data:`MIN_AICC_GAIN` below the model without holiday terms. Working days: China's
   official calendar when asked for and it covers the series and 12 forecast months, else X-13's
   ``td`` with a warning; ``td`` itself is kept only when it improves AICc by 2.
3. **Final run** (:func:`adjust`): ``automdl``, AO/LS/TC outliers, the chosen regressors
   (holiday windows as ``usertype=holiday``, working days as ``usertype=td``), X-11 tables d10
   (seasonal), d11 (adjusted), d12 (trend), d16 (seasonal × calendar) and the regression's
   holiday factors; sliding spans when the series has 8 years or more; then the same spec through
   SEATS (s11) as a cross-check.
4. **Combined January–February**: both months get the level (Jan + Feb) / (f_Jan + f_Feb) with
   f the d16 factors (methods.md §A3.3); with fewer than :data:`MIN_SEPARATE_YEARS` years of
   separate months the rows are marked low confidence.

A series shorter than :data:`MIN_MONTHS` months, or whose run fails (X-13 error, residual
seasonality in the adjusted series, unstable sliding spans), gets no adjusted values and a reason.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import date

from flows.seasonal import calendar as cal
from flows.seasonal import x13

MIN_MONTHS = 36
MIN_SEPARATE_YEARS = 8
MIN_AICC_GAIN = 2.0
PRE_GRID = (0, 5, 10, 15, 20)
POST_GRID = (0, 4, 7, 10, 15, 20, 25)
LAG_GRID = (0, 7, 14, 21, 28, 35, 42)
#: Sliding spans: at most this share of months with unstable seasonal factors (Census's 25 % rule).
MAX_SPANS_UNSTABLE_PCT = 25.0
#: QS test for residual seasonality in the adjusted series: fail below this p-value.
MIN_QS_P = 0.01
REFERENCE_WINDOWS = (10, 20)


class AdjustmentFailed(RuntimeError):
    """The series gets no adjusted values; the message says why."""


@dataclass
class SeasonalSpec:
    """A chosen specification. ``holiday`` 'cny', 'tet' or 'none'; ``pre``/``post`` window lengths
    in days (0 = none); ``lag`` shift in days; ``trading_day`` 'cn' (China's official working
    days), 'td' (X-13's day-of-week contrasts) or 'none'; ``chosen_on`` the date of selection,
    ``chosen_months`` the series length then; ``aicc_gain`` AICc of no-holiday minus chosen."""

    holiday: str = "none"
    pre: int = 0
    post: int = 0
    lag: int = 0
    trading_day: str = "td"
    chosen_on: str = ""
    chosen_months: int = 0
    aicc_gain: float = 0.0
    runs: int = 0

    def label(self) -> str:
        hol = (
            "no holiday"
            if not (self.pre or self.post)
            else (
                f"{self.holiday} pre {self.pre} / post {self.post}"
                + (f" / lag {self.lag} d" if self.lag else "")
            )
        )
        return f"{hol}; working days {self.trading_day}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SeasonalSpec:
        return cls(**json.loads(text))


@dataclass
class Series:
    """A monthly series: ``start`` (first month), ``values`` (None = missing), ``combined``
    {year: Jan+Feb total} for combined releases (their two months are None in ``values``)."""

    start: date
    values: list[float | None]
    combined: dict[int, float] = field(default_factory=dict)

    def months(self) -> list[date]:
        return [_add(self.start, i) for i in range(len(self.values))]


@dataclass
class Adjusted:
    """One adjusted month. ``jan_feb`` is None, 'separate' or 'combined'."""

    period: date
    value: float | None
    value_sa: float | None
    seasonal_factor: float | None
    holiday_factor: float | None
    calendar_factor: float | None
    trend: float | None
    jan_feb: str | None = None
    low_confidence: bool = False


@dataclass
class Outcome:
    """The adjustment of one series: rows, the spec, diagnostics and warnings."""

    rows: list[Adjusted]
    spec: SeasonalSpec
    model: str
    diagnostics: dict[str, object]
    warnings: list[str]


def _add(month: date, n: int) -> date:
    y, m = divmod(month.year * 12 + month.month - 1 + n, 12)
    return date(y, m + 1, 1)


def regressors(spec: SeasonalSpec, start: date, months: int) -> tuple[list[x13.Regressor], bool, list[str]]:
    """User regressors for ``spec`` over ``months`` months (series + forecasts), whether X-13's
    ``td`` is to be used, and warnings (working-day calendar not covering the span)."""
    out = [
        x13.Regressor(w.name, "holiday", cal.holiday_regressor(spec.holiday, w, start, months))
        for w in (cal.windows(spec.pre, spec.post, spec.lag) if spec.holiday != "none" else [])
    ]
    use_td, notes = spec.trading_day == "td", []
    if spec.trading_day == "cn":
        try:
            out.append(x13.Regressor("workdays", "td", cal.china_working_days(start, months)))
        except cal.CalendarNotCovered as exc:
            use_td = True
            notes.append(f"China working-day calendar does not cover the span ({exc}); X-13 td used instead")
    return out, use_td, notes


def _fit(series: Series, spec: SeasonalSpec, xspec: x13.Spec) -> x13.Result:
    regs, use_td, _ = regressors(spec, series.start, len(series.values) + x13.lead(xspec))
    xspec.td = use_td
    return x13.run(_input(series), series.start, xspec, regs)


def _input(series: Series) -> list[float | None]:
    return list(series.values)


def resolve_trading_day(series: Series, wanted: str, maxlead: int = 12) -> tuple[str, list[str]]:
    """'cn' when asked for and China's calendar covers the series plus ``maxlead`` months, else
    'td' with a warning (never an error)."""
    if wanted != "cn":
        return wanted, []
    try:
        cal.china_working_days(series.start, len(series.values) + maxlead)
        return "cn", []
    except cal.CalendarNotCovered as exc:
        return "td", [
            f"China working-day calendar does not cover the series and its forecasts ({exc}); X-13 td used"
        ]


def select_spec(
    series: Series,
    holiday: str,
    *,
    trading_day: str = "td",
    lags: tuple[int, ...] = (0,),
    pre_grid: tuple[int, ...] = PRE_GRID,
    post_grid: tuple[int, ...] = POST_GRID,
    today: date | None = None,
) -> tuple[SeasonalSpec, list[str]]:
    """Choose windows (and lag) by AICc on the fixed airline model; see the module docstring."""
    check_length(series)
    td, notes = resolve_trading_day(series, trading_day)
    base = SeasonalSpec("none", 0, 0, 0, td)
    fixed = x13.Spec(arima="(0 1 1)(0 1 1)", outliers=False)
    runs = 1
    base_aicc = _fit(series, base, x13.Spec(**asdict(fixed))).aicc
    best, best_aicc = base, base_aicc
    if holiday != "none":
        for lag in lags:
            for pre in pre_grid:
                for post in post_grid:
                    if not (pre or post):
                        continue
                    cand = SeasonalSpec(holiday, pre, post, lag, td)
                    runs += 1
                    try:
                        aicc = _fit(series, cand, x13.Spec(**asdict(fixed))).aicc
                    except x13.X13Error:
                        continue
                    if aicc is not None and (best_aicc is None or aicc < best_aicc):
                        best, best_aicc = cand, aicc
        if best_aicc is None or base_aicc is None or base_aicc - best_aicc < MIN_AICC_GAIN:
            best, best_aicc = base, base_aicc
    if td == "td":  # gate X-13's td by AICc as well
        runs += 1
        try:
            without = SeasonalSpec(best.holiday, best.pre, best.post, best.lag, "none")
            aicc = _fit(series, without, x13.Spec(**asdict(fixed))).aicc
            if aicc is not None and best_aicc is not None and best_aicc - aicc > -MIN_AICC_GAIN:
                best, best_aicc = without, aicc
                base_aicc = _fit(
                    series, SeasonalSpec("none", 0, 0, 0, "none"), x13.Spec(**asdict(fixed))
                ).aicc
                runs += 1
        except x13.X13Error:
            pass
    best.chosen_on = (today or date.today()).isoformat()
    best.chosen_months = len(series.values)
    best.aicc_gain = round((base_aicc or 0) - (best_aicc or 0), 2) if best.pre or best.post else 0.0
    best.runs = runs
    return best, notes


def check_length(series: Series) -> None:
    observed = sum(v is not None for v in series.values) + 2 * len(series.combined)
    if len(series.values) < MIN_MONTHS or observed < MIN_MONTHS:
        raise AdjustmentFailed(f"series has {len(series.values)} months; at least {MIN_MONTHS} are needed")


def adjust(series: Series, spec: SeasonalSpec, *, seats_check: bool = True) -> Outcome:
    """Run the final X-11 adjustment with ``spec``; raises :class:`AdjustmentFailed` with the
    reason when the series is too short or the run fails its diagnostics."""
    check_length(series)
    n = len(series.values)
    _, _, warnings = regressors(spec, series.start, n + 12)
    final = x13.Spec(arima=None, outliers=True, spans=n >= 96)
    try:
        result = _fit(series, spec, final)
    except x13.X13Error as exc:  # automdl can fail on short series: the airline model instead
        warnings.append(f"automdl/outlier run failed ({exc}); airline model without outlier search used")
        try:
            result = _fit(series, spec, x13.Spec(spans=n >= 96))
        except x13.X13Error as exc2:
            raise AdjustmentFailed(f"X-13: {exc2}") from exc2
    diag = diagnostics(result)
    qs_p = diag.get("qs_p_sa")
    if isinstance(qs_p, float) and qs_p < MIN_QS_P:
        raise AdjustmentFailed(f"residual seasonality in the adjusted series (QS p = {qs_p:.3f})")
    unstable = diag.get("sliding_spans_unstable_pct")
    if isinstance(unstable, float) and unstable > MAX_SPANS_UNSTABLE_PCT:
        raise AdjustmentFailed(f"sliding spans: {unstable:.1f} % of months have unstable seasonal factors")
    warnings += result.warnings
    rows = _rows(series, result, spec)
    if seats_check:
        diag.update(_seats_check(series, spec, result))
    hol_t = residual_holiday_t(rows, spec) if spec.holiday != "none" else {}
    diag["residual_holiday_t"] = hol_t
    return Outcome(rows, spec, result.model, diag, warnings)


def _rows(series: Series, result: x13.Result, spec: SeasonalSpec) -> list[Adjusted]:
    t = result.tables
    separate_years = separate_jan_feb_years(series)
    low = separate_years < MIN_SEPARATE_YEARS
    rows = []
    for d, v in zip(series.months(), series.values, strict=True):
        hol = t.get("holiday", {}).get(d, 1.0) if spec.pre or spec.post else 1.0
        row = Adjusted(
            d, v, t["sa"].get(d), t["seasonal"].get(d), hol, t["calendar"].get(d), t["trend"].get(d)
        )
        if d.month in (1, 2):
            if d.year in series.combined:
                jan, feb = date(d.year, 1, 1), date(d.year, 2, 1)
                f = t["combined"].get(jan, math.nan) + t["combined"].get(feb, math.nan)
                row.value = None
                row.value_sa = series.combined[d.year] / f if f > 0 else None
                row.jan_feb, row.low_confidence = "combined", low
            else:
                row.jan_feb = "separate"
        rows.append(row)
    return rows


def separate_jan_feb_years(series: Series) -> int:
    """Years whose January and February are both known separately (own or history months)."""
    known = {d for d, v in zip(series.months(), series.values, strict=True) if v is not None}
    return sum(date(y, 1, 1) in known and date(y, 2, 1) in known for y in {d.year for d in known})


def from_months(
    months: dict[date, float],
    combined: dict[int, float] | None = None,
    history: dict[date, float] | None = None,
) -> Series:
    """A :class:`Series` from {month: value} and {year: combined Jan+Feb total}. Where
    ``history`` (another source's separately reported months) holds both January and February
    of a combined year, they split the combined total for X-13; the total itself is kept."""
    combined = dict(combined or {})
    history = history or {}
    keys = set(months) | {date(y, m, 1) for y in combined for m in (1, 2)}
    start, end = min(keys), max(keys)
    n = (end.year - start.year) * 12 + end.month - start.month + 1
    values: list[float | None] = [months.get(_add(start, i)) for i in range(n)]
    for year, total in combined.items():
        jan, feb = date(year, 1, 1), date(year, 2, 1)
        hj, hf = history.get(jan), history.get(feb)
        split = (hj / (hj + hf)) if hj and hf and hj + hf > 0 else None
        for d, share in ((jan, split), (feb, None if split is None else 1 - split)):
            i = (d.year - start.year) * 12 + d.month - start.month
            values[i] = None if share is None else total * share
    return Series(start, values, combined)


def diagnostics(result: x13.Result) -> dict[str, object]:
    """AICc, model, QS p-value of the adjusted series, sliding-spans shares, holiday estimates."""
    u = result.udg
    out: dict[str, object] = {"aicc": result.aicc, "model": result.model}
    if "qssadj" in u:
        out["qs_p_sa"] = float(u["qssadj"].split()[-1])
    for key, name in (
        ("s2.a.per", "sliding_spans_unstable_pct"),
        ("s2.d.per", "sliding_spans_mm_unstable_pct"),
    ):
        if key in u:
            out[name] = float(u[key].split()[-1])
    out["holiday_estimates"] = {
        k: {"estimate": round(e, 4), "t": round(e / s, 2) if s else None}
        for k, (e, s) in result.estimates.items()
        if k in ("pre", "post", "workdays")
    }
    return out


def _seats_check(series: Series, spec: SeasonalSpec, x11: x13.Result) -> dict[str, object]:
    try:
        seats = _fit(series, spec, x13.Spec(arima=None, outliers=True, method="seats"))
    except x13.X13Error as exc:
        return {"seats_check": f"not run: {exc}"}
    diffs = [
        abs(seats.tables["sa"][d] / x11.tables["sa"][d] - 1)
        for d, v in zip(series.months(), series.values, strict=True)
        if v is not None and d in seats.tables["sa"] and d in x11.tables["sa"]
    ]
    return {"seats_mean_abs_gap_pct": round(100 * sum(diffs) / len(diffs), 3) if diffs else None}


def residual_holiday_t(rows: list[Adjusted], spec: SeasonalSpec) -> dict[str, float]:
    """Residual New Year effect in the adjusted series (methods.md §A5): max |t| of an OLS of
    Δln SA on const + Δpre + Δpost over January–April months, for the spec's windows and the
    reference windows pre 10 / post 20 (shifted by the spec's lag)."""
    import numpy as np

    out = {}
    start, n = rows[0].period, len(rows)
    sa = np.array([r.value_sa if r.value_sa else np.nan for r in rows], dtype=float)
    sets = {"reference": REFERENCE_WINDOWS}
    if spec.pre or spec.post:
        sets["chosen"] = (spec.pre, spec.post)
    for label, (pre, post) in sets.items():
        ws = cal.windows(pre, post, spec.lag)
        x = np.column_stack([cal.holiday_regressor(spec.holiday, w, start, n) for w in ws])
        dy, dx = np.diff(np.log(sa)), np.diff(x, axis=0)
        months = np.array([_add(start, i + 1).month for i in range(n - 1)])
        keep = np.isin(months, (1, 2, 3, 4)) & np.isfinite(dy)
        X = np.column_stack([np.ones(keep.sum()), dx[keep]])
        y = dy[keep]
        if len(y) <= X.shape[1] + 2:
            continue
        beta, *_ = np.linalg.lstsq(X, y, rcond=None)
        resid = y - X @ beta
        sigma2 = resid @ resid / (len(y) - X.shape[1])
        cov = sigma2 * np.linalg.pinv(X.T @ X)
        t = beta[1:] / np.sqrt(np.diag(cov)[1:])
        out[label] = round(float(np.max(np.abs(t))), 2)
    return out
