-- table: Reconciled bilateral trade (issue 14; docs/methods.md §B5 step 3): for every row of marts.mirror_gaps where both mirrors exist (exporter's exports and importer's imports on FOB basis, any period: month, combined Jan–Feb or year), one value that weights the two reports by the reporters' reliability in that calendar year (marts.reporter_reliability, Growth-Lab method): w = e^{r_X(exporter)} ÷ (e^{r_X(exporter)} + e^{r_M(importer)}), reconciled_usd = w·exports_usd + (1 − w)·imports_fob_usd, so it always lies between the two FOB-basis mirrors; since w and the freight margin are fixed per pair and year, the months of a year sum to the value reconciled from the year's sums. Where the exporter (as exporter) or the importer (as importer) has fewer partner pairs than the reliability_min_partners parameter (default 10) that year, w = 0.5 and weight_flag says so. One row per (exporter, importer, period, exporter_source, importer_source), as in marts.mirror_gaps. SCOPE: reliabilities are estimated from every pair in the warehouse, so meaningful weights need many reporters' mirrors for the same years: UN Comtrade annual data (comtrade_frequency A) for a broad set of reporters and their partners, or the Comtrade bulk files (flows.reconcile.reliability_scope builds that run scope); with only the default five reporters most rows get w = 0.5 and the flag. US dollars throughout.
-- column exporter: Country (ISO3) or aggregate reporting the exports.
-- column importer: Country (ISO3) or aggregate reporting the imports from the exporter.
-- column period_start: First day of the first month covered.
-- column period_end: First day of the last month covered.
-- column months: Months covered: 1, 2 (combined January–February) or 12 (annual).
-- column period_type: month, combined or year.
-- column exporter_source: Publisher of the exports figure.
-- column importer_source: Publisher of the imports figure.
-- column exports_usd: X, exporter-reported exports, whole US dollars (FOB; FAS for US Census).
-- column imports_usd: Importer-reported imports as published (CIF where CIF), whole US dollars.
-- column imports_valuation: Valuation of the imports as published: CIF, FOB or CUSTOMS.
-- column imports_fob_usd: M_fob, the importer's figure on FOB basis (marts.mirror_gaps), whole US dollars.
-- column imports_fob_basis: How imports_fob_usd was obtained (see marts.mirror_gaps).
-- column freight_margin: τ for (importer, exporter, year), ratio in [0, 0.20] (intermediate.freight_margins).
-- column freight_margin_basis: Basis of freight_margin (observed census, observed comtrade, or the parameter).
-- column reliability_year: Calendar year whose reliability scores weight the row (the year of period_start).
-- column exporter_reliability: r_X of the exporter that year (marts.reporter_reliability), dimensionless.
-- column importer_reliability: r_M of the importer that year, dimensionless.
-- column exporter_partners: Partner pairs of the exporter as exporter that year.
-- column importer_partners: Partner pairs of the importer as importer that year.
-- column min_partners: The reliability_min_partners parameter used.
-- column exporter_weight: w ∈ [0, 1], weight on the exporter's figure (1 − w on the importer's FOB figure); 0.5 when flagged.
-- column weight_flag: 'reliability weights' when both reporters reach min_partners; else 'w = 0.5: too few partner pairs (exporter)', '(importer)' or '(exporter and importer)'.
-- column reconciled_usd: w·exports_usd + (1 − w)·imports_fob_usd, whole US dollars.
-- column method: 'growth-lab softmax of iterated reporter reliabilities'.
-- column method_version: Version of the reconciliation method (changes when the formula or its defaults change).
-- column iterations: Reliability iterations run (the reliability_iterations parameter).
-- column exporter_vintage: Release date (or fetch date) of the exports figure.
-- column importer_vintage: Release date (or fetch date) of the imports figure.
WITH params AS (
    SELECT max(value_double) FILTER (WHERE name = 'reliability_min_partners') AS min_partners
    FROM meta.parameters
),
joined AS (
    SELECT
        g.*,
        year(g.period_start) AS reliability_year,
        rx.exporter_reliability,
        rm.importer_reliability,
        coalesce(rx.exporter_partners, 0) AS exporter_partners,
        coalesce(rm.importer_partners, 0) AS importer_partners,
        CAST(p.min_partners AS INTEGER) AS min_partners,
        coalesce(rx.exporter_partners, 0) >= p.min_partners
            AND rx.exporter_reliability IS NOT NULL AS exporter_ok,
        coalesce(rm.importer_partners, 0) >= p.min_partners
            AND rm.importer_reliability IS NOT NULL AS importer_ok,
        coalesce(rx.iterations, rm.iterations) AS iterations
    FROM marts.mirror_gaps AS g
    LEFT JOIN marts.reporter_reliability AS rx
        ON rx.reporter = g.exporter AND rx.year = year(g.period_start)
    LEFT JOIN marts.reporter_reliability AS rm
        ON rm.reporter = g.importer AND rm.year = year(g.period_start)
    CROSS JOIN params AS p
    WHERE g.exports_usd IS NOT NULL AND g.imports_fob_usd IS NOT NULL
),
weighted AS (
    SELECT
        *,
        CASE
            WHEN exporter_ok AND importer_ok
                -- = e^rX / (e^rX + e^rM), written so that it cannot overflow
                THEN 1.0 / (1.0 + exp(least(greatest(
                    importer_reliability - exporter_reliability, -500.0), 500.0)))
            ELSE 0.5
        END AS exporter_weight,
        CASE
            WHEN exporter_ok AND importer_ok THEN 'reliability weights'
            WHEN importer_ok THEN 'w = 0.5: too few partner pairs (exporter)'
            WHEN exporter_ok THEN 'w = 0.5: too few partner pairs (importer)'
            ELSE 'w = 0.5: too few partner pairs (exporter and importer)'
        END AS weight_flag
    FROM joined
)
SELECT
    exporter, importer, period_start, period_end, months, period_type,
    exporter_source, importer_source,
    exports_usd, imports_usd, imports_valuation, imports_fob_usd, imports_fob_basis,
    freight_margin, freight_margin_basis,
    reliability_year, exporter_reliability, importer_reliability,
    exporter_partners, importer_partners, min_partners,
    exporter_weight, weight_flag,
    exporter_weight * exports_usd + (1 - exporter_weight) * imports_fob_usd AS reconciled_usd,
    'growth-lab softmax of iterated reporter reliabilities' AS method,
    'reconcile-v1' AS method_version,
    iterations,
    exporter_vintage, importer_vintage
FROM weighted
