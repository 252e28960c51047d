-- table: The release calendar: for each publisher and reference month, the date by which its figures are expected (flows/release_calendar.py). Rules from the publishers' documented practice (basis 'documented': GACC around the 7th–10th of the next month, January together with February in early March from 2020; US Census FT-900 about 35 days after the month) or assumed where no calendar is documented (basis 'assumed': Eurostat 46 days, IMF IMTS 90, UN Comtrade 90, ECB 3); announced or actual dates in flows/data/release_dates.csv override the rule (overridden = true). `status`, marts.source_coverage, the schedules and the "not yet released" answers all read this calendar.
-- column source: Publisher key.
-- column period: Reference month (first day).
-- column expected_release: Date by which the month is expected to be published.
-- column basis: 'documented' (the publisher's stated practice) or 'assumed' (no documented calendar).
-- column rule: The rule in words.
-- column overridden: True when an announced or actual date replaced the rule for this month.
-- column grace_days: Days after expected_release before a month still absent counts as missing or overdue.
SELECT source, period, expected_release, basis, rule, overridden, grace_days
FROM meta.release_calendar
