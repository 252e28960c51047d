-- table: Bilateral trade balance of each reporter with each partner country or named aggregate (aggregates such as EU27_2020, ASEAN overlap countries: never sum across partner_kind = 'aggregate'), per source, currency and published period. Values in whole units of `currency`; growth as ratios.
-- column source: Publisher: gacc, comtrade, imf, census, eurostat.
-- column reporter: Reporting country, ISO 3166-1 alpha-3.
-- column partner: Partner country (ISO3) or named aggregate code.
-- column partner_kind: country or aggregate.
-- column currency: Currency of publication (ISO 4217).
-- column period_start: First day of the first month covered.
-- column period_end: First day of the last month covered.
-- column months: Months covered: 1, 2 (combined January–February release) or 12 (annual).
-- column period_type: month, combined or year.
-- column exports: Reporter's exports to the partner, whole units of `currency`.
-- column imports: Reporter's imports from the partner (by origin), whole units of `currency`.
-- column balance: exports − imports, whole units of `currency`.
-- column exports_yoy: Exports year-on-year growth as a ratio; NULL when the base is missing or ≤ 0.
-- column imports_yoy: Imports year-on-year growth as a ratio; NULL when the base is missing or ≤ 0.
-- column growth_gap: exports_yoy − imports_yoy, ratio.
-- column exports_usd: Exports in whole US dollars (NULL without a rate).
-- column imports_usd: Imports in whole US dollars.
-- column balance_usd: exports_usd − imports_usd, whole US dollars.
-- column vintage: Latest release date (or fetch date) of the figures on the row.
SELECT
    source, reporter, partner, partner_kind, currency, period_start, period_end, months, period_type,
    exports, imports, balance,
    exports_yoy, imports_yoy,
    exports_yoy - imports_yoy AS growth_gap,
    exports_usd, imports_usd, balance_usd, vintage
FROM intermediate.balances
WHERE partner <> 'WLD'
