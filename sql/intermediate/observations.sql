-- table: Every publisher's observations in one canonical shape, with a documented USD value. `value` stays in the currency of publication; `value_usd` is the published value when published in USD, else converted with ECB monthly reference rates (the mean of the monthly rates over a multi-month period), else NULL (no rate: missing is not zero).
-- column value: Published figure in whole units of `currency`.
-- column value_usd: The figure in whole US dollars (see usd_rate, usd_rate_source); NULL when no rate covers every month of the period.
-- column usd_rate: US dollars per one unit of `currency` used for value_usd (1 for USD).
-- column usd_rate_source: 'published in USD' or the ECB series used.
-- column is_headline: TRUE for the one valuation the imbalance marts use when a publisher prints a flow on two bases (US Census imports: customs value before CIF; UN Comtrade: the primaryValue row before the record's second basis, whose release ends in '(second valuation basis)'; exports: FOB/FAS); FALSE for the alternative basis.
WITH obs AS NOT MATERIALIZED (
    SELECT * FROM staging.gacc_observations
    UNION ALL BY NAME
    SELECT * FROM staging.comtrade_observations
    UNION ALL BY NAME
    SELECT * FROM staging.imf_observations
    UNION ALL BY NAME
    SELECT * FROM staging.census_observations
    UNION ALL BY NAME
    SELECT * FROM staging.eurostat_observations
),
-- Only a (source, reporter, flow, currency) printing more than one valuation can hold two rows
-- of one observation (the key of raw.observations includes the valuation), so only its rows
-- are ranked for is_headline; every other row is its observation's only row (headline). The
-- ranking is the expensive part over tens of millions of rows, the grouping here is not.
several_valuations AS (
    SELECT source, reporter, flow, currency
    FROM obs
    GROUP BY source, reporter, flow, currency
    HAVING min(valuation) <> max(valuation)
),
headlined AS NOT MATERIALIZED (
    SELECT
        o.*,
        row_number() OVER (
            PARTITION BY o.source, o.reporter, o.partner, o.flow, o.period_start, o.period_end,
                o.commodity, o.currency
            ORDER BY o.release LIKE '%(second valuation basis)',
                CASE o.valuation WHEN 'FOB' THEN 1 WHEN 'FAS' THEN 2 WHEN 'CUSTOMS' THEN 3 ELSE 4 END
        ) = 1 AS is_headline
    FROM obs AS o
    SEMI JOIN several_valuations USING (source, reporter, flow, currency)
    UNION ALL BY NAME
    SELECT o.*, TRUE AS is_headline
    FROM obs AS o
    ANTI JOIN several_valuations USING (source, reporter, flow, currency)
),
spans AS (
    SELECT DISTINCT currency, period_start, period_end, months
    FROM obs
    WHERE currency <> 'USD'
),
span_months AS (
    SELECT s.*, CAST(m.month AS DATE) AS month
    FROM spans AS s,
        LATERAL (SELECT unnest(generate_series(s.period_start, s.period_end, INTERVAL 1 MONTH)) AS month) AS m
),
span_rates AS (
    SELECT
        sm.currency, sm.period_start, sm.period_end,
        avg(f.usd_per_unit) AS usd_per_unit,
        count(f.usd_per_unit) AS months_with_rate,
        any_value(sm.months) AS months,
        min(f.rate_source) AS rate_source
    FROM span_months AS sm
    LEFT JOIN intermediate.fx_usd_monthly AS f
        ON f.currency = sm.currency AND f.period_start = sm.month
    GROUP BY sm.currency, sm.period_start, sm.period_end
)
-- Rows published in US dollars need no rate: only the others meet the rates (probing the join
-- with tens of millions of USD rows cost about a fifth of this model for nothing). The CTEs are
-- NOT MATERIALIZED: each branch streams from raw.observations instead of a buffered copy.
SELECT
    o.* EXCLUDE (is_headline),
    o.value AS value_usd,
    1.0 AS usd_rate,
    'published in USD' AS usd_rate_source,
    o.is_headline
FROM headlined AS o
WHERE o.currency = 'USD'
UNION ALL
SELECT
    o.* EXCLUDE (is_headline),
    CASE WHEN r.months_with_rate = r.months THEN o.value * r.usd_per_unit END AS value_usd,
    CASE WHEN r.months_with_rate = r.months THEN r.usd_per_unit END AS usd_rate,
    CASE WHEN r.months_with_rate = r.months THEN r.rate_source END AS usd_rate_source,
    o.is_headline
FROM headlined AS o
LEFT JOIN span_rates AS r
    ON r.currency = o.currency AND r.period_start = o.period_start AND r.period_end = o.period_end
WHERE o.currency <> 'USD'
