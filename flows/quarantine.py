"""One quarantine for data that parses but must not be loaded without a person's say-so.

A payload goes to quarantine when, compared with the vintage it would replace (the last payload
loaded for the same request), it is *implausible*:

* **scale** — most of its values (:data:`SCALE_SHARE`, over keys present in both vintages with
  both values above zero) changed by a factor of :data:`SCALE_FACTOR` (5) or more, up or down:
  a unit line misread or changed ("CNY 100 Million" → "CNY 10 Thousand" makes every GACC value
  10 000 times smaller), a scale applied twice;
* **swap** — for most reporter/partner/period/commodity keys the new exports equal the old
  imports and the new imports the old exports (within 0.5 %), where the two differed: exports and
  imports columns swapped on a page (the total E&I = X + M still holds, so the parser cannot see
  it);
* **total moved** — a world total (partner ``WLD``, commodity ``TOTAL``) changed by more than
  the setting ``max_total_revision`` (default 0.25 = 25 %). Assumed bound: the publishers' own
  revisions of a total are far smaller (the June Census annual revision and GACC's YTD revisions
  move totals by well under 5 %, ``docs/sources.md`` §2 and §5); a larger move is more likely an
  error than a revision. Set it per run to let a known large revision through, or ``accept``.

A quarantined payload stays in the archive (:meth:`flows.archive.Archive.store` with
``quarantine=<reason>``), is **not loaded**, and the run ends ``Partial`` while it is the latest
answer to a request of the run's window. It is re-fetched on every run and released as soon as the
publisher's content changes and passes; a person can accept one payload explicitly
(``trade-imbalance accept <payload-hash>``, recorded with who and when in
``raw/accepted.jsonl``), after which every build loads it.

Payloads that do not parse at all are *rejected* the same way (archived with their
``parse_error``, never loaded); they cannot be accepted.
"""

from __future__ import annotations

import polars as pl

from flows.schema import OBSERVATION_KEY, WORLD

#: A value changed "by scale" when new/old ≥ this factor or ≤ its inverse.
SCALE_FACTOR = 5.0
#: Share of comparable values that must have changed by scale for the payload to be quarantined.
SCALE_SHARE = 0.5
#: Relative tolerance for "equal" in the swap check.
SWAP_TOLERANCE = 0.005
#: Fewest comparable keys for the scale and swap checks to judge (fewer: no verdict).
MIN_KEYS = 2


def implausible(new: pl.DataFrame, old: pl.DataFrame, *, max_total_revision: float = 0.25) -> str | None:
    """Why ``new`` (canonical observations) is implausible as a new vintage of ``old``, or None.

    Both frames have :data:`flows.schema.OBSERVATION_SCHEMA`; NULL values (confidential cells)
    are ignored. Returns a sentence naming the check and an example, e.g.
    ``"scale: 12 of 12 values changed by ×5 or more (CHN→USA X 2026-03: 2.045e+11 → 2.045e+07)"``.
    """
    if new.is_empty() or old.is_empty():
        return None
    key = list(OBSERVATION_KEY)
    both = (
        new.select([*key, pl.col("value").alias("new")])
        .join(old.select([*key, pl.col("value").alias("old")]), on=key, how="inner")
        .filter((pl.col("new") > 0) & (pl.col("old") > 0))
    )
    reason = _scale(both) or _swap(new, old) or _total(both, max_total_revision)
    return reason


def _describe(row: dict) -> str:
    return (
        f"{row['reporter']}→{row['partner']} {row['flow']} {row['period_start']:%Y-%m}"
        + (f" {row['commodity']}" if row.get("commodity") not in (None, "TOTAL") else "")
    )


def _scale(both: pl.DataFrame) -> str | None:
    if both.height < MIN_KEYS:
        return None
    ratio = pl.col("new") / pl.col("old")
    scaled = both.filter((ratio >= SCALE_FACTOR) | (ratio <= 1 / SCALE_FACTOR))
    if scaled.height / both.height < SCALE_SHARE:
        return None
    row = scaled.row(0, named=True)
    return (
        f"scale: {scaled.height} of {both.height} values changed by ×{SCALE_FACTOR:g} or more "
        f"against the vintage loaded ({_describe(row)}: {row['old']:.4g} → {row['new']:.4g}); "
        "a unit or scale change?"
    )


def _swap(new: pl.DataFrame, old: pl.DataFrame) -> str | None:
    side = [c for c in OBSERVATION_KEY if c not in ("flow", "valuation")]

    def pivot(frame: pl.DataFrame, prefix: str) -> pl.DataFrame:
        flows = frame.filter(pl.col("flow").is_in(["X", "M"]) & pl.col("value").is_not_null())
        x = flows.filter(pl.col("flow") == "X").select([*side, pl.col("value").alias(f"{prefix}x")])
        m = flows.filter(pl.col("flow") == "M").select([*side, pl.col("value").alias(f"{prefix}m")])
        return x.join(m, on=side, how="inner")

    joined = pivot(new, "new_").join(pivot(old, "old_"), on=side, how="inner").filter(
        (pl.col("old_x") - pl.col("old_m")).abs() > SWAP_TOLERANCE * pl.col("old_x").abs()
    )
    if joined.height < MIN_KEYS:
        return None

    def close(a: str, b: str) -> pl.Expr:
        return (pl.col(a) - pl.col(b)).abs() <= SWAP_TOLERANCE * pl.col(b).abs()

    swapped = joined.filter(close("new_x", "old_m") & close("new_m", "old_x"))
    if swapped.height / joined.height < SCALE_SHARE:
        return None
    row = swapped.row(0, named=True)
    return (
        f"swap: for {swapped.height} of {joined.height} keys the new exports equal the old imports "
        f"and the new imports the old exports ({row['reporter']}→{row['partner']} "
        f"{row['period_start']:%Y-%m}: X {row['old_x']:.4g} → {row['new_x']:.4g}, "
        f"M {row['old_m']:.4g} → {row['new_m']:.4g}); exports and imports swapped?"
    )


def _total(both: pl.DataFrame, bound: float) -> str | None:
    totals = both.filter((pl.col("partner") == WORLD) & (pl.col("commodity") == "TOTAL"))
    moved = totals.filter(((pl.col("new") - pl.col("old")).abs() / pl.col("old")) > bound)
    if moved.is_empty():
        return None
    row = moved.row(0, named=True)
    change = row["new"] / row["old"] - 1
    return (
        f"total moved: {_describe(row)} changed by {change:+.1%} ({row['old']:.4g} → "
        f"{row['new']:.4g}), beyond the bound of ±{bound:.0%} for a revision (setting "
        "max_total_revision)"
    )
