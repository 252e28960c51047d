-- Fails on duplicate keys in marts.bilateral_balance_monthly.
SELECT source, reporter, partner, currency, period_start, period_end, count(*) AS n
FROM marts.bilateral_balance_monthly
GROUP BY ALL
HAVING count(*) > 1
