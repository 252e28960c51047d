-- table: Trade balance of each reporter with the world, per source, currency and published period. One row per currency the publisher gives (GACC: CNY and USD editions). Values in whole units of `currency`; growth as ratios (0.059 = +5.9 %). Combined January–February periods are compared with combined periods only; annual publications appear with months = 12. YoY is NULL where the base is missing or ≤ 0; balance YoY only when both balances are > 0 (else see balance_change). Year to date: the publisher's printed cumulative where there is one (ytd_basis 'published'), else the sum of the year's months when every month from January is present. Rolling 3-/12-month sums: only over month/combined rows that cover exactly the 3/12 calendar months ending at period_end, a combined Jan–Feb period counting as its two months (so the 3-month window February–April is NULL when January–February was published combined); compared with the same calendar months one year earlier. Year rows have no ytd or rolling values.
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
-- column total_trade: exports + imports, whole units of `currency`.
-- column balance_yoy: Balance year-on-year growth, ratio; only when this and last year's balances are both > 0, else NULL.
-- column balance_change: balance − balance of the same span one year earlier, whole units of `currency` (the level change; reported whatever the signs).
-- column total_trade_yoy: Total trade year-on-year growth, ratio; NULL when the base is missing or ≤ 0.
-- column import_cover: imports ÷ exports, ratio (1.0 = balanced); NULL when exports are 0 or missing.
-- column balance_share: balance ÷ total_trade, ratio between −1 and 1 (0.17 = surplus of 17 % of total trade); NULL when total trade is 0 or missing.
-- column exports_yoy_published: Export year-on-year change printed by the publisher for this very period, ratio (rounded as printed, GACC: 0.1 point); a cross-check of exports_yoy, never used as data.
-- column imports_yoy_published: Import year-on-year change printed by the publisher for this period, ratio; cross-check only.
-- column ytd_months: Months in the year-to-date span (January to period_end); NULL when there is no year-to-date value.
-- column ytd_basis: 'published' (the publisher's own cumulative: a ytd table column, a combined Jan–Feb period or a January month) or 'sum of months' (this year's rows from January summed, all months present); NULL when neither exists.
-- column exports_ytd: Exports January to period_end of the year, whole units of `currency`.
-- column imports_ytd: Imports January to period_end, whole units of `currency`.
-- column balance_ytd: exports_ytd − imports_ytd, whole units of `currency`.
-- column total_trade_ytd: exports_ytd + imports_ytd, whole units of `currency`.
-- column exports_ytd_yoy: Year-to-date exports growth against January to the same month one year earlier (cumulative spans, however published: a combined Jan–Feb cumulative is compared with Jan + Feb of the year before), ratio; NULL when the base is missing or ≤ 0.
-- column imports_ytd_yoy: Year-to-date imports growth, ratio; NULL when the base is missing or ≤ 0.
-- column balance_ytd_yoy: Year-to-date balance growth, ratio; only when both year-to-date balances are > 0.
-- column balance_ytd_change: balance_ytd − year-to-date balance one year earlier, whole units of `currency`.
-- column total_trade_ytd_yoy: Year-to-date total trade growth, ratio.
-- column growth_gap_ytd: exports_ytd_yoy − imports_ytd_yoy, ratio.
-- column exports_ytd_yoy_published: Year-to-date export growth printed by the publisher (GACC's cumulative YoY column), ratio; cross-check of exports_ytd_yoy only.
-- column imports_ytd_yoy_published: Year-to-date import growth printed by the publisher, ratio; cross-check only.
-- column exports_3m: Exports over the 3 calendar months ending at period_end, whole units of `currency`; NULL unless month/combined rows cover exactly those months.
-- column imports_3m: Imports over the 3 months ending at period_end, whole units of `currency`.
-- column balance_3m: exports_3m − imports_3m, whole units of `currency`.
-- column total_trade_3m: exports_3m + imports_3m, whole units of `currency`.
-- column exports_3m_yoy: exports_3m against the same 3 months one year earlier, ratio; NULL when the base is missing or ≤ 0.
-- column imports_3m_yoy: imports_3m against the same 3 months one year earlier, ratio.
-- column balance_3m_yoy: balance_3m growth, ratio; only when both 3-month balances are > 0.
-- column balance_3m_change: balance_3m − the same 3 months' balance one year earlier, whole units of `currency`.
-- column total_trade_3m_yoy: total_trade_3m growth, ratio.
-- column growth_gap_3m: exports_3m_yoy − imports_3m_yoy, ratio (the quantity marts.imbalance_signals watches).
-- column exports_12m: Exports over the 12 calendar months ending at period_end, whole units of `currency`; NULL unless covered exactly.
-- column imports_12m: Imports over the 12 months ending at period_end, whole units of `currency`.
-- column balance_12m: exports_12m − imports_12m, whole units of `currency`.
-- column total_trade_12m: exports_12m + imports_12m, whole units of `currency`.
-- column exports_12m_yoy: exports_12m against the previous 12 months ending one year earlier, ratio.
-- column imports_12m_yoy: imports_12m growth, ratio.
-- column balance_12m_yoy: balance_12m growth, ratio; only when both 12-month balances are > 0.
-- column balance_12m_change: balance_12m − the 12-month balance one year earlier, whole units of `currency`.
-- column total_trade_12m_yoy: total_trade_12m growth, ratio.
-- column growth_gap_12m: exports_12m_yoy − imports_12m_yoy, ratio.
SELECT
    source, reporter, currency, period_start, period_end, months, period_type,
    exports, imports, balance,
    exports_yoy, imports_yoy, growth_gap,
    exports_usd, imports_usd, balance_usd, usd_rate, usd_rate_source,
    exports_valuation, imports_valuation, vintage,
    total_trade, balance_yoy, balance_change, total_trade_yoy, import_cover, balance_share,
    exports_yoy_published, imports_yoy_published,
    ytd_months, ytd_basis, exports_ytd, imports_ytd, balance_ytd, total_trade_ytd,
    exports_ytd_yoy, imports_ytd_yoy, balance_ytd_yoy, balance_ytd_change, total_trade_ytd_yoy,
    growth_gap_ytd, exports_ytd_yoy_published, imports_ytd_yoy_published,
    exports_3m, imports_3m, balance_3m, total_trade_3m,
    exports_3m_yoy, imports_3m_yoy, balance_3m_yoy, balance_3m_change, total_trade_3m_yoy,
    growth_gap_3m,
    exports_12m, imports_12m, balance_12m, total_trade_12m,
    exports_12m_yoy, imports_12m_yoy, balance_12m_yoy, balance_12m_change, total_trade_12m_yoy,
    growth_gap_12m
FROM intermediate.balance_metrics
WHERE partner = 'WLD' AND basis = 'published'
