-- Fails on ±inf/NaN growth rates in the balance marts (growth from a zero base must be NULL).
SELECT source, reporter, currency, period_start, exports_yoy, imports_yoy
FROM marts.trade_balance_monthly
WHERE NOT isfinite(exports_yoy) OR NOT isfinite(imports_yoy) OR NOT isfinite(growth_gap)
UNION ALL
SELECT source, reporter, currency, period_start, exports_yoy, imports_yoy
FROM marts.bilateral_balance_monthly
WHERE NOT isfinite(exports_yoy) OR NOT isfinite(imports_yoy) OR NOT isfinite(growth_gap)
