# ruff: noqa: E501 - one kind per line reads as a table
"""The catalogue of bad-payload kinds (issue 12 part 5): :data:`KINDS`.

Each :class:`~tests.faults.harness.Fault` is LABELLED: what it does to the double's answer and the
outcome class expected (:data:`tests.faults.harness.OUTCOMES`). Transport kinds apply to every
publisher (:func:`transport`); content kinds edit one publisher's format. The bodies edited are
what the strict double serves — recorded values, bundled samples or values labelled as made up.
"""

from __future__ import annotations

import json
import re

from tests.faults.harness import Fault, drip, reset_midway, stall, status

HTML_PAGE = (b"<!DOCTYPE html><html><head><title>Service unavailable</title></head>"
             b"<body><h1>Maintenance</h1><p>Please try again later.</p></body></html>")
SOURCES = ("gacc", "comtrade", "imf", "census", "eurostat", "ecb")


def sub(pattern: bytes, repl: bytes, count: int = 0):
    """A body transform: ``re.sub`` on the bytes."""
    return lambda body: re.sub(pattern, repl, body, count=count)


def cut_bytes(body: bytes) -> bytes:
    return body[: len(body) // 2]


def cut_lines(body: bytes) -> bytes:
    """The first half of the lines, kept whole (a cut at a line boundary)."""
    lines = body.splitlines(keepends=True)
    return b"".join(lines[: max(2, len(lines) // 2)])


def html_200(_body: bytes):
    return status(200, HTML_PAGE, content_type="text/html; charset=utf-8")(b"")


def transport(source: str) -> list[Fault]:
    """The kinds every publisher gets: empty, HTML, errors, resets, stalls, drips, cuts."""
    f = lambda name, label, expect, **kw: Fault(name, source, label, expect, **kw)  # noqa: E731
    return [
        f("empty-body", "HTTP 200 with an empty body", "rejected", body=lambda _b: b""),
        f("whitespace-body", "HTTP 200 whose body is blank lines", "rejected", body=lambda _b: b"\n\n  \n"),
        f("html-200", "an HTML maintenance page with 200", "rejected", respond=html_200),
        f("http-404", "404 Not Found (plain text)", "rejected", respond=status(404, b"Not Found")),
        f("http-500", "500 on every attempt", "rejected", respond=status(500, b"Internal Server Error")),
        f("http-503-long-wait", "503 asking to wait an hour", "rejected",
          respond=status(503, b"busy", {"Retry-After": "3600"})),
        f("http-429-always", "429 on every attempt, Retry-After 0", "rejected",
          respond=status(429, b"Too Many Requests", {"Retry-After": "0"})),
        f("http-429-once", "429 once, then the normal answer", "recovered",
          respond=status(429, b"Too Many Requests", {"Retry-After": "0"}), times=1),
        f("http-502-once", "502 once, then the normal answer", "recovered",
          respond=status(502, b"Bad Gateway"), times=1),
        f("reset-midway", "half the body, then the connection resets", "rejected", respond=reset_midway),
        f("stall", "headers, then no byte for 10 s", "rejected", respond=stall),
        f("slow-drip", "the body at 20 bytes/s", "rejected", respond=drip),
        f("cut-bytes", "the first half of the bytes, Content-Length matching", "rejected", body=cut_bytes),
        f("garbage", "200 with binary garbage", "rejected", body=lambda _b: bytes(range(256)) * 8),
    ]


# ------------------------------------------------------------------------------------ GACC
def _gacc_swap(body: bytes) -> bytes:
    return re.sub(rb"<b>(Export|Import)</b>",
                  lambda m: b"<b>Import</b>" if m.group(1) == b"Export" else b"<b>Export</b>", body)


def _gacc_rows_cut(body: bytes) -> bytes:
    """The table cut after its 'European Union' row (the later partner rows lost)."""
    start = body.index(b"&nbsp;&nbsp;European Union")
    end = body.index(b"</tr>", start) + len(b"</tr>")
    tail = body.index(b"</table>", end)
    return body[:end] + body[tail:]


GACC = [
    Fault("unit-10-thousand", "gacc", "unit line 'CNY 100 Million' → 'CNY 10 Thousand' (a new vintage)",
          "quarantined", body=sub(rb"Unit: CNY 100 Million", b"Unit: CNY 10 Thousand"), after_clean=True),
    Fault("swapped-columns", "gacc", "Export and Import column headers swapped (a new vintage)",
          "quarantined", body=_gacc_swap, after_clean=True),
    Fault("unit-missing", "gacc", "the unit line removed", "rejected",
          body=sub(rb"Unit: CNY 100 Million", b"")),
    Fault("unit-usd", "gacc", "unit line says USD on the CNY edition", "rejected",
          body=sub(rb"Unit: CNY 100 Million", b"Unit: USD 100 Million")),
    Fault("other-month", "gacc", "title names May 2025, the request was June", "rejected",
          body=sub(rb"Jun 2025", b"May 2025")),
    Fault("nan-total", "gacc", "the Total export month cell is 'NaN'", "rejected",
          body=sub(rb"<b>3,000.0&nbsp;</b>", b"<b>NaN&nbsp;</b>", 1)),
    Fault("negative-total", "gacc", "the Total export month cell is negative", "rejected",
          body=sub(rb"<b>3,000.0&nbsp;</b>", b"<b>-3,000.0&nbsp;</b>", 1)),
    Fault("rows-cut", "gacc", "table cut after the European Union row", "rejected", body=_gacc_rows_cut),
    Fault("total-x10", "gacc", "the Total export month ×10: E&I ≠ X + M on the page", "rejected",
          body=sub(rb"<b>3,000.0&nbsp;</b>", b"<b>30,000.0&nbsp;</b>", 1), after_clean=True),
]


# -------------------------------------------------------------------------------- Comtrade
def _json_edit(edit):
    def transform(body: bytes) -> bytes:
        data = json.loads(body)
        edit(data)
        return json.dumps(data, allow_nan=True).encode()
    return transform


def _each(field, fn):
    def edit(data):
        for row in data["data"]:
            row[field] = fn(row[field])
    return edit


def _first(field, value):
    def edit(data):
        data["data"][0][field] = value
    return edit


def _duplicate(data):
    data["data"].append(dict(data["data"][0]))
    data["count"] = len(data["data"])


def _swap_flows(data):
    for row in data["data"]:
        row["flowCode"] = {"X": "M", "M": "X"}.get(row["flowCode"], row["flowCode"])
        row["flowDesc"] = {"Import": "Export", "Export": "Import"}.get(row["flowDesc"], row["flowDesc"])


COMTRADE = [
    Fault("count-too-high", "comtrade", "'count' states one row more than 'data' holds", "rejected",
          body=_json_edit(lambda d: d.__setitem__("count", d["count"] + 1))),
    Fault("rows-dropped", "comtrade", "the last record removed, 'count' unchanged", "rejected",
          body=_json_edit(lambda d: d["data"].pop())),
    Fault("wrong-reporter", "comtrade", "reporterCode/ISO of the USA", "rejected",
          body=_json_edit(lambda d: (_each("reporterCode", lambda _v: 842)(d),
                                     _each("reporterISO", lambda _v: "USA")(d)))),
    Fault("wrong-period", "comtrade", "period/refYear 2011 for a 2010 request", "rejected",
          body=_json_edit(lambda d: (_each("period", lambda _v: "2011")(d),
                                     _each("refYear", lambda _v: 2011)(d),
                                     _each("refPeriodId", lambda _v: 20110101)(d)))),
    Fault("negative-value", "comtrade", "a negative primaryValue", "rejected",
          body=_json_edit(_first("primaryValue", -1.0))),
    Fault("nan-value", "comtrade", "primaryValue NaN (a JSON extension)", "rejected",
          body=_json_edit(_first("primaryValue", float("nan")))),
    Fault("infinity-value", "comtrade", "primaryValue Infinity", "rejected",
          body=_json_edit(_first("primaryValue", float("inf")))),
    Fault("string-value", "comtrade", "primaryValue as text 'n/a'", "rejected",
          body=_json_edit(_first("primaryValue", "n/a"))),
    Fault("duplicate-row", "comtrade", "one record twice (count adjusted)", "rejected", body=_json_edit(_duplicate)),
    Fault("swapped-flows", "comtrade", "X and M exchanged (a new vintage)", "quarantined",
          body=_json_edit(_swap_flows), after_clean=True),
    Fault("scale-1000", "comtrade", "every primaryValue ÷1000 (a new vintage)", "quarantined",
          body=_json_edit(_each("primaryValue", lambda v: v / 1000)), after_clean=True),
    Fault("json-error-field", "comtrade", "200 with {'error': ...}", "rejected",
          body=lambda _b: b'{"error": "Internal error", "count": 0, "data": []}'),
]


# ------------------------------------------------------------------------------------- IMF
IMF = [
    Fault("wrong-country", "imf", "COUNTRY CAN for a USA request", "rejected",
          body=sub(rb'COUNTRY="USA"', b'COUNTRY="CAN"')),
    Fault("wrong-period", "imf", "TIME_PERIOD 2019 outside the window", "rejected",
          body=sub(rb'TIME_PERIOD="2023"', b'TIME_PERIOD="2019"')),
    Fault("nan-value", "imf", "OBS_VALUE NaN", "loaded-missing",
          body=sub(rb'OBS_VALUE="(\d+)"', b'OBS_VALUE="NaN"', 1)),
    Fault("negative-value", "imf", "a negative OBS_VALUE", "rejected",
          body=sub(rb'OBS_VALUE="(\d+)"', rb'OBS_VALUE="-\1"', 1)),
    Fault("text-value", "imf", "OBS_VALUE 'n/a'", "rejected", body=sub(rb'OBS_VALUE="(\d+)"', b'OBS_VALUE="n/a"', 1)),
    Fault("wrong-frequency", "imf", "FREQUENCY M on annual observations", "rejected",
          body=sub(rb'FREQUENCY="A"', b'FREQUENCY="M"')),
    Fault("wrong-indicator", "imf", "INDICATOR not asked for", "rejected",
          body=sub(rb'INDICATOR="XG_FOB_USD"', b'INDICATOR="XG_FOB_EUR"')),
    Fault("duplicate-obs", "imf", "one observation twice", "rejected",
          body=lambda b: re.sub(rb"(<Obs [^>]*/>)", rb"\1\1", b, count=1)),
    Fault("html-as-xml", "imf", "an HTML page served as application/xml", "rejected",
          body=lambda _b: HTML_PAGE),
    Fault("scale-1000", "imf", "every OBS_VALUE ÷1000 (a new vintage)", "quarantined",
          body=lambda b: re.sub(rb'OBS_VALUE="(\d+)\d{3}"', rb'OBS_VALUE="\1"', b), after_clean=True),
]


# ---------------------------------------------------------------------------------- Census
def _census_edit(edit):
    def transform(body: bytes) -> bytes:
        table = json.loads(body)
        edit(table)
        return ("[" + ",\n".join(json.dumps(row) for row in table) + "]").encode()
    return transform


def _drop_world(table):
    table[:] = [row for row in table if row[0] != "-"]


def _cut_keep_world(table):
    world = [row for row in table if row[0] == "-"]
    others = [row for row in table[1:] if row[0] != "-"]
    table[1:] = world + others[: len(others) // 2]


def _set_first(column, value):
    def edit(table):
        table[1][table[0].index(column)] = value
    return edit


def _census_scale(table):
    at = [i for i, name in enumerate(table[0]) if name.endswith("_MO")]
    for row in table[1:]:
        for i in at:
            row[i] = str(int(row[i]) // 10_000)


CENSUS = [
    Fault("no-world-total", "census", "the CTY_CODE '-' world total row removed", "rejected",
          body=_census_edit(_drop_world)),
    # the Schedule C rows then fall short of the world total (census.py "Truncation")
    Fault("rows-cut", "census", "the array re-closed after half its rows (world total row kept)",
          "rejected", body=_census_edit(_cut_keep_world)),
    Fault("wrong-month", "census", "MONTH 11 for a December request", "rejected",
          body=_census_edit(lambda t: [r.__setitem__(t[0].index("MONTH"), "11") for r in t[1:]])),
    Fault("negative-value", "census", "a negative value", "rejected",
          body=_census_edit(lambda t: _set_first(t[0][2], "-5")(t))),
    Fault("text-value", "census", "a value 'N/A'", "rejected", body=_census_edit(lambda t: _set_first(t[0][2], "N/A")(t))),
    Fault("nan-value", "census", "a value 'NaN'", "rejected", body=_census_edit(lambda t: _set_first(t[0][2], "NaN")(t))),
    Fault("duplicate-row", "census", "the second row twice", "rejected", body=_census_edit(lambda t: t.insert(2, t[1]))),
    Fault("header-swapped", "census", "the exports answer labelled GEN_VAL_MO (an imports field)", "rejected",
          body=sub(rb'"ALL_VAL_MO"', b'"GEN_VAL_MO"'), target=r"^/census/exports/"),
    Fault("unknown-partner", "census", "CTY_CODE 9999 (not in Schedule C)", "rejected",
          body=_census_edit(lambda t: _set_first("CTY_CODE", "9999")(t))),
    Fault("scale-10000", "census", "every value ÷10,000 (a new vintage)", "quarantined",
          body=_census_edit(_census_scale), after_clean=True, target=r"^/census/imports/"),
]


# -------------------------------------------------------------------------------- Eurostat
def _eurostat_dup(body: bytes) -> bytes:
    lines = body.splitlines(keepends=True)
    return b"".join([*lines[:2], lines[1], *lines[2:]])


def _eurostat_swap(body: bytes) -> bytes:
    return re.sub(rb",(EXP|IMP),", lambda m: b",IMP," if m.group(1) == b"EXP" else b",EXP,", body)


EUROSTAT = [
    Fault("cut-at-line", "eurostat", "the CSV cut at a line boundary (half its lines)", "rejected", body=cut_lines),
    Fault("last-lines-lost", "eurostat", "the last three lines lost", "rejected",
          body=lambda b: b"".join(b.splitlines(keepends=True)[:-3])),
    Fault("header-only", "eurostat", "the header line only (a month due per the calendar)", "rejected",
          body=lambda b: b.splitlines(keepends=True)[0]),
    Fault("wrong-geo", "eurostat", "geo EA21 for an EA20 request", "rejected", body=sub(rb",EA20,", b",EA21,")),
    Fault("wrong-indicator", "eurostat", "indic_et BAL_RT", "rejected", body=sub(rb",TRD_VAL,", b",BAL_RT,")),
    Fault("negative-value", "eurostat", "a negative OBS_VALUE", "rejected",
          body=sub(rb",(\d+\.\d)(\r?\n)", rb",-\1\2", 1)),
    Fault("nan-value", "eurostat", "OBS_VALUE NaN", "rejected", body=sub(rb",(\d+\.\d)(\r?\n)", rb",NaN\2", 1)),
    Fault("empty-unflagged", "eurostat", "an empty OBS_VALUE without a flag", "rejected",
          body=sub(rb",(\d+\.\d)(\r?\n)", rb",\2", 1)),
    Fault("duplicate-line", "eurostat", "one line twice", "rejected", body=_eurostat_dup),
    Fault("wrong-period", "eurostat", "TIME_PERIOD 2019-12 outside the window", "rejected",
          body=sub(rb",2020-01,", b",2019-12,", 1)),
    Fault("column-missing", "eurostat", "the OBS_VALUE header renamed", "rejected", body=sub(rb"OBS_VALUE", b"VALUE", 1)),
    Fault("swapped-flows", "eurostat", "EXP and IMP exchanged (a new vintage)", "quarantined",
          body=_eurostat_swap, after_clean=True),
    Fault("xml-fault-200", "eurostat", "a SOAP fault body with 200", "rejected",
          body=lambda _b: b'<?xml version="1.0"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/">'
                          b"<S:Body><S:Fault><faultcode>500</faultcode><faultstring>Internal error"
                          b"</faultstring></S:Fault></S:Body></S:Envelope>"),
]


# ------------------------------------------------------------------------------------- ECB
ECB = [
    Fault("wrong-currency", "ecb", "the series of CNY served for the USD request", "rejected",
          body=sub(rb'\{"id": "USD"\}', b'{"id": "CNY"}')),
    Fault("wrong-denominator", "ecb", "CURRENCY_DENOM GBP", "rejected", body=sub(rb'\{"id": "EUR"\}', b'{"id": "GBP"}')),
    Fault("daily-frequency", "ecb", "FREQ D", "rejected", body=sub(rb'\{"id": "M"\}', b'{"id": "D"}')),
    Fault("unit-mult-6", "ecb", "UNIT_MULT 6 (millions)", "rejected",
          body=sub(rb'\{"id": "0", "name": "Units"\}', b'{"id": "6", "name": "Millions"}')),
    Fault("negative-rate", "ecb", "a negative rate", "rejected", body=sub(rb'"0": \[(\d)', rb'"0": [-\1')),
    Fault("infinity-rate", "ecb", "rate Infinity", "rejected", body=sub(rb'"0": \[[\d.]+', b'"0": [Infinity')),
    Fault("nan-rate", "ecb", "the month's only rate NaN: missing, so no rate at all", "rejected",
          body=sub(rb'"0": \[[\d.]+', b'"0": [NaN')),
    Fault("text-rate", "ecb", "rate as text", "rejected", body=sub(rb'"0": \[[\d.]+', b'"0": ["n/a"')),
    Fault("daily-period", "ecb", "TIME_PERIOD 2026-03-31", "rejected", body=sub(rb'\{"id": "2026-03"\}', b'{"id": "2026-03-31"}')),
    Fault("bad-series-index", "ecb", "series key 0:0:0:0:9", "rejected", body=sub(rb'"0:0:0:0:0"', b'"0:0:0:0:9"')),
    Fault("no-series", "ecb", "dataSets without series", "rejected",
          body=_json_edit(lambda d: d["dataSets"][0].__setitem__("series", {}))),
]


KINDS: list[Fault] = [
    *(fault for source in SOURCES for fault in transport(source)),
    *GACC, *COMTRADE, *IMF, *CENSUS, *EUROSTAT, *ECB,
]
