"""Eurostat dissemination API double: SDMX 2.1 structure queries and SDMX-CSV data queries.

It serves the **reconstructed** DSDs and content constraints of ``tests/fixtures/eurostat``
(see the README there: they are not recordings) and checks every data query against them the way
Eurostat does (:data:`RULES`): path grammar, dataset id, query parameters, period syntax, key arity
(fault 140), each key position's codes against the constraint (fault 150, the disallowed
``DIM=CODE`` pairs listed), a composition asked for after its last month (fault 150), and an empty
result (fault 100). Faults are SOAP bodies shaped like Eurostat's recorded ones.

A good query is answered in SDMX-CSV, dimension columns in the DSD's order, with

* the **real values** of the recorded tidy table (``shared/data/real/eurostat/ext_st_easitc_…``:
  EA20 imports ``TRD_VAL`` from ``CN_X_HK``, ``US``, ``VN``, ``EU27_2020_NEA20``, SITC5–SITC8,
  2020-01…2025-11) where it holds the series and month, and
* **MADE-UP values** for every other series and month the constraint carries (``TOTAL``, exports,
  other partners, ``EA21``, ``EU27_2020``, …): numbers derived from a checksum of the series key
  and month, not published figures. Such answers carry the header
  ``X-Test-Double: made-up values`` (SDMX-CSV has no place for a marker).

``Double(withdrawn={"partner": {"IN"}})`` simulates a constraint that changed between the
structure query and the data query: the served constraint still lists the codes, data queries
naming them are refused with fault 150.
"""

from __future__ import annotations

import itertools
import re
import zlib
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree
from werkzeug.wrappers import Request, Response

from tests.double import DEFAULT_REAL, FIXTURES, PublisherDouble, Refused, Rule, ok

NAME = "eurostat"
TIDY = (
    "eurostat/ext_st_easitc_M_IMP_TRD_VAL_EA20_partners_CN_X_HK-US-VN-EU27_2020_NEA20_SITC5-8_2020-2025.csv"
)
STRUCTURES = FIXTURES / "eurostat"
#: Dataset id (as in data paths) → DSD / constraint id.
DATASETS: dict[str, str] = {
    "ext_st_easitc": "EXT_ST_EASITC", "ext_st_eu27_2020sitc": "EXT_ST_EU27_2020SITC",
}
#: Query parameters of Eurostat's SDMX 2.1 data query.
PARAMETERS = frozenset({
    "format", "startPeriod", "endPeriod", "lang", "compressed", "detail",
    "firstNObservations", "lastNObservations", "updatedAfter",
})
PERIOD = re.compile(r"\d{4}(-(0[1-9]|1[0-2])(-\d{2})?|-Q[1-4]|-S[12])?")
MADE_UP = "made-up values"
NS = {
    "s": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure",
    "c": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common",
}
LIVE = "docs/live_contracts.md §1.2"
RULES: list[Rule] = [
    Rule(NAME, "structure queries: /sdmx/2.1/datastructure|contentconstraint/ESTAT/<id>",
         "cyanheads/eurostat-mcp-server routes and recorded DS-045409 answers (live_contracts §1.3)",
         "consistent"),
    Rule(NAME, "data path /sdmx/2.1/data/<dataset>/<key>; unknown dataset → 404 fault 100 "
         "ERR_NOT_FOUND_2", f"cyanheads ds-999999-data.xml @ 89c61bb9 ({LIVE})", "confirmed"),
    Rule(NAME, "key arity = number of DSD dimensions, else 400 fault 140 INVALID_QUERY_NB_FILTERS",
         f"cyanheads FAULT_140 @ 41dd0326 ({LIVE})", "consistent"),
    Rule(NAME, "each key position's codes must be in the content constraint, else 400 fault 150 "
         "INVALID_QUERY_DIMENSION_VALUE … not allowed: DIM=CODE",
         f"Eurostat API FAQ https://wikis.ec.europa.eu/x/5giyBQ ({LIVE})", "confirmed"),
    Rule(NAME, "a composition asked for after its last month (EA20 in 2026) → 400 fault 150 GEO=EA20",
         "file-index ids 60807886967, 65917317471 (live_contracts §1.4); per-period refusal "
         "modelled with the reconstructed constraint's regions", "unverified"),
    Rule(NAME, "startPeriod/endPeriod syntax, else 400 fault 140 TIME_PERIOD_FILTER_SPEC_INVALID",
         f"cyanheads FAULT_140_PERIOD @ 41dd0326 ({LIVE})", "consistent"),
    Rule(NAME, "empty result → 400 fault 100 'No results found'",
         f"Eurostat API docs via rOpenGov/eurostat issue 261 ({LIVE}); not recorded for SDMX-CSV",
         "unverified"),
    Rule(NAME, "only documented query parameters (format, startPeriod, endPeriod, …); others → 400 "
         "fault 140", "Eurostat ignores unknown parameters and extracts the whole cube (swr0408): "
         "the double refuses them instead", "unverified"),
    Rule(NAME, "format=SDMX-CSV (the only format the double serves)", "sources.md §4; the "
         "recorded Comext SDMX-CSV", "confirmed"),
    Rule(NAME, "SDMX-CSV columns: DATAFLOW, LAST UPDATE, dimensions in DSD order, TIME_PERIOD, "
         "OBS_VALUE, OBS_FLAG, CONF_STATUS", "recorded Comext SDMX-CSV (flag columns assumed)",
         "consistent"),
]


