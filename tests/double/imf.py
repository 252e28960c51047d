"""IMF SDMX 3.0 API double: IMTS data (``/data/dataflow/IMF.STA/IMTS/+/{key}``).

Checks every request against the contract of :mod:`flows.sources.imf` (each rule in
:data:`RULES`, with its evidence and confidence) and answers

* **with an XML Accept** (``application/xml`` or ``application/vnd.sdmx.data+xml``): SDMX-ML 3.0
  ``StructureSpecificData``.

  - The recording ``imf/imts_sdmx3_data_USA_XG_FOB_USD_G001+G998_A_2023-2024.xml`` (real IMF
    values) for a request that overlaps it — US exports to G001/G998, annual, 2023–2024 —
    reduced to the requested series and years. Header ``X-Test-Double: recorded values``.
    Without ``shared/``, its MADE-UP stand-in (``tests/fixtures/imf/…_made_up.xml``, same layout,
    :mod:`tests.builders.imf`) the same way, with ``X-Test-Double: made-up values``.
  - Otherwise **MADE-UP values** (:func:`made_up_value`), for every requested reporter ×
    indicator × counterpart, monthly or annual, for the periods of the ``c[TIME_PERIOD]`` window
    that the made-up coverage reaches: a month is "published" once :attr:`Double.lag_days` (90, the
    release calendar's assumed IMF lag) have passed since it ended, counted from
    :attr:`Double.today`. The message says so three times: an XML comment, ``message:ID``
    ``MADE-UP-BY-TEST-DOUBLE`` with ``message:Test`` ``true``, and the HTTP header
    ``X-Test-Double: made-up values``.
  - Nothing in the window: the IMF's "no results" answer as the SDMX-REST standard gives it,
    HTTP 404 with an SDMX-ML 3.0 ``Error`` message, code 100 "No Results Found" (shape
    *unverified* for api.imf.org).

* **without an XML Accept** (none, ``*/*``, ``application/json``): HTTP 200 with a MADE-UP
  SDMX-JSON 2.0 data message, as the live API does (the shape follows live_contracts §2.4, the
  r-imfapi ``ppi_message.json`` fixture: ``{"meta", "data": {"structures": [...], "dataSets":
  [...]}}``, values as JSON strings). It is recorded as a refusal: the pipeline cannot use it.

Bad requests (path, parameter names, ``c[TIME_PERIOD]`` grammar, key arity and codes) are
refused with HTTP 400 (404 for an unknown path) and an SDMX error message — SDMX-ML 3.0
``Error`` for an XML Accept, SDMX-JSON ``errors`` otherwise; code 140 (syntax) or 150 (semantic)
as in the SDMX-REST standard. The body shapes are *unverified* for api.imf.org; ``trade-imbalance
probe`` checks them live.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from xml.sax.saxutils import escape

from lxml import etree
from werkzeug.wrappers import Request, Response

from flows.reference import is_country
from flows.schema import add_months
from tests.builders.imf import COMMON, MSG, Series, imts_message
from tests.double import PublisherDouble, Refused, Rule, is_made_up, ok

NAME = "imf"
RECORDED = "imf/imts_sdmx3_data_USA_XG_FOB_USD_G001+G998_A_2023-2024.xml"
#: What the recording holds: reporter, indicator, counterparts, frequency, years.
RECORDED_KEY = ("USA", "XG_FOB_USD", ("G001", "G998"), "A", (2023, 2024))

PATH = re.compile(r"/data/dataflow/IMF\.STA/IMTS/(\+|~|\d+\.\d+\.\d+)/([^/]*)")
DIMENSIONS = ("COUNTRY", "INDICATOR", "COUNTERPART_COUNTRY", "FREQUENCY")
INDICATORS = frozenset({"XG_FOB_USD", "MG_CIF_USD", "TBG_USD"})
FREQUENCIES = frozenset({"A", "M", "Q"})
AREA = re.compile(r"^(G\d{3}|GX\d+|TX\d+|KOS|WBG)$")
PARAMS = frozenset(
    {"c[TIME_PERIOD]", "dimensionAtObservation", "detail", "includeHistory", "lastNObservations"}
)
DETAIL = frozenset({"full", "dataonly", "serieskeysonly", "nodata"})
_DAY = r"\d{4}-\d{2}-\d{2}"
TIME_FILTER = re.compile(rf"^(ge:{_DAY})?([+ ]?le:{_DAY})?$")
XML_ACCEPT = ("application/xml", "application/vnd.sdmx.data+xml", "text/xml")

MADE_UP = {"X-Test-Double": "made-up values"}

_OPENBB = "OpenBB-finance/OpenBB openbb_imf/utils/query_builder.py @ 5413cf62"
_CASSETTE = "OpenBB cassette …direction_of_trade_fetcher_urllib3_v2.yaml @ 1bd76a97 (PROVENANCE.md)"
RULES: list[Rule] = [
    Rule(NAME, "path /data/dataflow/IMF.STA/IMTS/{version}/{key}, version '+' (latest)",
         f"{_CASSETTE}; {_OPENBB} build_url", "confirmed"),
    Rule(NAME, "key has 4 positions COUNTRY.INDICATOR.COUNTERPART_COUNTRY.FREQUENCY",
         f"{_OPENBB} orders the key by DSD position; recorded series carry these 4 dimensions",
         "confirmed"),
    Rule(NAME, "INDICATOR is XG_FOB_USD, MG_CIF_USD or TBG_USD",
         "imf/imts_sdmx3_availability_USA_INDICATOR.json (recorded availability)", "confirmed"),
    Rule(NAME, "FREQUENCY is A, M or Q",
         "imf/imts_sdmx3_availability_USA_XG_FOB_USD_G001_FREQUENCY.json", "confirmed"),
    Rule(NAME, "COUNTRY/COUNTERPART_COUNTRY are ISO3 or IMF groups G###, GX…, TX… (KOS, WBG)",
         "imf/imts_sdmx3_availability_COUNTRY.json and …_COUNTERPART_COUNTRY.json", "confirmed"),
    Rule(NAME, "query parameters: c[TIME_PERIOD], dimensionAtObservation, detail, "
         "includeHistory, lastNObservations; any other is refused",
         f"{_CASSETTE} (first four); {_OPENBB} (lastNObservations). That the IMF refuses an "
         "unknown parameter is not known: refusing it here keeps our requests to known ones",
         "consistent"),
    Rule(NAME, "c[TIME_PERIOD] is ge:YYYY-MM-DD and/or le:YYYY-MM-DD joined by '+'",
         f"{_CASSETTE}; SDMX-REST 2.0 component filters", "confirmed"),
    Rule(NAME, "without an XML Accept the API answers SDMX-JSON 2.0 (HTTP 200)",
         "khaeru/sdmx PR #225 (IMF engineer, 2025-03-03): 'By default for SDMX 3.0 we return "
         "JSON'; live_contracts §2.1", "confirmed"),
    Rule(NAME, "Accept: application/xml answers SDMX-ML 3.0 StructureSpecificData",
         f"{_OPENBB} fetch_data headers; recorded answer {RECORDED}", "confirmed"),
    Rule(NAME, "an empty result is HTTP 404 with SDMX error 100 'No Results Found'",
         "SDMX-REST standard (sdmx-twg/sdmx-rest v2_1/ws/rest/docs/4_7_errors.md); not seen "
         "from api.imf.org", "unverified"),
    Rule(NAME, "a malformed key or filter is HTTP 400 with an SDMX error message (140/150)",
         "SDMX-REST standard (same file); not seen from api.imf.org", "unverified"),
    Rule(NAME, "monthly data appear about a quarter after the month (made-up coverage)",
         "sources.md §3: coverage ran to 2025-09 when recorded on 2025-12-16", "consistent"),
]


def made_up_value(reporter: int, indicator: int, counterpart: int, year: int, month: int) -> int:
    """The MADE-UP whole-USD figure the double serves (indexes are positions in the request
    key; ``month`` 0 for a year): ``10^9 + 10^7·(reporter+1) + 10^6·(indicator+1) +
    10^5·(counterpart+1) + 100·(year−2000) + month``. Not IMF data."""
    return (10**9 + 10**7 * (reporter + 1) + 10**6 * (indicator + 1) + 10**5 * (counterpart + 1)
            + 100 * (year - 2000) + month)


class Double(PublisherDouble):
    name = NAME
    #: "Today" for the made-up coverage (None: the real date).
    today: date | None = None
    #: Days after a month's end before the made-up coverage reaches it.
    lag_days: int = 90

    # ------------------------------------------------------------------------- checks
    def handle(self, request: Request, path: str) -> Response | None:
        xml = any(kind in request.headers.get("Accept", "").lower() for kind in XML_ACCEPT)
        match = PATH.fullmatch(path)
        if not match:
            raise self._error(xml, 404, 100, f"Could not find a data resource at {path}", path)
        for name in request.args:
            if name not in PARAMS:
                raise self._error(xml, 400, 140, f"Unknown query parameter '{name}'", path)
        detail = request.args.get("detail")
        if detail is not None and detail not in DETAIL:
            raise self._error(xml, 400, 140, f"Invalid value '{detail}' for detail", path)
        window = self._window(xml, request.args.get("c[TIME_PERIOD]"), path)
        key = self._key(xml, match.group(2), path)
        if not xml:
            body = self._json(key, window)
            raise Refused(
                ok(body, "application/vnd.sdmx.data+json; version=2.0.0", headers=MADE_UP),
                f"no XML Accept (got {request.headers.get('Accept')!r}): the IMF answers "
                "SDMX-JSON 2.0",
            )
        recorded = self._recorded(key, window)
        if recorded is not None:
            return recorded
        series = self._series(key, window)
        if not series:
            return self._error(xml, 404, 100, "No Results Found", path).response
        return ok(self._xml(series), "application/xml", headers=MADE_UP)

    def _error(self, xml: bool, status: int, code: int, text: str, path: str) -> Refused:
        if xml:
            body = (
                f'<?xml version="1.0" encoding="UTF-8"?><message:Error xmlns:message="{MSG}" '
                f'xmlns:common="{COMMON}"><message:ErrorMessage code="{code}"><common:Text '
                f'xml:lang="en">{escape(text)}</common:Text></message:ErrorMessage>'
                "</message:Error>"
            ).encode()
            response = ok(body, "application/xml", status=status)
        else:
            body = json.dumps({"meta": {"id": "ERROR"},
                               "errors": [{"code": code, "title": text}]}).encode()
            response = ok(body, "application/json", status=status)
        return Refused(response, f"HTTP {status} ({code}) {text}: {path}")

    def _window(self, xml: bool, value: str | None, path: str) -> tuple[date, date]:
        if value is None:
            return date(1900, 1, 1), date(2999, 12, 31)
        match = TIME_FILTER.match(value)
        if not value or not match:
            raise self._error(xml, 400, 140, f"Invalid c[TIME_PERIOD] filter '{value}'", path)
        try:
            start = date.fromisoformat(match.group(1)[3:]) if match.group(1) else date(1900, 1, 1)
            end = (date.fromisoformat(match.group(2).lstrip("+ ")[3:]) if match.group(2)
                   else date(2999, 12, 31))
        except ValueError:
            raise self._error(xml, 400, 140, f"Invalid date in c[TIME_PERIOD] '{value}'", path) from None
        return start, end

    def _key(self, xml: bool, text: str, path: str) -> list[list[str]]:
        parts = text.split(".")
        if len(parts) != len(DIMENSIONS):
            raise self._error(
                xml, 400, 150,
                f"The key '{text}' has {len(parts)} dimensions; DSD_IMTS has {len(DIMENSIONS)} "
                f"({'.'.join(DIMENSIONS)})", path,
            )
        key = []
        for dimension, part in zip(DIMENSIONS, parts, strict=True):
            codes = [] if part in ("", "*") else part.split("+")
            for code in codes:
                if not _valid(dimension, code):
                    raise self._error(
                        xml, 400, 150, f"Code '{code}' is not valid for dimension {dimension}", path
                    )
            key.append(codes)
        return key

    # ------------------------------------------------------------------------ answers
    def _covered(self, year: int, month: int) -> bool:
        last_day = add_months(date(year, month, 1), 1) - timedelta(days=1)
        return last_day + timedelta(days=self.lag_days) <= (self.today or date.today())

    def _series(self, key, window) -> list[tuple[dict, list[tuple[str, int]]]]:
        reporters = key[0] or ["USA"]
        indicators = [i for i in (key[1] or ["XG_FOB_USD", "MG_CIF_USD"]) if i != "TBG_USD"]
        counterparts = key[2] or ["G001"]
        out = []
        for frequency in key[3] or ["M"]:
            if frequency == "Q":
                continue  # no made-up quarters: the pipeline never asks for them
            for r, reporter in enumerate(reporters):
                for i, indicator in enumerate(indicators):
                    for c, counterpart in enumerate(counterparts):
                        if counterpart == reporter:
                            continue
                        obs = [
                            (period, made_up_value(r, i, c, year, month))
                            for period, year, month in _periods(frequency, window)
                            if self._covered(year, month or 12)
                        ]
                        if obs:
                            attrs = {"COUNTRY": reporter, "INDICATOR": indicator,
                                     "COUNTERPART_COUNTRY": counterpart, "FREQUENCY": frequency}
                            out.append((attrs, obs))
        return out

    def _xml(self, series) -> bytes:
        """The MADE-UP series as an SDMX-ML 3.0 message in the recording's layout, without
        ``DERIVATION_TYPE`` (read as reported) or ``Prepared`` (no vintage); labelled in a
        comment, ``message:ID`` and ``message:Test``."""
        return imts_message(
            [Series(a["COUNTRY"], a["INDICATOR"], a["COUNTERPART_COUNTRY"], a["FREQUENCY"],
                    tuple((period, value, None) for period, value in obs))
             for a, obs in series],
            message_id="MADE-UP-BY-TEST-DOUBLE", prepared=None,  # no vintage, as before
            comment="MADE-UP VALUES served by the test double tests/double/imf.py: not IMF data.",
            sender="test-double",
        )  # fmt: skip

    def _json(self, key, window) -> bytes:
        """A MADE-UP SDMX-JSON 2.0 data message (shape: live_contracts §2.4)."""
        series = self._series(key, window)
        values = [sorted({attrs[d] for attrs, _ in series}) for d in DIMENSIONS]
        periods = sorted({p for _, obs in series for p, _ in obs})
        data_series = {}
        for attrs, obs in series:
            index = ":".join(str(values[n].index(attrs[d])) for n, d in enumerate(DIMENSIONS))
            data_series[index] = {
                "attributes": [],
                "observations": {str(periods.index(p)): [str(v)] for p, v in obs},
            }
        message = {
            "meta": {"id": "MADE-UP-BY-TEST-DOUBLE", "test": True, "contentLanguages": ["en"],
                     "comment": "MADE-UP VALUES served by tests/double/imf.py, not IMF data"},
            "data": {
                "structures": [{
                    "dimensions": {
                        "series": [
                            {"id": d, "keyPosition": n, "values": [{"id": v} for v in values[n]]}
                            for n, d in enumerate(DIMENSIONS)
                        ],
                        "observation": [{"id": "TIME_PERIOD",
                                         "values": [{"id": p, "value": p} for p in periods]}],
                    },
                    "attributes": {"dimensionGroup": [], "series": [], "observation": []},
                }],
                "dataSets": [{"structure": 0, "action": "Information", "series": data_series}],
            },
        }
        return json.dumps(message).encode()

    def _recorded(self, key, window) -> Response | None:
        """The recording reduced to the requested series and years, when the request overlaps
        it (real IMF values; nothing made up is added)."""
        reporter, indicator, counterparts, frequency, years = RECORDED_KEY
        if not (reporter in key[0] and (not key[1] or indicator in key[1])
                and (not key[2] or set(key[2]) & set(counterparts))
                and (not key[3] or frequency in key[3])
                and any(window[0].year <= y <= window[1].year for y in years)):
            return None
        path = self.path(RECORDED)  # else its MADE-UP stand-in (tests/fixtures/imf/)
        if path is None:
            return None
        root = etree.fromstring(path.read_bytes())
        for series in list(root.iter("Series")):
            if key[2] and series.get("COUNTERPART_COUNTRY") not in key[2]:
                series.getparent().remove(series)
                continue
            for obs in list(series):
                if not window[0].year <= int(obs.get("TIME_PERIOD", "0")[:4]) <= window[1].year:
                    series.remove(obs)
        body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        label = "made-up values" if is_made_up(path) else "recorded values"
        return ok(body, "application/xml", headers={"X-Test-Double": label})


def _valid(dimension: str, code: str) -> bool:
    if dimension == "INDICATOR":
        return code in INDICATORS
    if dimension == "FREQUENCY":
        return code in FREQUENCIES
    return bool(AREA.match(code)) or (len(code) == 3 and is_country(code))


def _periods(frequency: str, window: tuple[date, date]):
    """``(TIME_PERIOD, year, month)`` of the window: ``2025-M01`` (month) or ``2025`` (year,
    month 0), for the periods that start inside the window."""
    start, end = window
    if frequency == "A":
        for year in range(max(start.year, 1990), min(end.year, 2100) + 1):
            if date(year, 1, 1) >= start and date(year, 12, 31) <= end:
                yield str(year), year, 0
        return
    month = date(max(start.year, 1990), start.month, 1)
    if month < start:
        month = add_months(month, 1)
    while month <= end and month.year <= 2100:
        yield f"{month.year}-M{month.month:02d}", month.year, month.month
        month = add_months(month, 1)
