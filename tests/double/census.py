"""US Census international trade API double: ``exports/hs`` and ``imports/hs`` by country.

What it answers (each rule is a :class:`Rule` in :data:`RULES`, with evidence and confidence):

* ``/exports/hs`` and ``/imports/hs`` only; any other path is refused with 404.
* ``get=`` is required and may name only the variables the endpoint is known to carry
  (:data:`VARIABLES`); an unknown one is refused with HTTP 400 and Census's plain-text sentence
  ``error: unknown variable 'XYZ'``.
* Predicates: ``YEAR`` + ``MONTH`` or ``time=YYYY-MM`` (one month), ``key`` (accepted, never
  checked), or a known variable used as a filter (only ``CTY_CODE`` is applied); any other name is
  refused with 400 ``error: unknown predicate variable: 'FOO'``.
* Months 2013-01…2024-12 are answered from the recorded rows (``tests/builders/census.py``), as a
  JSON array of arrays whose header is the ``get`` variables then the predicate variables echoed.
  Without ``shared/``, the bundled sample (``tests/fixtures/census/sample/``: the same rows for
  2024-10…2024-12, public domain) answers those three months; other recorded-range months are
  then "not recorded" (404).
* Months after the last published one (:attr:`Double.published_through`, by default the last
  recorded month 2024-12) are answered **204 No Content with an empty body**, Census's "no rows".
  Months between the recordings and ``published_through`` (set by a test to pretend later months
  are out) are answered with **made-up** values, labelled ``X-Test-Double: made-up values`` and
  with every ``CTY_NAME`` ending in ``(MADE UP)``.
* ``GEN_CIF_MO`` (imports CIF) is not recorded: it is answered with **made-up** values (the
  recorded customs value × 1.05, rounded), labelled by the same header. Never assert them as real.
* Known variables the recordings do not hold (``CON_VAL_MO``, commodity detail, ...) and months
  before 2013 are "not recorded": 404 (not a refusal).
"""

from __future__ import annotations

import json
import re

from werkzeug.wrappers import Request, Response

from tests.double import PublisherDouble, Refused, Rule, month_range, ok

NAME = "census"
FILES = {
    "exports": "census/intltrade_exports_hs_cty_ALL_VAL_MO_allcountries_2013-01_2024-12_rdataframe.csv",
    "imports": "census/intltrade_imports_hs_cty_GEN_VAL_MO_allcountries_2013-01_2024-12_rdataframe.csv",
}
#: First and last month of the recordings.
RECORDED = ("2013-01", "2024-12")
#: Variables of each endpoint the double knows (sources.md §2 "Format"; the recorded requests of
#: PROVENANCE.md second pass). The live endpoints carry more (quantities, modes of transport):
#: the double refuses those too, which is stricter than Census, never looser.
COMMON = {"CTY_CODE", "CTY_NAME", "COMM_LVL", "SUMMARY_LVL", "YEAR", "MONTH"}
VARIABLES = {
    "exports": COMMON | {"ALL_VAL_MO", "ALL_VAL_YR", "E_COMMODITY", "E_COMMODITY_LDESC",
                         "E_COMMODITY_SDESC"},
    "imports": COMMON | {"GEN_VAL_MO", "GEN_VAL_YR", "CON_VAL_MO", "CON_VAL_YR", "GEN_CIF_MO",
                         "GEN_CIF_YR", "I_COMMODITY", "I_COMMODITY_LDESC", "I_COMMODITY_SDESC"},
}
#: The value variable each recorded file holds.
RECORDED_VALUE = {"exports": "ALL_VAL_MO", "imports": "GEN_VAL_MO"}
MADE_UP = {"X-Test-Double": "made-up values"}
#: Factor of the made-up CIF values over the recorded customs values (not a published ratio).
MADE_UP_CIF_FACTOR = 1.05

RULES: list[Rule] = [
    Rule(NAME, "path is /exports/hs or /imports/hs; anything else 404",
         "sources.md §2 endpoints; the 404 body of an unknown dataset is not documented (one "
         "client's fake answers 404 'unknown dataset', file-index id 71427374786)", "unverified"),
    Rule(NAME, "get= is required",
         "every documented query has get= (Census 'Guide to Using U.S. International Trade "
         "Datasets in the Census API', sources.md §2); the live wording of the refusal is not "
         "recorded (a live log shows \"error: missing 'for' argument\" for another dataset, "
         "file-index id 61485686690)", "unverified"),
    Rule(NAME, "unknown get variable → 400 text/plain \"error: unknown variable 'XYZ'\"",
         "tidycensus tests (file-index id 71448483614), a TypeScript client's pattern "
         "(id 69063697813), live reports in walkerke/tidycensus #376/#334/#200 and "
         "jtleider/censusdata #40 (there with a doubled 'error: error:' prefix)", "consistent"),
    Rule(NAME, "unknown predicate → 400 text/plain \"error: unknown predicate variable: 'FOO'\"",
         "a live log (file-index id 61485686690) and two clients (ids 68837469517, 71427374786)",
         "consistent"),
    Rule(NAME, "one month per request: YEAR+MONTH or time=YYYY-MM",
         "the form the recordings were fetched with (PROVENANCE.md second pass); Census would "
         "answer every month without a period predicate — the double refuses it because the "
         "pipeline never means to ask that", "unverified"),
    Rule(NAME, "key= accepted (not checked)",
         "the Guide, p.2: 500 calls a day without a key, a free key beyond", "confirmed"),
    Rule(NAME, "a month with no rows → 204 No Content, empty body",
         "live_contracts.md §4: hrecht/censusapi handles 204, users log '204, no content was "
         "returned' for intltrade/imports/hs, censusapi issue #54", "consistent"),
    Rule(NAME, "GEN_CIF_MO answered with made-up values, labelled X-Test-Double",
         "not recorded; sources.md §2 names GEN_CIF_* among the imports variables", "consistent"),
]


