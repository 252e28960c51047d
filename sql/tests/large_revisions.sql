-- Reports observations whose latest value is less than half or more than twice the first value
-- published (marts.revisions): a typical symptom of a unit or scale misread (e.g. a page whose
-- unit line changed from "CNY 100 Million" to "CNY 1 Million"), or of a publisher's correction
-- worth a look before the figures are quoted.
-- severity: warn
SELECT source, reporter, partner, flow, period_start, period_end, currency, valuation,
       first_value, latest_value, first_vintage, latest_vintage
FROM marts.revisions
WHERE first_value > 0 AND (latest_value / first_value > 2 OR latest_value / first_value < 0.5)
