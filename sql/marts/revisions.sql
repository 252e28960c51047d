-- table: Every observation whose value changed between the vintages loaded (raw.observation_history holds one row per observation key and payload): the first published value and its vintage, the latest value and its vintage, and the change. Vintages are ordered by release date (vintage), then by the time the payload was first fetched, then by payload hash. Values in whole units of `currency`. A value revised and later restored appears with change 0 and value_changes ≥ 2.
-- column source: Publisher.
-- column reporter: Reporting country (ISO3) or aggregate code.
-- column partner: Partner (ISO3), WLD for the world, or an aggregate code.
-- column flow: X exports, M imports; memo flows as their own codes: RX re-exports, RM re-imports, DX domestic exports, FM foreign imports, MIP/MOP/XIP/XOP processing flows (UN Comtrade).
-- column period_start: First day of the first month covered.
-- column period_end: First day of the last month covered.
-- column commodity: TOTAL or the HS code.
-- column currency: Currency of publication (ISO 4217).
-- column valuation: Valuation basis (FOB, CIF, FAS, CUSTOMS).
-- column period_type: month, combined, ytd or year (of the latest vintage).
-- column months: Months covered.
-- column first_value: Value in the first vintage loaded, whole units of `currency`.
-- column first_vintage: Release date (or fetch date) of the first vintage.
-- column first_fetched_at: When the first vintage's payload was fetched (UTC).
-- column latest_value: Value in the latest vintage, whole units of `currency` (normally the value in raw.observations).
-- column latest_vintage: Release date (or fetch date) of the latest vintage.
-- column latest_fetched_at: When the latest vintage's payload was fetched (UTC).
-- column change: latest_value − first_value, whole units of `currency`.
-- column change_ratio: latest_value ÷ first_value − 1, ratio; NULL when first_value ≤ 0.
-- column vintages: Number of vintages (payloads) loaded for the observation.
-- column distinct_values: Number of distinct values across those vintages (≥ 2 here).
-- column value_changes: Number of times the value differs from the previous vintage's.
-- Only keys whose value differs between vintages (min ≠ max, the same keys as
-- count(DISTINCT value) > 1) are ordered and aggregated: one cheap grouped pass with two
-- aggregates over the whole history, then the window and the arg_min/arg_max over those few keys.
WITH revised_keys AS (
    SELECT source, reporter, partner, flow, period_start, period_end, commodity, currency, valuation
    FROM raw.observation_history
    GROUP BY source, reporter, partner, flow, period_start, period_end, commodity, currency, valuation
    HAVING min(value) <> max(value)
),
history AS (
    SELECT
        source, reporter, partner, flow, period_start, period_end, commodity, currency, valuation,
        period_type, months, value, vintage, fetched_at, payload_sha256,
        CASE WHEN lag(value) OVER w <> value THEN 1 ELSE 0 END AS changed
    FROM raw.observation_history
    SEMI JOIN revised_keys USING (
        source, reporter, partner, flow, period_start, period_end, commodity, currency, valuation
    )
    WINDOW w AS (
        PARTITION BY source, reporter, partner, flow, period_start, period_end, commodity, currency,
            valuation
        ORDER BY vintage, fetched_at, payload_sha256
    )
),
keyed AS (
    SELECT
        source, reporter, partner, flow, period_start, period_end, commodity, currency, valuation,
        arg_max(period_type, (vintage, fetched_at, payload_sha256)) AS period_type,
        arg_max(months, (vintage, fetched_at, payload_sha256)) AS months,
        arg_min(value, (vintage, fetched_at, payload_sha256)) AS first_value,
        min(vintage) AS first_vintage,
        arg_min(fetched_at, (vintage, fetched_at, payload_sha256)) AS first_fetched_at,
        arg_max(value, (vintage, fetched_at, payload_sha256)) AS latest_value,
        max(vintage) AS latest_vintage,
        arg_max(fetched_at, (vintage, fetched_at, payload_sha256)) AS latest_fetched_at,
        count(*) AS vintages,
        count(DISTINCT value) AS distinct_values,
        sum(changed) AS value_changes
    FROM history
    GROUP BY source, reporter, partner, flow, period_start, period_end, commodity, currency, valuation
    HAVING count(DISTINCT value) > 1
)
SELECT
    source, reporter, partner, flow, period_start, period_end, commodity, currency, valuation,
    period_type, months,
    first_value, first_vintage, first_fetched_at,
    latest_value, latest_vintage, latest_fetched_at,
    latest_value - first_value AS change,
    CASE WHEN first_value > 0 THEN latest_value / first_value - 1 END AS change_ratio,
    CAST(vintages AS INTEGER) AS vintages,
    CAST(distinct_values AS INTEGER) AS distinct_values,
    CAST(value_changes AS INTEGER) AS value_changes
FROM keyed
