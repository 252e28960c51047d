-- table: USD value of one unit of each currency per month, derived from ECB euro reference rates (monthly averages of daily rates, series EXR.M.<currency>.EUR.SP00.A).
-- column currency: ISO 4217 currency code.
-- column period_start: First day of the month.
-- column usd_per_unit: US dollars per one unit of `currency` = (USD per EUR) / (currency per EUR); for EUR, USD per EUR.
-- column rate_source: The ECB series the rate was computed from.
WITH eur AS (
    SELECT currency, period_start, rate, series
    FROM raw.fx_rates
    WHERE base = 'EUR'
),
usd AS (
    SELECT period_start, rate AS usd_per_eur, series
    FROM eur
    WHERE currency = 'USD'
)
SELECT
    e.currency,
    e.period_start,
    u.usd_per_eur / e.rate AS usd_per_unit,
    'ECB ' || u.series || ' / ' || e.series AS rate_source
FROM eur AS e
JOIN usd AS u ON u.period_start = e.period_start
WHERE e.currency <> 'USD'
UNION ALL
SELECT 'EUR' AS currency, period_start, usd_per_eur AS usd_per_unit, 'ECB ' || series AS rate_source
FROM usd
