-- Warns where the annual China–US eastbound mirror ratio ln(US imports from China ÷ China's
-- exports to the US) lies outside the plausibility band of its era (docs/methods.md §C3, issue
-- 14): 2000–2011 [0.15, 0.35]; 2012–2017 [0.12, 0.22]; 2018–2019 [0.03, 0.15]; 2020 onward
-- [−0.20, 0.05] (the sign changed). US imports: US Census general imports from China at customs
-- value (headline), summed over a complete calendar year (12 months). China's exports to the US:
-- each of GACC and UN Comtrade separately, in USD: the annual figure when published, else the
-- periods (months, combined January–February) summed when they cover all 12 months.
-- severity: warn
-- (A year outside its band may be a parsing or unit error, or a real change of regime such as
-- 2019→2020: reported in the run log and report, never blocking the publication.)
WITH us_imports AS (
    SELECT year(period_start) AS year, sum(value_usd) AS us_imports_usd, sum(months) AS months
    FROM intermediate.observations
    WHERE source = 'census' AND reporter = 'USA' AND partner = 'CHN' AND flow = 'M'
        AND commodity = 'TOTAL' AND is_headline AND period_type = 'month'
    GROUP BY year(period_start)
    HAVING sum(months) = 12 AND count(value_usd) = count(*)
),
cn_periods AS (
    SELECT source, year(period_start) AS year, period_type, value_usd, months
    FROM intermediate.observations
    WHERE source IN ('gacc', 'comtrade') AND reporter = 'CHN' AND partner = 'USA'
        AND flow = 'X' AND commodity = 'TOTAL' AND is_headline AND currency = 'USD'
        AND period_type IN ('month', 'combined', 'year')
),
cn_exports AS (
    SELECT source, year,
        coalesce(
            max(value_usd) FILTER (WHERE period_type = 'year'),
            CASE WHEN sum(months) FILTER (WHERE period_type <> 'year') = 12
                THEN sum(value_usd) FILTER (WHERE period_type <> 'year') END
        ) AS cn_exports_usd
    FROM cn_periods
    GROUP BY source, year
),
ratios AS (
    SELECT
        u.year, c.source AS exporter_source, u.us_imports_usd, c.cn_exports_usd,
        ln(u.us_imports_usd / c.cn_exports_usd) AS log_ratio,
        CAST(CASE
            WHEN u.year BETWEEN 2000 AND 2011 THEN 0.15
            WHEN u.year BETWEEN 2012 AND 2017 THEN 0.12
            WHEN u.year BETWEEN 2018 AND 2019 THEN 0.03
            WHEN u.year >= 2020 THEN -0.20
        END AS DOUBLE) AS band_low,
        CAST(CASE
            WHEN u.year BETWEEN 2000 AND 2011 THEN 0.35
            WHEN u.year BETWEEN 2012 AND 2017 THEN 0.22
            WHEN u.year BETWEEN 2018 AND 2019 THEN 0.15
            WHEN u.year >= 2020 THEN 0.05
        END AS DOUBLE) AS band_high
    FROM us_imports AS u
    JOIN cn_exports AS c ON c.year = u.year
    WHERE u.us_imports_usd > 0 AND c.cn_exports_usd > 0
)
SELECT *
FROM ratios
WHERE band_low IS NOT NULL AND (log_ratio < band_low OR log_ratio > band_high)
