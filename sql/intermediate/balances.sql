-- table: Exports and imports side by side per source, reporter, partner (WLD = world total), currency and published period (month, combined Jan–Feb, year), with year-on-year growth against the same span one year earlier. Totals only (commodity TOTAL); year-to-date cumulatives excluded.
WITH wide AS (
    SELECT
        source, reporter, partner,
        any_value(partner_kind) AS partner_kind,
        currency, period_type, period_start, period_end,
        any_value(months) AS months,
        max(value) FILTER (WHERE flow = 'X') AS exports,
        max(value) FILTER (WHERE flow = 'M') AS imports,
        max(value_usd) FILTER (WHERE flow = 'X') AS exports_usd,
        max(value_usd) FILTER (WHERE flow = 'M') AS imports_usd,
        max(valuation) FILTER (WHERE flow = 'X') AS exports_valuation,
        max(valuation) FILTER (WHERE flow = 'M') AS imports_valuation,
        max(published_yoy) FILTER (WHERE flow = 'X') AS exports_yoy_published,
        max(published_yoy) FILTER (WHERE flow = 'M') AS imports_yoy_published,
        max(usd_rate) AS usd_rate,
        max(usd_rate_source) AS usd_rate_source,
        max(vintage) AS vintage
    FROM intermediate.observations
    WHERE commodity = 'TOTAL'
        AND flow IN ('X', 'M')
        AND period_type IN ('month', 'combined', 'year')
    GROUP BY source, reporter, partner, currency, period_type, period_start, period_end
)
SELECT
    c.*,
    c.exports - c.imports AS balance,
    c.exports_usd - c.imports_usd AS balance_usd,
    p.exports AS exports_prev_year,
    p.imports AS imports_prev_year,
    CASE WHEN p.exports > 0 THEN c.exports / p.exports - 1 END AS exports_yoy,
    CASE WHEN p.imports > 0 THEN c.imports / p.imports - 1 END AS imports_yoy
FROM wide AS c
LEFT JOIN wide AS p
    ON p.source = c.source
    AND p.reporter = c.reporter
    AND p.partner = c.partner
    AND p.currency = c.currency
    AND p.period_type = c.period_type
    AND p.period_start = CAST(c.period_start - INTERVAL 1 YEAR AS DATE)
    AND p.period_end = CAST(c.period_end - INTERVAL 1 YEAR AS DATE)
