-- table: What drives the year-on-year change of exports and imports: for every commodity code loaded below the total (HS chapters such as '85', or finer HS codes, or a publisher's own commodity groups), its change against the same span one year earlier (same period_type: combined Jan–Feb only with combined) and its contribution to the growth of the publisher's own total (commodity TOTAL of the same source, reporter, partner, flow, currency and period; never a sum over breakdowns). Each row stands at one HS level (hs_level = number of digits): add contributions up only within one hs_level, never across levels. Missing is not zero: a code absent in either year has NULL change and contribution. Rows exist only where commodity detail is loaded. A view, computed when read: filter on reporter, partner, flow or period to compute only those rows (over tens of millions of HS-detail rows a table would store every detail row a second time; bench/RESULTS.md).
-- column source: Publisher.
-- column reporter: Reporting country (ISO3) or aggregate code.
-- column partner: Partner (ISO3), WLD for the world, or an aggregate code.
-- column flow: X exports or M imports.
-- column currency: Currency of publication (ISO 4217).
-- column period_start: First day of the first month covered.
-- column period_end: First day of the last month covered.
-- column months: Months covered (1, 2 for combined Jan–Feb, 12 for a year).
-- column period_type: month, combined or year.
-- column commodity: Commodity code as published, leading zeros kept ('01', '8517').
-- column hs_level: Digits of the HS code (2 = chapter, 4 = heading, 6 = subheading); NULL for a publisher's own non-HS group code.
-- column value: This period's value, whole units of `currency`.
-- column value_prev_year: Value of the same span one year earlier, whole units of `currency`.
-- column change: value − value_prev_year, whole units of `currency`.
-- column yoy: value ÷ value_prev_year − 1, ratio; NULL when the base is missing or ≤ 0.
-- column total: The publisher's total (commodity TOTAL) for the same source, reporter, partner, flow, currency and period, whole units of `currency`; NULL when no total row is loaded.
-- column total_prev_year: The total one year earlier, whole units of `currency`.
-- column total_yoy: total ÷ total_prev_year − 1, ratio (the headline growth the contributions explain).
-- column share_of_total: value ÷ total, ratio.
-- column contribution: change ÷ total_prev_year: this code's contribution to total_yoy, as a ratio of the total base (0.012 = 1.2 percentage points); NULL when the total base is missing or ≤ 0.
-- column share_of_change: change ÷ (total − total_prev_year): this code's share of the total's change, ratio (may exceed 1 or be negative); NULL when the total did not change or is missing.
-- column contribution_rank: Rank by |contribution| among codes of the same hs_level for the same source, reporter, partner, flow, currency and period (1 = largest driver, up or down).
-- column vintage: Release date (or fetch date) of this period's value.
-- materialized: view
WITH detail AS (
    SELECT
        source, reporter, partner, flow, currency, period_type, period_start, period_end, months,
        commodity, value, vintage,
        CASE WHEN regexp_full_match(commodity, '[0-9]+') THEN length(commodity) END AS hs_level
    FROM intermediate.observations
    WHERE is_headline
        AND commodity <> 'TOTAL'
        AND flow IN ('X', 'M')
        AND period_type IN ('month', 'combined', 'year')
),
totals AS (
    SELECT source, reporter, partner, flow, currency, period_type, period_start, period_end, value
    FROM intermediate.observations
    WHERE is_headline
        AND commodity = 'TOTAL'
        AND flow IN ('X', 'M')
        AND period_type IN ('month', 'combined', 'year')
),
joined AS (
    SELECT
        d.*,
        p.value AS value_prev_year,
        d.value - p.value AS change,
        CASE WHEN p.value > 0 THEN d.value / p.value - 1 END AS yoy,
        t.value AS total,
        tp.value AS total_prev_year
    FROM detail AS d
    LEFT JOIN detail AS p
        ON p.source = d.source AND p.reporter = d.reporter AND p.partner = d.partner
        AND p.flow = d.flow AND p.currency = d.currency AND p.commodity = d.commodity
        AND p.period_type = d.period_type
        AND p.period_start = CAST(d.period_start - INTERVAL 1 YEAR AS DATE)
        AND p.period_end = CAST(d.period_end - INTERVAL 1 YEAR AS DATE)
    LEFT JOIN totals AS t
        ON t.source = d.source AND t.reporter = d.reporter AND t.partner = d.partner
        AND t.flow = d.flow AND t.currency = d.currency AND t.period_type = d.period_type
        AND t.period_start = d.period_start AND t.period_end = d.period_end
    LEFT JOIN totals AS tp
        ON tp.source = d.source AND tp.reporter = d.reporter AND tp.partner = d.partner
        AND tp.flow = d.flow AND tp.currency = d.currency AND tp.period_type = d.period_type
        AND tp.period_start = CAST(d.period_start - INTERVAL 1 YEAR AS DATE)
        AND tp.period_end = CAST(d.period_end - INTERVAL 1 YEAR AS DATE)
),
measured AS (
    SELECT
        *,
        CASE WHEN total_prev_year > 0 THEN total / total_prev_year - 1 END AS total_yoy,
        CASE WHEN total > 0 THEN value / total END AS share_of_total,
        CASE WHEN total_prev_year > 0 THEN change / total_prev_year END AS contribution,
        CASE WHEN total - total_prev_year <> 0
            THEN change / (total - total_prev_year) END AS share_of_change
    FROM joined
)
SELECT
    source, reporter, partner, flow, currency, period_start, period_end, months, period_type,
    commodity, hs_level, value, value_prev_year, change, yoy,
    total, total_prev_year, total_yoy, share_of_total, contribution, share_of_change,
    CASE WHEN contribution IS NOT NULL THEN rank() OVER (
        PARTITION BY source, reporter, partner, flow, currency, period_start, period_end, hs_level
        ORDER BY abs(contribution) DESC NULLS LAST
    ) END AS contribution_rank,
    vintage
FROM measured
