"""China customs (GACC): discovery and parser of the preliminary release table (4) by country.

Publication: the English site of the General Administration of Customs of the PRC publishes each
month numbered "Preliminary Release" tables, one HTML page per table, month and currency. This
package reads table "(4) China's Total Export & Import Values by Country/Region", published in CNY
and in USD. The two editions are separate publications with different ``currency`` keys; they are
stored side by side, never summed or converted into each other. Page anatomy:
``docs/gacc_pages.md``.

Modules: :mod:`~flows.sources.gacc.discovery` (index pages, links, :func:`plan`),
:mod:`~flows.sources.gacc.tables` (:func:`parse` of table (4)),
:mod:`~flows.sources.gacc.partners` (partner labels → codes), :mod:`~flows.sources.gacc.common`.
Everything public is importable from ``flows.sources.gacc`` as before.

Contract followed, with its evidence and confidence (``confirmed`` = shown by a recorded page or an
official document; ``consistent`` = several public sources agree; ``unverified`` = one unofficial
source or an inference; live_contracts.md §6, sources.md §5 and §9):

* **Index discovery** [confirmed]. The current year's index is
  ``{base}/statics/report/preliminary.html``, earlier years ``…/preliminaryYYYY.html``: the
  recorded 2026 index (``gacc_html/seed_2026.html``) maps its year ``<select>`` to these pages in
  its own script, and hoyla/meridian ``api_client.py`` @ ``ee0a4ceed2feef915d8f61d80c652cd556a09714``
  fetches them. Each titled row "(N) … (in CNY|USD)" lists months: published ones are
  ``<a href=http://english.customs.gov.cn/Statics/<uuid>.html> Feb.</a>`` (unquoted absolute href,
  leading space, trailing full stop), unpublished ones ``<span>``; rows (7) and (8) carry no
  currency. An index page that does not list table (4) is cut short or not the index: an error,
  never "nothing new".
* **Link rewriting** [project rule]. The pages' absolute links name the real host; only the path
  is kept and put on the configured base URL (:func:`rewrite_url`), so a mirror or the test double
  serves them, and a backslash (seen in the site's xls links) becomes "/".
* **Table (4) unit lines** — the unit line decides the scale and must agree with the title's
  "(in CNY)/(in USD)" and with the currency of the index link: ``CNY 100 Million`` (×1e8)
  [confirmed: the recorded March 2026 and January–February 2025 CNY pages]; ``USD1 Million``
  (×1e6) for the USD edition [consistent: a Meridian-style incident note, file-index id
  58239571485, "only section-4 … use USD1 Million"; no USD table (4) page is recorded];
  ``US$1,000`` (×1e3, the Monthly Bulletin tables, sources.md §5) and ``CNY 10 Thousand`` (×1e4)
  are read too. Table (1) uses ``USD 100 Million`` and is not read here. An unknown unit, or a unit
  whose currency contradicts the title (another GACC scraper recorded a June 2025 CNY table whose
  unit line says USD — issue 10 [unverified: no copy of that page]) is a ParseError.
* **Columns and periods** [confirmed: recorded pages]. A bare month number ("3") heads the month
  column, "1- to-3" the cumulative one; the printed year-on-year applies to the cumulative column.
  E&I is not stored, it is checked: E&I = X + M within one unit of the last printed decimal place.
* **Combined January–February** [confirmed for 2025 by the recorded page, which has only "1-to-2"
  columns; consistent for 2020 on: SCMP, bdnews24, financialpost 2020-02-07; the 2026 index links
  no January]. A "Feb." link in a year without a January link is requested for Jan–Feb, and a page
  with only "1-to-2" columns gives one two-month ``combined`` period, never split.
* **Image-only pages** [confirmed: January 2018 holds only ``<img src='\\Excel\\4-RMB.png'/>``]:
  a ParseError ("image-only page"), no rows.
* Reporter ``CHN``; exports ``X`` FOB, imports ``M`` CIF (sources.md §5, Bloomberg description)
  [consistent]. Partner labels: :mod:`~flows.sources.gacc.partners`.

**Quarantine** (the "Hardening" issue, :func:`flows.fetch.fetch_source`): every check of a page
raises :class:`~flows.sources.base.ParseError` (an unknown partner label raises
:class:`~flows.sources.gacc.partners.UnknownLabelError`, which is both a ParseError and an
:class:`~flows.reference.UnknownCodeError`; any stray library error is turned into a ParseError).
The fetch layer then archives the page with its ``parse_error``, lists it in
``SourceOutcome.quarantined`` as ``<sha12>: <reason>`` (``<sha12> (unchanged since YYYY-MM-DD):
<reason>`` when the same bytes come back), never loads it, re-fetches it on every run whatever the
revision window, and loads it as soon as its content changes and passes.

What the site answers for a page it does not have (404) is [unverified]; the test double answers
404 (``tests/double/gacc.py``).
"""

from __future__ import annotations

from flows.sources.gacc.common import (
    CURRENCIES,
    EU27_FROM,
    NAME,
    REPORTER,
    SECTION,
    VALUATION,
)
from flows.sources.gacc.discovery import (
    INDEX_PATH,
    TableLink,
    index_url,
    parse_index,
    plan,
    rewrite_url,
)
from flows.sources.gacc.partners import (
    UnknownLabelError,
    normalise_label,
    partner_code,
    partner_table,
)
from flows.sources.gacc.tables import parse

__all__ = [
    "CURRENCIES",
    "EU27_FROM",
    "INDEX_PATH",
    "NAME",
    "REPORTER",
    "SECTION",
    "VALUATION",
    "TableLink",
    "UnknownLabelError",
    "index_url",
    "normalise_label",
    "parse",
    "parse_index",
    "partner_code",
    "partner_table",
    "plan",
    "rewrite_url",
]