def _refuse_400(text: str, reason: str) -> Refused:
    return Refused(Response(text, status=400, content_type="text/plain;charset=utf-8"), reason)


class Double(PublisherDouble):
    name = NAME
    #: The last month the double pretends Census has published (``YYYY-MM``); later months
    #: answer 204. A test may move it past the recordings (those months are made up).
    published_through = RECORDED[1]

    def handle(self, request: Request, path: str) -> Response | None:
        match = re.fullmatch(r"/(exports|imports)/hs", path)
        if not match:
            raise Refused(
                Response(f"unknown dataset: {path}\n", status=404, content_type="text/plain"),
                f"path {path} is not /exports/hs or /imports/hs",
            )
        direction = match.group(1)
        known = VARIABLES[direction]
        get = request.args.get("get", "")
        if "get" not in request.args or not get.strip():
            raise _refuse_400("error: missing 'get' argument", "no get= variables")
        variables = [v.strip() for v in get.split(",")]
        for variable in variables:
            if variable not in known:
                raise _refuse_400(f"error: unknown variable '{variable}'", f"unknown get {variable}")
        predicates = [(k, v) for k, v in request.args.items(multi=True) if k not in ("get", "key")]
        for name, _value in predicates:
            if name != "time" and name not in known:
                raise _refuse_400(f"error: unknown predicate variable: '{name}'",
                                  f"unknown predicate {name}")
        names = {name for name, _ in predicates}
        if "time" in names:
            month = request.args["time"]
            if not re.fullmatch(r"\d{4}-\d{2}", month) or {"YEAR", "MONTH"} & names:
                raise _refuse_400(f"error: (test double) time={month!r} is not one month YYYY-MM",
                                  "time is not one month")
        elif {"YEAR", "MONTH"} <= names:
            year, number = request.args["YEAR"], request.args["MONTH"]
            if not (year.isdigit() and number.isdigit() and 1 <= int(number) <= 12):
                raise _refuse_400(f"error: (test double) YEAR={year!r} MONTH={number!r} is not one "
                                  "month", "YEAR/MONTH is not one month")
            month = f"{int(year):04d}-{int(number):02d}"
        else:
            raise _refuse_400("error: (test double) ask for one month: YEAR and MONTH, or time",
                              "no period predicate")
        return self._answer(direction, variables, predicates, month)

    def _answer(self, direction: str, variables: list[str], predicates, month: str) -> Response | None:
        if month > self.published_through:
            return Response(b"", status=204)  # Census's "no rows": empty body, no content type
        value_fields = [v for v in variables if v.endswith(("_MO", "_YR"))]
        answerable = {RECORDED_VALUE[direction]} | ({"GEN_CIF_MO"} if direction == "imports" else set())
        recorded = answerable | {"CTY_CODE", "CTY_NAME", "YEAR", "MONTH"}
        if not value_fields or set(variables) - recorded or month < RECORDED[0]:
            return None  # a known variable or month the recordings do not hold
        if {name for name, _ in predicates} - {"YEAR", "MONTH", "time", "CTY_CODE"}:
            return None  # commodity or summary-level detail: not recorded
        found = self._rows(direction, month)
        if found is None:
            return None  # a month neither the recording nor the bundled sample holds
        rows, made_up = found
        wanted = [v for name, v in predicates if name == "CTY_CODE"]
        if wanted:
            rows = [r for r in rows if r["CTY_CODE"] in wanted]
        if "GEN_CIF_MO" in variables:
            made_up = True
            for row in rows:
                row["GEN_CIF_MO"] = str(round(int(row["GEN_VAL_MO"]) * MADE_UP_CIF_FACTOR))
        if not rows:
            return Response(b"", status=204)
        echoed = [name for name, _ in predicates if name not in variables]
        header = variables + list(dict.fromkeys(echoed))
        values = {name: value for name, value in predicates}
        lines = [json.dumps(header, separators=(",", ":"))]
        for row in rows:
            cells = [row[name] if name in row else values.get(name) for name in header]
            lines.append(json.dumps(cells, separators=(",", ":")))
        body = ("[" + ",\n".join(lines) + "]").encode("utf-8")
        return ok(body, "application/json;charset=utf-8", headers=MADE_UP if made_up else None)

    def _rows(self, direction: str, month: str) -> tuple[list[dict], bool] | None:
        """The month's rows as dicts of strings, and whether they are made up; ``None`` when the
        month is in the recorded range but neither the recording nor its bundled sample
        (``tests/fixtures/census/sample/``, 2024-10…2024-12) holds it."""
        from tests.builders import census as census_builder

        if month <= RECORDED[1]:
            path = self.path(FILES[direction])
            if path is None:
                return None
            year, number = month.split("-")
            rows = census_builder.census_rows(path, int(year), int(number))
            return (rows, False) if rows else None
        if month not in month_range(RECORDED[1], self.published_through):
            return [], False
        field = RECORDED_VALUE[direction]
        year, number = month.split("-")
        rows = census_builder.made_up_rows(field, int(year), int(number))
        return rows, True
