-- table: Mirror comparison of bilateral trade: the exporter's reported exports to the importer against the importer's reported imports from the exporter, for every pair of sources that both publish the same period span (same period_start and period_end: a combined Jan–Feb figure is never compared with single months). One row per (exporter, importer, period, exporter_source, importer_source); the reverse direction of a reporter–partner pair is the row with exporter and importer swapped (filter `'CHN' IN (exporter, importer)`). Compared in US dollars (value_usd: as published in USD, else converted at ECB monthly reference rates). FOB basis (DESIGN.md §4): imports valued CIF are divided by the CIF/FOB factor (parameter cif_fob_factor in meta.parameters, default 1.06); imports already valued FOB and US customs-value imports (CUSTOMS, ex freight) are not deflated (factor 1). Totals only (commodity TOTAL); partners WLD excluded. Where a source publishes a figure in more than one currency (GACC CNY and USD editions), the USD edition is used.
-- column exporter: Country (ISO3) or aggregate whose exports are compared; the reporter of the exports figure.
-- column importer: Country (ISO3) or aggregate whose imports from the exporter are compared; the reporter of the imports figure.
-- column period_start: First day of the first month covered (identical on both sides).
-- column period_end: First day of the last month covered (identical on both sides).
-- column months: Months covered: 1, 2 (combined January–February) or 12 (annual).
-- column period_type: month, combined or year.
-- column exporter_source: Publisher of the exports figure.
-- column importer_source: Publisher of the imports figure.
-- column exports_value: Exports as published, whole units of exports_currency.
-- column exports_currency: Currency the exports figure was published in (ISO 4217).
-- column exports_valuation: Valuation of the exports figure (FOB; FAS for US Census, not adjusted).
-- column exports_usd: Exporter-reported exports in whole US dollars (NULL without a rate).
-- column exports_usd_rate_source: 'published in USD' or the ECB series used for exports_usd.
-- column imports_value: Imports as published, whole units of imports_currency.
-- column imports_currency: Currency the imports figure was published in (ISO 4217).
-- column imports_valuation: Valuation of the imports figure as published: CIF, FOB or CUSTOMS (US customs value, ex freight).
-- column imports_usd: Importer-reported imports as published (raw, CIF where CIF), whole US dollars.
-- column imports_usd_rate_source: 'published in USD' or the ECB series used for imports_usd.
-- column cif_fob_factor: Factor the imports were divided by: the cif_fob_factor parameter when imports_valuation is CIF, else 1 (FOB and CUSTOMS are not deflated).
-- column imports_fob_usd: imports_usd ÷ cif_fob_factor: the importer's figure on an FOB basis (adjusted), whole US dollars.
-- column gap_usd: imports_fob_usd − exports_usd, whole US dollars (positive = the importer records more than the exporter).
-- column gap_ratio: imports_fob_usd ÷ exports_usd − 1, ratio; NULL when exports_usd is missing or ≤ 0.
-- column gap_usd_unadjusted: imports_usd − exports_usd, whole US dollars, before the CIF/FOB adjustment.
-- column exporter_vintage: Release date (or fetch date) of the exports figure.
-- column importer_vintage: Release date (or fetch date) of the imports figure.
WITH params AS (
    SELECT max(value_double) FILTER (WHERE name = 'cif_fob_factor') AS cif_fob_factor
    FROM meta.parameters
),
totals AS (
    SELECT
        source, reporter, partner, flow, period_type, period_start, period_end, months,
        value, currency, valuation, value_usd, usd_rate_source, vintage
    FROM intermediate.observations
    WHERE is_headline
        AND commodity = 'TOTAL'
        AND flow IN ('X', 'M')
        AND period_type IN ('month', 'combined', 'year')
        AND partner <> 'WLD'
        AND reporter <> partner
    QUALIFY row_number() OVER (
        PARTITION BY source, reporter, partner, flow, period_start, period_end
        ORDER BY currency = 'USD' DESC, value_usd IS NULL, currency
    ) = 1
)
SELECT
    x.reporter AS exporter,
    m.reporter AS importer,
    x.period_start,
    x.period_end,
    x.months,
    x.period_type,
    x.source AS exporter_source,
    m.source AS importer_source,
    x.value AS exports_value,
    x.currency AS exports_currency,
    x.valuation AS exports_valuation,
    x.value_usd AS exports_usd,
    x.usd_rate_source AS exports_usd_rate_source,
    m.value AS imports_value,
    m.currency AS imports_currency,
    m.valuation AS imports_valuation,
    m.value_usd AS imports_usd,
    m.usd_rate_source AS imports_usd_rate_source,
    CASE WHEN m.valuation = 'CIF' THEN params.cif_fob_factor ELSE 1.0 END AS cif_fob_factor,
    m.value_usd / CASE WHEN m.valuation = 'CIF' THEN params.cif_fob_factor ELSE 1.0 END
        AS imports_fob_usd,
    imports_fob_usd - x.value_usd AS gap_usd,
    CASE WHEN x.value_usd > 0 THEN imports_fob_usd / x.value_usd - 1 END AS gap_ratio,
    m.value_usd - x.value_usd AS gap_usd_unadjusted,
    x.vintage AS exporter_vintage,
    m.vintage AS importer_vintage
FROM totals AS x
JOIN totals AS m
    ON m.flow = 'M'
    AND m.reporter = x.partner
    AND m.partner = x.reporter
    AND m.period_start = x.period_start
    AND m.period_end = x.period_end
CROSS JOIN params
WHERE x.flow = 'X'
