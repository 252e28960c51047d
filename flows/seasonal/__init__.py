"""Seasonal adjustment with the Lunar New Year handled (issue 13; docs/methods.md part A).

Modules: :mod:`~flows.seasonal.calendar` (holiday and working-day regressors),
:mod:`~flows.seasonal.x13` (spec file, X-13 run, output tables), :mod:`~flows.seasonal.adjust`
(spec selection, final adjustment, combined January–February), :mod:`~flows.seasonal.cache`
(cached specs), :mod:`~flows.seasonal.warehouse` (the build step writing
``marts.seasonally_adjusted``) and :mod:`~flows.seasonal.cli` (``trade-imbalance adjust``).
"""
