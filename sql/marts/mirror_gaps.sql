-- table: Mirror comparison of bilateral trade: the exporter's reported exports to the importer against the importer's reported imports from the exporter, for every pair of sources that both publish the same period span (same period_start and period_end: a combined Jan–Feb figure is never compared with single months). One row per (exporter, importer, period, exporter_source, importer_source); the reverse direction of a reporter–partner pair is the row with exporter and importer swapped (filter `'CHN' IN (exporter, importer)`). Compared in US dollars (value_usd: as published in USD, else converted at ECB monthly reference rates). FOB basis (DESIGN.md §4, issue 14): imports published FOB (a Comtrade record whose primaryValue is its fobvalue) and US customs-value imports (CUSTOMS, ex freight) are used as published; CIF imports use the FOB value the publisher gives beside them (Comtrade fobvalue > 0, the row's second valuation basis) when there is one, else are divided by 1 + τ, the freight margin of intermediate.freight_margins (observed: US Census CIF vs customs value, else Comtrade cifvalue vs fobvalue; else the cif_fob_factor parameter; clamped to [0, 0.20]). Totals only (commodity TOTAL); partners WLD excluded. Where a source publishes a figure in more than one currency (GACC CNY and USD editions), the USD edition is used.
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
-- column cif_fob_factor: Factor the imports were divided by (imports_usd ÷ imports_fob_usd): 1 + freight_margin when CIF imports were deflated; the published CIF ÷ FOB ratio of the record when its FOB value was used; 1 for FOB and CUSTOMS imports (never deflated).
-- column imports_fob_basis: How imports_fob_usd was obtained: 'published FOB', 'customs value (ex freight)', 'published FOB beside CIF' (Comtrade fobvalue) or 'CIF / (1 + freight_margin)'.
-- column freight_margin: τ of intermediate.freight_margins for (importer, exporter, year), ratio in [0, 0.20]; shown on every row, applied only when imports_fob_basis is 'CIF / (1 + freight_margin)'.
-- column freight_margin_basis: Basis of freight_margin: 'observed: census GEN_CIF_MO / GEN_VAL_MO', 'observed: comtrade cifvalue / fobvalue', 'observed: <source> CIF / FOB' or 'parameter cif_fob_factor'.
-- column imports_fob_usd: The importer's figure on an FOB basis (see imports_fob_basis), whole US dollars.
-- column gap_usd: imports_fob_usd − exports_usd, whole US dollars (positive = the importer records more than the exporter).
-- column gap_ratio: imports_fob_usd ÷ exports_usd − 1, ratio; NULL when exports_usd is missing or ≤ 0.
-- column gap_usd_unadjusted: imports_usd − exports_usd, whole US dollars, before the FOB adjustment.
-- column exporter_vintage: Release date (or fetch date) of the exports figure.
-- column importer_vintage: Release date (or fetch date) of the imports figure.
WITH totals AS (
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
),
published_fob AS (
    -- the FOB value a publisher gives beside a CIF headline (Comtrade fobvalue > 0)
    SELECT source, reporter, partner, period_start, period_end, currency,
        value_usd AS fob_usd
    FROM intermediate.observations
    WHERE NOT is_headline
        AND valuation = 'FOB'
        AND flow = 'M'
        AND commodity = 'TOTAL'
        AND value_usd > 0
),
pairs AS (
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
        CASE
            WHEN m.valuation = 'FOB' THEN 'published FOB'
            WHEN m.valuation = 'CUSTOMS' THEN 'customs value (ex freight)'
            WHEN m.valuation = 'CIF' AND f.fob_usd IS NOT NULL THEN 'published FOB beside CIF'
            WHEN m.valuation = 'CIF' THEN 'CIF / (1 + freight_margin)'
            ELSE 'as published (' || m.valuation || ')'
        END AS imports_fob_basis,
        CASE
            WHEN imports_fob_basis = 'published FOB beside CIF' THEN f.fob_usd
            WHEN imports_fob_basis = 'CIF / (1 + freight_margin)'
                THEN m.value_usd / (1 + fm.freight_margin)
            ELSE m.value_usd
        END AS imports_fob_usd,
        fm.freight_margin,
        fm.freight_margin_basis,
        x.vintage AS exporter_vintage,
        m.vintage AS importer_vintage
    FROM totals AS x
    JOIN totals AS m
        ON m.flow = 'M'
        AND m.reporter = x.partner
        AND m.partner = x.reporter
        AND m.period_start = x.period_start
        AND m.period_end = x.period_end
    LEFT JOIN published_fob AS f
        ON f.source = m.source AND f.reporter = m.reporter AND f.partner = m.partner
        AND f.period_start = m.period_start AND f.period_end = m.period_end
        AND f.currency = m.currency
    LEFT JOIN intermediate.freight_margins AS fm
        ON fm.importer = m.reporter AND fm.exporter = m.partner
        AND fm.year = year(m.period_start)
    WHERE x.flow = 'X'
)
SELECT
    exporter, importer, period_start, period_end, months, period_type,
    exporter_source, importer_source,
    exports_value, exports_currency, exports_valuation, exports_usd, exports_usd_rate_source,
    imports_value, imports_currency, imports_valuation, imports_usd, imports_usd_rate_source,
    CASE
        WHEN imports_fob_basis = 'CIF / (1 + freight_margin)' THEN 1 + freight_margin
        WHEN imports_fob_basis = 'published FOB beside CIF' THEN imports_usd / imports_fob_usd
        ELSE 1.0
    END AS cif_fob_factor,
    imports_fob_basis,
    freight_margin,
    freight_margin_basis,
    imports_fob_usd,
    imports_fob_usd - exports_usd AS gap_usd,
    CASE WHEN exports_usd > 0 THEN imports_fob_usd / exports_usd - 1 END AS gap_ratio,
    imports_usd - exports_usd AS gap_usd_unadjusted,
    exporter_vintage,
    importer_vintage
FROM pairs
