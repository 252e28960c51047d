-- Fails where two month/combined periods of one series overlap (e.g. a combined Jan–Feb row and a
-- February month row of the same source, reporter, partner and currency): year-to-date and rolling
-- sums would count a month twice, so the marts leave them NULL and this test reports the clash.
SELECT
    source, reporter, partner, currency, basis, period_start, period_end,
    lag(period_start) OVER w AS previous_start,
    lag(period_end) OVER w AS previous_end
FROM intermediate.balances
WHERE period_type IN ('month', 'combined')
WINDOW w AS (PARTITION BY source, reporter, partner, currency, basis ORDER BY end_idx, start_idx)
QUALIFY start_idx <= lag(end_idx) OVER w
