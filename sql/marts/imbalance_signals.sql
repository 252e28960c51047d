-- table: Imbalance signals: runs of consecutive published periods in which a reporter's export growth outran its import growth on rolling 3-month sums (growth_gap_3m of marts.trade_balance_monthly, world totals, currency of publication) by at least signal_threshold (parameter, default 0.03 = 3 percentage points; compared with a 1e-9 tolerance for floating-point rounding) for at least signal_min_months calendar months (parameter, default 3). Consecutive means each period starts the month after the previous one ends; a combined Jan–Feb period counts as its 2 months. A period whose 3-month gap is NULL (a missing month, a base ≤ 0, or the February–April window after a combined Jan–Feb release) ends the run. One row per run; parameters are read from meta.parameters.
-- column source: Publisher of the series.
-- column reporter: Reporting country (ISO3) or aggregate code.
-- column currency: Currency of the series (ISO 4217); growth rates are computed in it.
-- column run_start: First day of the first month of the run (period_start of its first period).
-- column run_end: First day of the last month of the run (period_end of its last period).
-- column length_months: Calendar months covered by the run (a combined Jan–Feb period counts 2).
-- column periods: Published periods in the run.
-- column mean_gap: Average growth_gap_3m over the run's months (a combined period weighs 2), ratio (0.05 = 5 percentage points).
-- column min_gap: Smallest growth_gap_3m in the run, ratio.
-- column latest_gap: growth_gap_3m of the run's last period, ratio.
-- column latest_exports_3m_yoy: exports_3m_yoy of the run's last period, ratio.
-- column latest_imports_3m_yoy: imports_3m_yoy of the run's last period, ratio.
-- column latest_balance_3m: 3-month balance at the run's last period, whole units of `currency`.
-- column latest_balance_3m_change: latest_balance_3m − the same 3 months' balance one year earlier, whole units of `currency`.
-- column surplus_widening: TRUE when the 3-month balance at the end of the run is a surplus larger than the same 3 months' balance one year earlier (latest_balance_3m > 0 and latest_balance_3m_change > 0).
-- column ongoing: TRUE when the run ends at the series' latest published period.
-- column signal_threshold: Threshold used, ratio.
-- column signal_min_months: Minimum run length used, months.
WITH params AS (
    SELECT
        max(value_double) FILTER (WHERE name = 'signal_threshold') AS signal_threshold,
        max(value_double) FILTER (WHERE name = 'signal_min_months') AS signal_min_months
    FROM meta.parameters
),
periods AS (
    SELECT
        m.source, m.reporter, m.currency, m.period_start, m.period_end, m.months,
        m.start_idx, m.end_idx, m.growth_gap_3m, m.exports_3m_yoy, m.imports_3m_yoy,
        m.balance_3m, m.balance_3m_change,
        coalesce(m.growth_gap_3m >= p.signal_threshold - 1e-9, FALSE) AS hit,
        max(m.end_idx) OVER (PARTITION BY m.source, m.reporter, m.currency) AS last_idx
    FROM intermediate.balance_metrics AS m
    CROSS JOIN params AS p
    WHERE m.partner = 'WLD'
        AND m.basis = 'published'
        AND m.period_type IN ('month', 'combined')
),
marked AS (
    SELECT
        *,
        CASE WHEN hit
            AND lag(hit) OVER w
            AND start_idx = lag(end_idx) OVER w + 1
            THEN 0 ELSE 1 END AS starts_run
    FROM periods
    WINDOW w AS (PARTITION BY source, reporter, currency ORDER BY end_idx)
),
numbered AS (
    SELECT
        *,
        sum(starts_run) OVER (
            PARTITION BY source, reporter, currency ORDER BY end_idx
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS run_id
    FROM marked
),
runs AS (
    SELECT
        source, reporter, currency,
        min(period_start) AS run_start,
        max(period_end) AS run_end,
        sum(months) AS length_months,
        count(*) AS periods,
        sum(growth_gap_3m * months) / sum(months) AS mean_gap,
        min(growth_gap_3m) AS min_gap,
        arg_max(growth_gap_3m, end_idx) AS latest_gap,
        arg_max(exports_3m_yoy, end_idx) AS latest_exports_3m_yoy,
        arg_max(imports_3m_yoy, end_idx) AS latest_imports_3m_yoy,
        arg_max(balance_3m, end_idx) AS latest_balance_3m,
        arg_max(balance_3m_change, end_idx) AS latest_balance_3m_change,
        max(end_idx) = max(last_idx) AS ongoing
    FROM numbered
    WHERE hit
    GROUP BY source, reporter, currency, run_id
)
SELECT
    r.source, r.reporter, r.currency, r.run_start, r.run_end,
    CAST(r.length_months AS INTEGER) AS length_months,
    CAST(r.periods AS INTEGER) AS periods,
    r.mean_gap, r.min_gap, r.latest_gap, r.latest_exports_3m_yoy, r.latest_imports_3m_yoy,
    r.latest_balance_3m, r.latest_balance_3m_change,
    r.latest_balance_3m > 0 AND r.latest_balance_3m_change > 0 AS surplus_widening,
    r.ongoing,
    p.signal_threshold,
    CAST(p.signal_min_months AS INTEGER) AS signal_min_months
FROM runs AS r
CROSS JOIN params AS p
WHERE r.length_months >= p.signal_min_months
