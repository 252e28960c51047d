-- table: Freight and insurance margin τ of imports, per importer, exporter and calendar year (issue 14; DESIGN.md §4 "Mirror gaps"; docs/methods.md §B5 step 1): CIF = FOB × (1 + τ). One row per (importer, exporter, year) with import figures from the exporter in intermediate.observations (totals, partners other than WLD). τ is observed where a publisher gives one import figure on two bases: first US Census (GEN_CIF_MO against the customs value GEN_VAL_MO), else UN Comtrade (a record's cifvalue against its fobvalue, both > 0), else another publisher's CIF/FOB pair; without an observation it is the cif_fob_factor parameter − 1 (meta.parameters). Clamped to [0, 0.20] (Growth Lab TAU_UPPER_LIMIT, methods.md §B2). Observed τ is the ratio of sums over the year (annual figures when the publisher gives them, else its monthly figures) of the months published on both bases.
-- column importer: Country (ISO3) or aggregate reporting the imports.
-- column exporter: Partner (ISO3) the imports come from.
-- column year: Calendar year of the margin.
-- column freight_margin: τ, clamped to [0, 0.20], as a ratio (0.05 = 5 % of the FOB value).
-- column freight_margin_unclamped: τ before clamping, as a ratio (the observed ratio − 1, or the parameter − 1).
-- column freight_margin_basis: Where τ comes from: 'observed: census GEN_CIF_MO / GEN_VAL_MO', 'observed: comtrade cifvalue / fobvalue', 'observed: <source> CIF / FOB', or 'parameter cif_fob_factor'.
-- column margin_source: Publisher of the observed pair (census, comtrade, ...); NULL for the parameter.
-- column cif_usd: Sum of the CIF figures the observed τ is computed from, whole US dollars; NULL for the parameter.
-- column ex_freight_usd: Sum of the FOB or customs-value figures paired with cif_usd, whole US dollars; NULL for the parameter.
-- column periods_observed: Number of published periods (months, combined spans or years) both bases cover; NULL for the parameter.
WITH params AS (
    SELECT max(value_double) FILTER (WHERE name = 'cif_fob_factor') AS cif_fob_factor
    FROM meta.parameters
),
imports AS (
    SELECT source, reporter AS importer, partner AS exporter, period_start, period_end,
        period_type, currency, valuation, value_usd
    FROM intermediate.observations
    WHERE flow = 'M'
        AND commodity = 'TOTAL'
        AND partner <> 'WLD'
        AND reporter <> partner
        AND period_type IN ('month', 'combined', 'year')
),
pairs AS (
    SELECT c.source, c.importer, c.exporter, year(c.period_start) AS year,
        c.period_type = 'year' AS annual,
        c.value_usd AS cif_usd, b.value_usd AS ex_freight_usd
    FROM imports AS c
    JOIN imports AS b
        ON b.source = c.source AND b.importer = c.importer AND b.exporter = c.exporter
        AND b.period_start = c.period_start AND b.period_end = c.period_end
        AND b.currency = c.currency
        AND b.valuation IN ('FOB', 'CUSTOMS')
    WHERE c.valuation = 'CIF' AND c.value_usd > 0 AND b.value_usd > 0
),
observed AS (
    SELECT source, importer, exporter, year,
        sum(cif_usd) AS cif_usd, sum(ex_freight_usd) AS ex_freight_usd,
        count(*) AS periods_observed
    FROM pairs
    GROUP BY source, importer, exporter, year, annual
    -- annual figures of a source when it gives them, else its months
    QUALIFY row_number() OVER (
        PARTITION BY source, importer, exporter, year ORDER BY annual DESC
    ) = 1
),
best AS (
    SELECT *
    FROM observed
    QUALIFY row_number() OVER (
        PARTITION BY importer, exporter, year
        ORDER BY CASE source WHEN 'census' THEN 1 WHEN 'comtrade' THEN 2 ELSE 3 END, source
    ) = 1
),
universe AS (
    SELECT DISTINCT importer, exporter, year(period_start) AS year
    FROM imports
)
SELECT
    u.importer,
    u.exporter,
    u.year,
    least(greatest(coalesce(b.cif_usd / b.ex_freight_usd, p.cif_fob_factor) - 1, 0.0), 0.20)
        AS freight_margin,
    coalesce(b.cif_usd / b.ex_freight_usd, p.cif_fob_factor) - 1 AS freight_margin_unclamped,
    CASE
        WHEN b.source = 'census' THEN 'observed: census GEN_CIF_MO / GEN_VAL_MO'
        WHEN b.source = 'comtrade' THEN 'observed: comtrade cifvalue / fobvalue'
        WHEN b.source IS NOT NULL THEN 'observed: ' || b.source || ' CIF / FOB'
        ELSE 'parameter cif_fob_factor'
    END AS freight_margin_basis,
    b.source AS margin_source,
    b.cif_usd,
    b.ex_freight_usd,
    b.periods_observed
FROM universe AS u
LEFT JOIN best AS b
    ON b.importer = u.importer AND b.exporter = u.exporter AND b.year = u.year
CROSS JOIN params AS p
