"""ECB Data Portal double: EXR reference rates (``/data/EXR/{key}``, SDMX 2.1 REST).

Checks every request against the contract of :mod:`flows.sources.ecb` (:data:`RULES`) and answers

* ``M.CNY.EUR.SP00.A`` with ``format=jsondata`` and a window that overlaps 2025-10..2026-04: the
  recorded SDMX-JSON ``gacc_html/ecb_cny_eur_monthly.json`` **as recorded** (not trimmed to the
  window — ``tests/test_all_publishers.py`` relies on its 2026-04 rate);
* ``M.USD.EUR.SP00.A`` with a window inside 1999-01..2019-12: the recorded SDMX-ML 2.1
  GenericData ``ecb/exr_M.USD.EUR.SP00.A_sdmxml21_generic_1999-01_2019-12.xml`` (as recorded for
  ``format=genericdata`` or no format — the ECB's default; its real rates re-encoded as SDMX-JSON,
  header ``X-Test-Double: recorded values, re-encoded``, for ``format=jsondata``);
* without ``shared/``, both files from their byte copies bundled in ``tests/fixtures/ecb/sample/``
  (ECB statistics, reuse with attribution; ``NOTICE.md`` there);
* any other monthly ``SP00``/``A`` euro rate the recordings lack: **MADE-UP rates**
  (:func:`made_up_rate`) for the months of the window that have ended at least
  :attr:`Double.lag_days` days before :attr:`Double.today`, in the requested format, labelled by the
  header ``X-Test-Double: made-up values`` and, in the body, a ``TITLE`` attribute (JSON) or a
  comment (XML) saying MADE-UP;
* nothing in the window: HTTP 404 with the ECB's problem body ``{"type", "title": "Not Found",
  "status": 404, "detail": "No results found.", "instance"}``.

A malformed request (path, parameter names or values, key arity or codes) is refused with
HTTP 400 and a body of the same problem shape (the 400 body is *unverified*: only the status is
documented); an unknown path with the Spring-style 404 the ECB served for one in 2025.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

from lxml import etree
from werkzeug.wrappers import Request, Response

from flows.schema import add_months
from tests.double import PublisherDouble, Refused, Rule, month_range, ok

NAME = "ecb"
CNY_JSON = "gacc_html/ecb_cny_eur_monthly.json"
CNY_MONTHS = ("2025-10", "2026-04")
USD_XML = "ecb/exr_M.USD.EUR.SP00.A_sdmxml21_generic_1999-01_2019-12.xml"
USD_MONTHS = ("1999-01", "2019-12")

PATH = re.compile(r"/data/(?:ECB,)?EXR(?:,(?:latest|[\d.]+))?/([^/]*)")
DIMENSIONS = ("FREQ", "CURRENCY", "CURRENCY_DENOM", "EXR_TYPE", "EXR_SUFFIX")
CODE = {
    "FREQ": re.compile(r"^[ABDEHMNQSW]$"),
    "CURRENCY": re.compile(r"^[A-Z]{3}$"),
    "CURRENCY_DENOM": re.compile(r"^[A-Z]{3}$"),
    "EXR_TYPE": re.compile(r"^[A-Z0-9]{4}$"),
    "EXR_SUFFIX": re.compile(r"^[A-Z]$"),
}
PARAMS = frozenset({"startPeriod", "endPeriod", "updatedAfter", "firstNObservations",
                    "lastNObservations", "detail", "includeHistory", "format"})
FORMATS = frozenset({"jsondata", "csvdata", "genericdata", "structurespecificdata"})
DETAIL = frozenset({"full", "dataonly", "serieskeysonly", "nodata"})
PERIOD = re.compile(r"^\d{4}(-\d{2}(-\d{2})?|-Q[1-4]|-S[12]|-W\d{2})?$")
MADE_UP = {"X-Test-Double": "made-up values"}

_DOC = "ECB Data Portal help, https://data.ecb.europa.eu/help/api/"
RULES: list[Rule] = [
    Rule(NAME, "path /data/{flowRef}/{key}, flowRef EXR (or ECB,EXR[,version])",
         f"{_DOC}data (protocol://wsEntryPoint/resource/flowRef/key?parameters)", "confirmed"),
    Rule(NAME, "key has 5 positions FREQ.CURRENCY.CURRENCY_DENOM.EXR_TYPE.EXR_SUFFIX",
         f"recorded {CNY_JSON} (structure.dimensions.series in this order) and {USD_XML} "
         f"(SeriesKey); {_DOC}data: values in DSD order joined with '.'", "confirmed"),
    Rule(NAME, "codes: FREQ one letter, CURRENCY/CURRENCY_DENOM ISO 4217, EXR_TYPE 4 "
         "characters (SP00), EXR_SUFFIX one letter (A); '+' joins codes, empty = wildcard",
         f"recorded files; {_DOC}data (wildcards, '+' OR operator)", "consistent"),
    Rule(NAME, "parameters: startPeriod, endPeriod, updatedAfter, firstNObservations, "
         "lastNObservations, detail, includeHistory, format; any other is refused",
         f"{_DOC}data (all but format); format=jsondata beancount/beanprice PR #82, "
         "format=csvdata openlinker PR #2050 (live, 2026-08); refusing others is this double's "
         "choice", "consistent"),
    Rule(NAME, "format is jsondata, csvdata, genericdata or structurespecificdata",
         "jsondata/csvdata: public clients above; genericdata/structurespecificdata: not seen",
         "unverified"),
    Rule(NAME, "startPeriod/endPeriod are YYYY, YYYY-MM, YYYY-MM-DD, YYYY-Qn, YYYY-Sn, YYYY-Wnn",
         "bbk R package ecb_data() docs (source: ECB data help)", "consistent"),
    Rule(NAME, "no format: SDMX-ML 2.1 GenericData (the default for data queries)",
         f"{_DOC}content-negotiation", "confirmed"),
    Rule(NAME, "no results: HTTP 404, problem JSON with detail 'No results found.'",
         f"{_DOC}status-codes ('404 No results found'); body in expersso/ecb issue #7 "
         "(2025-05-27)", "confirmed"),
    Rule(NAME, "a syntactic or semantic error in the query: HTTP 400",
         f"{_DOC}status-codes; the body shape (problem JSON as for 404) is assumed", "unverified"),
]


def made_up_rate(currency: str, year: int, month: int) -> float:
    """The MADE-UP monthly rate (units of ``currency`` per euro) the double serves:
    ``1 + (sum of the code's letters' positions A=1…) / 10 + month / 1000 + (year − 2000) /
    10000``. Not ECB data."""
    letters = sum(ord(c) - 64 for c in currency)
    return round(1 + letters / 10 + month / 1000 + (year - 2000) / 10000, 6)


def _problem(status: int, title: str, detail: str, instance: str) -> bytes:
    return json.dumps({"type": instance, "title": title, "status": status, "detail": detail,
                       "instance": instance}).encode()


class Double(PublisherDouble):
    name = NAME
    #: "Today" for the made-up coverage (None: the real date).
    today: date | None = None
    #: Days after a month's end before its average is published (release calendar: 3).
    lag_days: int = 3

    def handle(self, request: Request, path: str) -> Response | None:
        instance = "/service" + path
        match = PATH.fullmatch(path)
        if not match:
            body = json.dumps({"status": 404, "error": "Not Found", "path": instance}).encode()
            raise Refused(ok(body, "application/json", status=404), f"unknown path {path}")

        def bad(detail: str) -> Refused:
            return Refused(ok(_problem(400, "Bad Request", detail, instance), "application/json",
                              status=400), detail)

        for name, value in request.args.items():
            if name not in PARAMS:
                raise bad(f"Unknown parameter: {name}")
            if name in ("startPeriod", "endPeriod") and not PERIOD.match(value):
                raise bad(f"Invalid value for {name}: {value}")
        fmt = request.args.get("format")
        if fmt is not None and fmt not in FORMATS:
            raise bad(f"Invalid value for format: {fmt}")
        if request.args.get("detail", "full") not in DETAIL:
            raise bad(f"Invalid value for detail: {request.args['detail']}")
        parts = match.group(1).split(".")
        if len(parts) != len(DIMENSIONS):
            raise bad(f"The key {match.group(1)} has {len(parts)} dimensions; EXR has "
                      f"{len(DIMENSIONS)} ({'.'.join(DIMENSIONS)})")
        key = []
        for dimension, part in zip(DIMENSIONS, parts, strict=True):
            codes = part.split("+") if part else []
            for code in codes:
                if not CODE[dimension].match(code):
                    raise bad(f"Invalid code {code} for dimension {dimension}")
            key.append(codes)
        return self._answer(request, key, fmt, instance)

    # ------------------------------------------------------------------------ answers
    def _answer(self, request: Request, key: list[list[str]], fmt: str | None, instance: str):
        start = request.args.get("startPeriod", "1999-01")[:7]
        end = request.args.get("endPeriod", "2099-12")[:7]
        if len(start) == 4:
            start += "-01"
        if len(end) == 4:
            end += "-12"
        if fmt in ("csvdata", "structurespecificdata"):
            return None  # not served by the double (404 "not recorded")
        if key[0] != ["M"] or key[2] != ["EUR"] or key[3] != ["SP00"] or key[4] != ["A"]:
            return self._no_results(instance)  # nothing recorded or made up for other series
        currencies = key[1]
        window = month_range(start, end)
        if currencies == ["CNY"] and fmt == "jsondata" and _overlaps(window, CNY_MONTHS):
            return self.file(CNY_JSON, "application/vnd.sdmx.data+json;version=1.0.0-wd")
        if currencies == ["USD"] and window and USD_MONTHS[0] <= window[0] <= window[-1] <= USD_MONTHS[1]:
            if fmt in (None, "genericdata"):
                return self.file(USD_XML, "application/vnd.sdmx.genericdata+xml;version=2.1")
            rates = self._recorded_usd(set(window))
            if rates:
                return ok(_json_message({"USD": rates}, "recorded ECB rates, re-encoded"),
                          "application/vnd.sdmx.data+json;version=1.0.0-wd",
                          headers={"X-Test-Double": "recorded values, re-encoded"})
        today = self.today or date.today()
        series = {}
        for currency in currencies:
            months = [m for m in window if self._published(m, today)]
            if months:
                series[currency] = {m: made_up_rate(currency, int(m[:4]), int(m[5:])) for m in months}
        if not series:
            return self._no_results(instance)
        if fmt == "jsondata":
            body = _json_message(series, "MADE-UP rate served by the test double, not ECB data")
            return ok(body, "application/vnd.sdmx.data+json;version=1.0.0-wd", headers=MADE_UP)
        return ok(_generic_xml(series), "application/vnd.sdmx.genericdata+xml;version=2.1",
                  headers=MADE_UP)

    def _published(self, month: str, today: date) -> bool:
        first = date(int(month[:4]), int(month[5:]), 1)
        return add_months(first, 1) - timedelta(days=1) + timedelta(days=self.lag_days) < today

    def _no_results(self, instance: str) -> Response:
        return ok(_problem(404, "Not Found", "No results found.", instance), "application/json",
                  status=404)

    def _recorded_usd(self, months: set[str]) -> dict[str, str]:
        path = self.path(USD_XML)
        if path is None:
            return {}
        root = etree.fromstring(path.read_bytes())
        rates = {}
        for obs in root.iter("{*}Obs"):
            period = obs.find("{*}ObsDimension").get("value")
            value = obs.find("{*}ObsValue")
            if period in months and value is not None:
                rates[period] = value.get("value")
        return rates


def _overlaps(window: list[str], months: tuple[str, str]) -> bool:
    return bool(window) and window[0] <= months[1] and window[-1] >= months[0]


def _json_message(series: dict[str, dict[str, object]], title: str) -> bytes:
    """An SDMX-JSON 1.0 data message in the shape of the recorded CNY file."""
    currencies = sorted(series)
    periods = sorted({m for rates in series.values() for m in rates})
    data = {}
    for n, currency in enumerate(currencies):
        data[f"0:{n}:0:0:0"] = {
            "attributes": [0, 0],
            "observations": {str(periods.index(m)): [float(v) if isinstance(v, str) else v]
                             for m, v in series[currency].items()},
        }
    message = {
        "header": {"id": "MADE-UP-BY-TEST-DOUBLE" if "MADE-UP" in title else "TEST-DOUBLE",
                   "test": True, "sender": {"id": "test-double"}},
        "dataSets": [{"action": "Replace", "series": data}],
        "structure": {
            "dimensions": {
                "series": [
                    {"id": "FREQ", "values": [{"id": "M"}]},
                    {"id": "CURRENCY", "values": [{"id": c} for c in currencies]},
                    {"id": "CURRENCY_DENOM", "values": [{"id": "EUR"}]},
                    {"id": "EXR_TYPE", "values": [{"id": "SP00"}]},
                    {"id": "EXR_SUFFIX", "values": [{"id": "A"}]},
                ],
                "observation": [{"id": "TIME_PERIOD", "values": [{"id": m} for m in periods]}],
            },
            "attributes": {
                "series": [
                    {"id": "UNIT_MULT", "values": [{"id": "0", "name": "Units"}]},
                    {"id": "TITLE", "values": [{"name": title}]},
                ],
            },
        },
    }
    return json.dumps(message).encode()


def _generic_xml(series: dict[str, dict[str, float]]) -> bytes:
    """An SDMX-ML 2.1 GenericData message (shape of the recorded USD file), MADE-UP values."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<!-- MADE-UP RATES served by the test double '
        "tests/double/ecb.py: not ECB data. -->\n"
        '<message:GenericData xmlns:message="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/'
        'message" xmlns:generic="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic">'
        "<message:Header><message:ID>MADE-UP-BY-TEST-DOUBLE</message:ID><message:Test>true"
        "</message:Test></message:Header><message:DataSet>"
    ]
    for currency, rates in sorted(series.items()):
        key = dict(zip(DIMENSIONS, ("M", currency, "EUR", "SP00", "A"), strict=True))
        out.append("<generic:Series><generic:SeriesKey>")
        out += [f'<generic:Value id="{k}" value="{v}"/>' for k, v in key.items()]
        out.append('</generic:SeriesKey><generic:Attributes><generic:Value id="UNIT_MULT" '
                   'value="0"/></generic:Attributes>')
        out += [f'<generic:Obs><generic:ObsDimension value="{m}"/><generic:ObsValue value="{v}"/>'
                "</generic:Obs>" for m, v in sorted(rates.items())]
        out.append("</generic:Series>")
    out.append("</message:DataSet></message:GenericData>")
    return "".join(out).encode()
