-- table: What the warehouse holds per publisher and reporter, and how stale it is: first and latest period loaded, latest vintage, and the expected release of the next month from the release calendar (marts.release_calendar) with the days since (positive = due or overdue; a source is behind only past that date). GACC's January, released with February from 2020, is not due before February's release.
-- column source: Publisher key.
-- column reporter: Reporter (ISO3 or aggregate code); '*' for exchange rates.
-- column first_period: First month loaded (period_start).
-- column latest_period: Last month covered by any loaded observation (period_end).
-- column latest_vintage: Most recent release or fetch date of the loaded figures.
-- column observations: Current observations loaded.
-- column calendar_basis: 'documented' or 'assumed': how the release calendar knows this publisher's dates.
-- column next_expected_release: Date the month after latest_period is expected to be published (marts.release_calendar).
-- column days_since_expected_release: current_date − next_expected_release, days (positive = next release due or overdue; negative = not yet due).
WITH loaded AS (
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
    c.basis AS calendar_basis,
    c.expected_release AS next_expected_release,
    date_diff('day', c.expected_release, current_date) AS days_since_expected_release
FROM loaded AS l
LEFT JOIN marts.release_calendar AS c
    ON c.source = l.source AND c.period = CAST(l.latest_period + INTERVAL 1 MONTH AS DATE)
