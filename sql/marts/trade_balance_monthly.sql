-- table: Trade balance of each reporter with the world, per source, currency and published period. One row per currency the publisher gives (GACC: CNY and USD editions). Values in whole units of `currency`; growth as ratios (0.059 = +5.9 %). Combined January–February periods are compared with combined periods only; annual publications appear with months = 12.
-- column source: Publisher: gacc, comtrade, imf, census, eurostat.
-- column reporter: Reporting country, ISO 3166-1 alpha-3 (or an aggregate code such as EU27_2020).
-- column currency: Currency of publication (ISO 4217).
-- column period_start: First day of the first month covered.
-- column period_end: First day of the last month covered.
-- column months: Months covered: 1, 2 (combined January–February release) or 12 (annual).
-- column period_type: month, combined (Jan–Feb published as one period) or year.
-- column exports: Exports to the world, whole units of `currency` (FOB unless exports_valuation says otherwise).
-- column imports: Imports from the world, whole units of `currency` (CIF unless imports_valuation says otherwise).
-- column balance: exports − imports, whole units of `currency` (positive = surplus).
-- column exports_yoy: Exports year-on-year growth as a ratio (same span one year earlier); NULL when the base is missing or ≤ 0.
-- column imports_yoy: Imports year-on-year growth as a ratio; NULL when the base is missing or ≤ 0.
-- column growth_gap: exports_yoy − imports_yoy, ratio (0.04 = 4 percentage points).
-- column exports_usd: Exports in whole US dollars (converted with usd_rate when not published in USD; NULL without a rate).
-- column imports_usd: Imports in whole US dollars.
-- column balance_usd: exports_usd − imports_usd, whole US dollars.
-- column usd_rate: US dollars per unit of `currency` used for the *_usd columns.
-- column usd_rate_source: 'published in USD' or the ECB reference-rate series used.
-- column exports_valuation: Valuation basis of exports (FOB, FAS).
-- column imports_valuation: Valuation basis of imports (CIF, CUSTOMS = US customs value ex freight).
-- column vintage: Latest release date (or fetch date) of the figures on the row.
SELECT
    source, reporter, currency, period_start, period_end, months, period_type,
    exports, imports, balance,
    exports_yoy, imports_yoy,
    exports_yoy - imports_yoy AS growth_gap,
    exports_usd, imports_usd, balance_usd, usd_rate, usd_rate_source,
    exports_valuation, imports_valuation, vintage
FROM intermediate.balances
WHERE partner = 'WLD'
