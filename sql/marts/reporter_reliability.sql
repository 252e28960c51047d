-- table: Reporter reliability per calendar year, Growth-Lab style (docs/methods.md §B2, §B5 step 2; harvard-growth-lab/comtrade-mirroring trade_data_reconciler.py): from every exporter–importer pair of marts.mirror_gaps in the warehouse with both mirrors, the discrepancy d = |X − M_fob| ÷ (X + M_fob) of the year's values (annual figures when a source pair gives them, else the sum of the months both publish; one source pair per exporter, importer and year: most months covered, then UN Comtrade on both sides, then by source name). Scores start at 1 and are updated together for meta.parameters reliability_iterations rounds (default 25): r_X(i) = n_X(i) ÷ Σ_j d(i,j)·r_M(j), r_M(j) = n_M(j) ÷ Σ_i d(i,j)·r_X(i), n = partner pairs; d is floored at 1e-6 so that exact agreement stays finite. Higher = more reliable. One row per reporter and year with pairs as exporter or importer. Meaningful only with many reporters: a warehouse holding only a few reporters' mirrors gives each reporter few partner pairs (see partners_sufficient, and the scope note in marts.reconciled_flows).
-- column reporter: Country (ISO3) or aggregate.
-- column year: Calendar year the scores are estimated for.
-- column exporter_reliability: r_X, reliability score of the reporter's export figures (dimensionless, > 0); NULL when it has no pair as exporter.
-- column importer_reliability: r_M, reliability score of the reporter's import figures on FOB basis (dimensionless, > 0); NULL when it has no pair as importer.
-- column exporter_partners: n_X, partner pairs with both mirrors where the reporter is the exporter that year.
-- column importer_partners: n_M, partner pairs with both mirrors where the reporter is the importer that year.
-- column exporter_mean_discrepancy: Mean d over the reporter's pairs as exporter, ratio in [0, 1].
-- column importer_mean_discrepancy: Mean d over the reporter's pairs as importer, ratio in [0, 1].
-- column partners_sufficient: TRUE when both partner counts (where the role exists) reach the reliability_min_partners parameter (default 10); otherwise marts.reconciled_flows uses the weight 0.5 for the reporter.
-- column iterations: Iterations run (the reliability_iterations parameter).
WITH RECURSIVE params AS (
    SELECT
        max(value_double) FILTER (WHERE name = 'reliability_iterations') AS iterations,
        max(value_double) FILTER (WHERE name = 'reliability_min_partners') AS min_partners
    FROM meta.parameters
),
combos AS (
    SELECT
        exporter, importer, year(period_start) AS year, exporter_source, importer_source,
        count(*) FILTER (WHERE period_type = 'year') > 0 AS annual,
        sum(exports_usd) FILTER (WHERE period_type = 'year') AS x_year,
        sum(imports_fob_usd) FILTER (WHERE period_type = 'year') AS m_year,
        sum(exports_usd) FILTER (WHERE period_type <> 'year') AS x_months,
        sum(imports_fob_usd) FILTER (WHERE period_type <> 'year') AS m_months,
        sum(months) FILTER (WHERE period_type <> 'year') AS months_covered
    FROM marts.mirror_gaps
    WHERE exports_usd IS NOT NULL AND imports_fob_usd IS NOT NULL
    GROUP BY exporter, importer, year(period_start), exporter_source, importer_source
),
pairs AS (
    SELECT
        exporter, importer, year,
        CASE WHEN annual THEN x_year ELSE x_months END AS x,
        CASE WHEN annual THEN m_year ELSE m_months END AS m
    FROM combos
    QUALIFY row_number() OVER (
        PARTITION BY exporter, importer, year
        ORDER BY CASE WHEN annual THEN 12 ELSE months_covered END DESC,
            (exporter_source = 'comtrade')::INTEGER + (importer_source = 'comtrade')::INTEGER DESC,
            exporter_source, importer_source
    ) = 1
),
discrepancies AS (
    SELECT exporter, importer, year, abs(x - m) / (x + m) AS d
    FROM pairs
    WHERE x + m > 0
),
edges AS (
    SELECT year, exporter AS iso, 'X' AS role, importer AS other_iso, 'M' AS other_role,
        greatest(d, 1e-6) AS d, d AS d_raw
    FROM discrepancies
    UNION ALL
    SELECT year, importer, 'M', exporter, 'X', greatest(d, 1e-6), d
    FROM discrepancies
),
state(iteration, year, iso, role, r) AS (
    SELECT DISTINCT 0, year, iso, role, 1.0::DOUBLE
    FROM edges
    UNION ALL
    SELECT s.iteration + 1, e.year, e.iso, e.role, count(*) / sum(e.d * s.r)
    FROM edges AS e
    JOIN state AS s
        ON s.year = e.year AND s.iso = e.other_iso AND s.role = e.other_role
    WHERE s.iteration < (SELECT iterations FROM params)
    GROUP BY s.iteration, e.year, e.iso, e.role
),
scores AS (
    SELECT year, iso, role, r
    FROM state
    WHERE iteration = (SELECT iterations FROM params)
),
counts AS (
    SELECT year, iso, role, count(*) AS partners, avg(d_raw) AS mean_d
    FROM edges
    GROUP BY year, iso, role
)
SELECT
    c.iso AS reporter,
    c.year,
    max(s.r) FILTER (WHERE c.role = 'X') AS exporter_reliability,
    max(s.r) FILTER (WHERE c.role = 'M') AS importer_reliability,
    coalesce(max(c.partners) FILTER (WHERE c.role = 'X'), 0) AS exporter_partners,
    coalesce(max(c.partners) FILTER (WHERE c.role = 'M'), 0) AS importer_partners,
    max(c.mean_d) FILTER (WHERE c.role = 'X') AS exporter_mean_discrepancy,
    max(c.mean_d) FILTER (WHERE c.role = 'M') AS importer_mean_discrepancy,
    bool_and(c.partners >= p.min_partners) AS partners_sufficient,
    CAST(any_value(p.iterations) AS INTEGER) AS iterations
FROM counts AS c
LEFT JOIN scores AS s ON s.year = c.year AND s.iso = c.iso AND s.role = c.role
CROSS JOIN params AS p
GROUP BY c.iso, c.year
