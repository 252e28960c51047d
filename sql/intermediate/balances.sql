-- table: Exports and imports side by side, one row per series and published period. A series is (source, reporter, partner, currency, basis): basis 'published' holds the figures in the currency of publication; basis 'usd_converted' repeats every non-USD world-total series (partner WLD) in US dollars (value_usd, ECB monthly reference rates) so that reporters can be compared in one currency (marts.peer_comparison). Totals only (commodity TOTAL); periods month, combined (January–February published as one period), ytd (cumulative from January, as printed) and year. No growth here: see intermediate.balance_metrics.
-- column source: Publisher: gacc, comtrade, imf, census, eurostat.
-- column reporter: Reporting country (ISO3) or aggregate code (EU27_2020).
-- column partner: Partner country (ISO3), WLD for the world total, or a named aggregate code.
-- column partner_kind: world, country or aggregate (aggregates overlap countries: never sum them with countries).
-- column currency: Currency of the values on the row (ISO 4217); USD for basis usd_converted.
-- column basis: 'published' (values as published) or 'usd_converted' (the published non-USD figures in whole US dollars).
-- column published_currency: Currency the figures were published in (differs from `currency` only for basis usd_converted).
-- column period_type: month, combined (Jan–Feb as one period), ytd (cumulative from January) or year.
-- column period_start: First day of the first month covered.
-- column period_end: First day of the last month covered.
-- column months: Months covered (1; 2 for a combined Jan–Feb period; 12 for a year; n for a ytd through month n).
-- column start_idx: Month index of period_start (year × 12 + month − 1), for window arithmetic.
-- column end_idx: Month index of period_end (year × 12 + month − 1).
-- column exports: Exports (flow X), whole units of `currency`; NULL when not published.
-- column imports: Imports (flow M), whole units of `currency`; NULL when not published.
-- column exports_usd: Exports in whole US dollars (NULL without a rate).
-- column imports_usd: Imports in whole US dollars (NULL without a rate).
-- column exports_valuation: Valuation basis of exports (FOB, FAS).
-- column imports_valuation: Valuation basis of imports (CIF, FOB, CUSTOMS).
-- column exports_yoy_published: Export year-on-year change printed by the publisher for this period, ratio; a cross-check only (NULL for basis usd_converted).
-- column imports_yoy_published: Import year-on-year change printed by the publisher, ratio; a cross-check only.
-- column usd_rate: US dollars per unit of published_currency used for the USD values (1 for USD).
-- column usd_rate_source: 'published in USD' or the ECB reference-rate series used.
-- column vintage: Latest release date (or fetch date) of the figures on the row.
WITH totals AS (
    SELECT *
    FROM intermediate.observations
    WHERE is_headline
        AND commodity = 'TOTAL'
        AND flow IN ('X', 'M')
        AND period_type IN ('month', 'combined', 'ytd', 'year')
),
both_bases AS (
    SELECT
        source, reporter, partner, partner_kind, flow, currency, 'published' AS basis,
        currency AS published_currency, period_type, period_start, period_end, months,
        value, value_usd, valuation, published_yoy, usd_rate, usd_rate_source, vintage
    FROM totals
    UNION ALL
    SELECT
        source, reporter, partner, partner_kind, flow, 'USD' AS currency, 'usd_converted' AS basis,
        currency AS published_currency, period_type, period_start, period_end, months,
        value_usd AS value, value_usd, valuation, NULL AS published_yoy, usd_rate, usd_rate_source,
        vintage
    FROM totals
    WHERE currency <> 'USD' AND partner = 'WLD'
)
SELECT
    source, reporter, partner,
    any_value(partner_kind) AS partner_kind,
    currency, basis,
    any_value(published_currency) AS published_currency,
    period_type, period_start, period_end,
    any_value(months) AS months,
    CAST(year(period_start) * 12 + month(period_start) - 1 AS INTEGER) AS start_idx,
    CAST(year(period_end) * 12 + month(period_end) - 1 AS INTEGER) AS end_idx,
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
FROM both_bases
GROUP BY source, reporter, partner, currency, basis, period_type, period_start, period_end
