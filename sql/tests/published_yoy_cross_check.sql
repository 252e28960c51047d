-- Fails where a computed year-on-year growth differs from the growth the publisher printed for the
-- same period (the published_yoy cross-check column) by more than rounding: GACC prints YoY to one
-- decimal of a percent (± 0.0005 as a ratio); the allowance of 0.0015 also absorbs small revisions
-- of the year-earlier base. A failure means a mis-parsed value or unit, a wrong comparison period,
-- or a large base revision that needs a look. World totals and partner countries only: aggregates
-- (EU27_2020 after Brexit, ...) are restated by publishers and legitimately differ.
-- severity: warn
-- (A publisher's restatement of last year's base can legitimately exceed the allowance: reported
-- in the run log and report, never blocking the publication.)
WITH pairs AS (
    SELECT 'trade_balance_monthly' AS mart, source, reporter, 'WLD' AS partner, currency,
        period_start, period_end, 'exports_yoy' AS measure,
        exports_yoy AS computed, exports_yoy_published AS published
    FROM marts.trade_balance_monthly
    UNION ALL
    SELECT 'trade_balance_monthly', source, reporter, 'WLD', currency, period_start, period_end,
        'imports_yoy', imports_yoy, imports_yoy_published
    FROM marts.trade_balance_monthly
    UNION ALL
    SELECT 'trade_balance_monthly', source, reporter, 'WLD', currency, period_start, period_end,
        'exports_ytd_yoy', exports_ytd_yoy, exports_ytd_yoy_published
    FROM marts.trade_balance_monthly
    UNION ALL
    SELECT 'trade_balance_monthly', source, reporter, 'WLD', currency, period_start, period_end,
        'imports_ytd_yoy', imports_ytd_yoy, imports_ytd_yoy_published
    FROM marts.trade_balance_monthly
    UNION ALL
    SELECT 'bilateral_balance_monthly', source, reporter, partner, currency, period_start,
        period_end, 'exports_yoy', exports_yoy, exports_yoy_published
    FROM marts.bilateral_balance_monthly WHERE partner_kind = 'country'
    UNION ALL
    SELECT 'bilateral_balance_monthly', source, reporter, partner, currency, period_start,
        period_end, 'imports_yoy', imports_yoy, imports_yoy_published
    FROM marts.bilateral_balance_monthly WHERE partner_kind = 'country'
    UNION ALL
    SELECT 'bilateral_balance_monthly', source, reporter, partner, currency, period_start,
        period_end, 'exports_ytd_yoy', exports_ytd_yoy, exports_ytd_yoy_published
    FROM marts.bilateral_balance_monthly WHERE partner_kind = 'country'
    UNION ALL
    SELECT 'bilateral_balance_monthly', source, reporter, partner, currency, period_start,
        period_end, 'imports_ytd_yoy', imports_ytd_yoy, imports_ytd_yoy_published
    FROM marts.bilateral_balance_monthly WHERE partner_kind = 'country'
)
SELECT *, computed - published AS difference
FROM pairs
WHERE abs(computed - published) > 0.0015