def fault(code: str, text: str, status: int) -> Response:
    """A SOAP fault as Eurostat writes it."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><S:Fault xmlns:S="http://schemas.xmlsoap.org/soap/'
        f'envelope/"><faultcode>{code}</faultcode><faultstring>{escape(text)}</faultstring>'
        "</S:Fault>"
    )
    return Response(body, status=status, content_type="application/xml;charset=UTF-8")


#: The queued-extraction envelope Eurostat sends with HTTP 200 instead of data (shape of
#: cyanheads' QUEUE_ENVELOPE; the id here is made up).
QUEUED_ENVELOPE = (
    b'<?xml version="1.0" encoding="UTF-8" ?>\n<env:Envelope xmlns:env="http://schemas.xmlsoap.org/'
    b'soap/envelope/"><env:Header/><env:Body><ns0:syncResponse xmlns:ns0="http://estat.ec.europa.eu'
    b'/disschain/soap/extraction"><processingTime>92</processingTime><queued><id>00000000-made-up'
    b"</id><status>SUBMITTED</status></queued></ns0:syncResponse></env:Body></env:Envelope>"
)


def refuse(code: str, text: str, status: int, reason: str) -> Refused:
    return Refused(fault(code, text, status), reason)


def not_allowed(pairs: list[str]) -> Refused:
    text = ("INVALID_QUERY_DIMENSION_VALUE: Query is invalid as per its structure's definition. "
            f"The following values for dimension are not allowed: {', '.join(pairs)}.")
    return refuse("150", text, 400, f"fault 150: {', '.join(pairs)}")


class Double(PublisherDouble):
    name = NAME

    def __init__(self, real: Path = DEFAULT_REAL, *, structures: Path = STRUCTURES,
                 withdrawn: dict[str, set[str]] | None = None):
        super().__init__(real)
        self.structures = Path(structures)
        self.withdrawn = {k.lower(): set(v) for k, v in (withdrawn or {}).items()}
        self._recorded: dict[tuple[str, ...], str] | None = None

    def handle(self, request: Request, path: str) -> Response | None:
        match = re.fullmatch(r"/sdmx/2\.1/(datastructure|contentconstraint)/ESTAT/([\w\-]+)"
                             r"(?:/(?:latest|[\d.]+))?", path)
        if match:
            file = self.structures / f"{match[2]}_{match[1]}.xml"
            if not file.exists():
                raise refuse("100", f"ERR_NOT_FOUND: {match[1]} ESTAT:{match[2]} is not available.",
                             404, f"no {match[1]} {match[2]}")
            return ok(file.read_bytes(), "application/xml;charset=UTF-8")
        match = re.fullmatch(r"/sdmx/2\.1/data/([^/]+)/([^/]*)", path)
        if not match:
            raise Refused(Response("Not Found\n", status=404, content_type="text/plain"),
                          f"path grammar: {path} is not /sdmx/2.1/data/<dataset>/<key>")
        dataset, key = match[1], match[2]
        ident = DATASETS.get(dataset.lower())
        if ident is None:
            raise refuse("100", f"ERR_NOT_FOUND_2: DATA_SET:{dataset.upper()} is not available for "
                         "dissemination.", 404, f"unknown dataset {dataset}")
        window = self._window(request)
        dims, regions = self._structure(ident)
        selection = self._selection(dims, regions, key)
        self._check_compositions(dims, regions, selection, window)
        rows, made_up = self._rows(dims, regions, selection, window)
        if not rows:
            raise refuse("100", "No results found", 400, "empty result")
        from tests.builders.eurostat import sdmx_csv

        body = sdmx_csv(rows, dims, dataflow=f"ESTAT:{ident}(1.0)", last_update="20/03/26 11:00:00")
        headers = {"X-Test-Double": MADE_UP} if made_up else None
        return ok(body, "application/vnd.sdmx.data+csv;version=1.0.0", headers=headers)

    # --- checks ---------------------------------------------------------------------------------

    def _window(self, request: Request) -> tuple[str, str]:
        unknown = sorted(set(request.args) - PARAMETERS)
        if unknown:
            raise refuse("140", f"INVALID_QUERY_PARAMETER: unknown parameter(s) {unknown}", 400,
                         f"unknown parameters {unknown}")
        if request.args.get("format") != "SDMX-CSV":
            raise refuse("140", f"format {request.args.get('format')!r}: the test double serves "
                         "SDMX-CSV only", 400, "format is not SDMX-CSV")
        bounds = []
        for name, default in (("startPeriod", "1900-01"), ("endPeriod", "2999-12")):
            text = request.args.get(name, default)
            if not PERIOD.fullmatch(text):
                raise refuse("140", "TIME_PERIOD_FILTER_SPEC_INVALID: Impossible to apply time "
                             "dimension filtering", 400, f"{name}={text!r}")
            bounds.append(_month(text, end=name == "endPeriod"))
        return bounds[0], bounds[1]

    def _selection(self, dims, regions, key: str) -> dict[str, list[str] | None]:
        positions = key.split(".")
        if len(positions) != len(dims):
            raise refuse("140", "INVALID_QUERY_NB_FILTERS: Incorrect number of filters", 400,
                         f"key has {len(positions)} positions, the DSD {len(dims)}")
        selection: dict[str, list[str] | None] = {}
        bad = []
        for dim, position in zip(dims, positions, strict=True):
            codes = position.split("+") if position else None
            carried = set().union(*(r.get(dim, set()) for r in regions))
            for code in codes or ():
                if code not in carried or code in self.withdrawn.get(dim, ()):
                    bad.append(f"{dim.upper()}={code}")
            selection[dim] = codes
        if bad:
            raise not_allowed(bad)
        return selection

    def _check_compositions(self, dims, regions, selection, window) -> None:
        latest = max(m for r in regions for m in r.get("TIME_PERIOD", ()))
        bad = []
        for geo in selection.get("geo") or ():
            months = set().union(*(r["TIME_PERIOD"] for r in regions if geo in r.get("geo", ())))
            if months and max(months) < latest and window[0] > max(months):
                bad.append(f"GEO={geo}")
        if bad:
            raise not_allowed(bad)

    # --- answer ---------------------------------------------------------------------------------

    def _rows(self, dims, regions, selection, window) -> tuple[list[dict[str, str]], bool]:
        recorded = self._recorded_values()
        rows, seen, made_up = [], set(), False
        for region in regions:
            axes = [
                [c for c in (selection[d] or sorted(region.get(d, ()))) if c in region.get(d, ())]
                for d in dims
            ]
            months = sorted(m for m in region.get("TIME_PERIOD", ()) if window[0] <= m <= window[1])
            for series in itertools.product(*axes):
                for month in months:
                    if (series, month) in seen:
                        continue
                    seen.add((series, month))
                    named = dict(zip(dims, series, strict=True))
                    value = recorded.get(tuple(named.get(d, "") for d in _TIDY_KEY) + (month,))
                    if value is None:
                        made_up = True
                        value = f"{100 + zlib.crc32('.'.join((*series, month)).encode()) % 90000 / 10:.1f}"
                    rows.append({**named, "TIME_PERIOD": month, "OBS_VALUE": value})
        return rows, made_up

    def _structure(self, ident: str):
        """``(dimension ids in position order, regions as {dimension: codes}, TIME_PERIOD months)``."""
        dsd = etree.parse(str(self.structures / f"{ident}_datastructure.xml"))
        found = [(int(d.get("position")), d.get("id")) for d in dsd.iterfind(".//s:Dimension", NS)]
        dims = [name for _, name in sorted(found)]
        constraint = etree.parse(str(self.structures / f"{ident}_contentconstraint.xml"))
        regions = [
            {kv.get("id"): {v.text for v in kv.iterfind("c:Value", NS)}
             for kv in region.iterfind("c:KeyValue", NS)}
            for region in constraint.iterfind(".//s:CubeRegion", NS)
        ]
        return dims, regions

    def _recorded_values(self) -> dict[tuple[str, ...], str]:
        if self._recorded is None:
            from tests.builders.eurostat import recorded_values

            path = self.path(TIDY)  # the recording, else its bundled sample (four months)
            self._recorded = recorded_values(path) if path is not None else {}
        return self._recorded


_TIDY_KEY = ("freq", "stk_flow", "indic_et", "partner", "sitc06", "geo")


def _month(text: str, *, end: bool) -> str:
    """The first (or last, ``end``) ``YYYY-MM`` of an SDMX period."""
    year = text[:4]
    if len(text) == 4:
        return f"{year}-{'12' if end else '01'}"
    if text[5] in "QS":
        size = 3 if text[5] == "Q" else 6
        number = int(text[6])
        return f"{year}-{(number * size if end else (number - 1) * size + 1):02d}"
    return text[:7]


__all__ = ["DATASETS", "Double", "NAME", "QUEUED_ENVELOPE", "RULES", "fault"]
