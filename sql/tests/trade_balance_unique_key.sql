-- Fails on duplicate keys in marts.trade_balance_monthly.
SELECT source, reporter, currency, period_start, period_end, count(*) AS n
FROM marts.trade_balance_monthly
GROUP BY ALL
HAVING count(*) > 1
