-- table: What the warehouse holds per publisher and reporter, and how stale it is: first and latest period loaded, latest vintage, and the days since the next period's expected release (positive = the next release is due or overdue). Expected release lags (days after the end of the month) are typical publication delays: GACC ~10 (preliminary release around the 7th–10th), US Census 35 (FT-900, about five weeks), Eurostat 46, UN Comtrade 60 (each country reports on its own schedule), IMF IMTS 90 (monthly data lag about a quarter); ECB rates are published daily.
-- column source: Publisher key.
-- column reporter: Reporter (ISO3 or aggregate code); '*' for exchange rates.
-- column first_period: First month loaded (period_start).
-- column latest_period: Last month covered by any loaded observation (period_end).
-- column latest_vintage: Most recent release or fetch date of the loaded figures.
-- column observations: Current observations loaded.
-- column expected_lag_days: Typical days between the end of a month and its release by this publisher.
-- column next_expected_release: Date the month after latest_period is expected to be published.
-- column days_since_expected_release: current_date − next_expected_release, days (positive = next release due or overdue; negative = not yet due).
WITH lags (source, expected_lag_days) AS (
    VALUES ('gacc', 10), ('census', 35), ('eurostat', 46), ('comtrade', 60), ('imf', 90), ('ecb', 1)
),
loaded AS (
    SELECT source, reporter, min(period_start) AS first_period, max(period_end) AS latest_period,
           max(vintage) AS latest_vintage, count(*) AS observations
    FROM raw.observations
    GROUP BY source, reporter
    UNION ALL
    SELECT source, '*' AS reporter, min(period_start), max(period_start), max(vintage), count(*)
    FROM raw.fx_rates
    GROUP BY source
)
SELECT
    l.source, l.reporter, l.first_period, l.latest_period, l.latest_vintage, l.observations,
    g.expected_lag_days,
    CAST(l.latest_period + INTERVAL 2 MONTH - INTERVAL 1 DAY + to_days(g.expected_lag_days) AS DATE)
        AS next_expected_release,
    date_diff(
        'day',
        CAST(l.latest_period + INTERVAL 2 MONTH - INTERVAL 1 DAY + to_days(g.expected_lag_days) AS DATE),
        current_date
    ) AS days_since_expected_release
FROM loaded AS l
LEFT JOIN lags AS g USING (source)
