"""UN Comtrade API v1 double: keyed ``data/v1/get`` and keyless ``public/v1/preview``.

Checks every request against the contract (each rule in :data:`RULES`, with its evidence and
confidence) and answers a bad one as Comtrade does: the recorded 401 body without a key, a 400
for a second period on the preview, the real **empty 200** for a period or flow code Comtrade
does not know (what it answers: comtradeapicall issue #18) — each recorded in
``StrictPublishers.refused``.

Good requests are answered from the recordings (China 2010 annual, India 2022 preview, every
reporter's 2021 monthly exports; :mod:`tests.builders.comtrade`) or, without ``shared/``, from
their **MADE-UP stand-ins** (``tests/fixtures/comtrade/*_made_up*``, the same layouts; header
``X-Test-Double: made-up values``). A **keyed monthly request for
China (156) in 2025–2026**, which no recording covers, is answered with **MADE-UP values** in the
v1 layout: the envelope carries ``_note``/``elapsedTime`` saying so and the response the header
``X-Test-Double: made-up values``. Anything else valid answers ``count: 0``.

Opt-in modes, deterministic (set on the instance, e.g. ``publishers.handlers["comtrade"]``):

* ``quota_exhausted = True`` — every call answers APIM's 403 "Out of call volume quota. Quota will
  be replenished in 03:14:17." with ``Retry-After: 11657`` (the same wait in seconds);
* ``rate_limited_calls = n`` — the next ``n`` calls answer 429 "Rate limit is exceeded. Try again
  in N seconds." with ``Retry-After: N`` (``retry_after_seconds``, default 1); the call after
  them is served normally.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from werkzeug.wrappers import Request, Response

from tests.builders import comtrade as comtrade_builder
from tests.double import DEFAULT_REAL, PublisherDouble, Refused, Rule, is_made_up, ok

NAME = "comtrade"
EMPTY = b'{"elapsedTime":"0.01 secs","count":0,"data":[],"error":""}'
KEY_HEADER = "Ocp-Apim-Subscription-Key"
MADE_UP_HEADER = {"X-Test-Double": "made-up values"}
MISSING_KEY = "comtrade/error_401_missing_subscription_key.json"
#: Without ``shared/`` (UN Comtrade recordings are not bundled): Azure API Management's standard
#: 401 body, the sentence the recording holds, labelled by ``X-Test-Double`` when served.
MISSING_KEY_BODY = (
    b'{ "statusCode": 401, "message": "Access denied due to missing subscription key. Make sure '
    b'to include subscription key when making requests to an API." }'
)
#: Classifications of the path (comtradr ``check_clCode`` and ``ct_get_bulk`` reference).
CLASSIFICATIONS = frozenset(
    {"HS", "H0", "H1", "H2", "H3", "H4", "H5", "H6", "S1", "S2", "S3", "S4", "SS", "B4", "B5",
     "EB", "EB02", "EB10", "EB10S"}
)  # fmt: skip
#: Query parameters of the data API (comtradeapicall ``PreviewGet.py`` ``PARAMS`` plus the key
#: parameter), compared case-insensitively (``reportercode`` and ``reporterCode`` both answer).
PARAMS = frozenset(
    {"reportercode", "flowcode", "period", "cmdcode", "partnercode", "partner2code", "motcode",
     "customscode", "maxrecords", "format", "aggregateby", "breakdownmode", "countonly",
     "includedesc", "subscription-key"}
)  # fmt: skip
#: Comtrade's flow reference (tradeRegimes.json), kept here apart from the module under test.
FLOWS = frozenset({"X", "M", "RX", "RM", "DX", "FM", "MIP", "MOP", "XIP", "XOP"})
_PATH = re.compile(r"/(data/v1/get|public/v1/preview)/([A-Z]+)/([A-Z]+)/([A-Z0-9]+)")

RULES: list[Rule] = [
    Rule(NAME, "path /data/v1/get/{C|S}/{A|M}/{cl} (keyed) or /public/v1/preview/... (keyless); "
         "anything else 404 {statusCode, message}",
         "comtradeapicall PreviewGet.py URL building; recorded requests (PROVENANCE.md); the 404 "
         "body shape is APIM's", "confirmed"),
    Rule(NAME, "the keyed endpoint needs the Ocp-Apim-Subscription-Key header (or subscription-key"
         "): else 401 with the recorded body and WWW-Authenticate: AzureApiManagementKey",
         "shared/data/real/comtrade/error_401_missing_subscription_key.json", "confirmed"),
    Rule(NAME, "known query parameter names only (case-insensitive); else 400",
         "comtradeapicall PreviewGet.py PARAMS; reporterCode (comtradr, keyed) and reportercode "
         "(SDK, preview) both recorded with data; whether unknown names are refused or ignored "
         "is not recorded", "unverified"),
    Rule(NAME, "preview: exactly one period per call; more → 400",
         "comtradeapicall _previewFinalData loops one period per call; koala73/worldmonitor "
         "issue #4646 (period=2023,2024 → 400, live); file-index ids 69443693903, 71578361064, "
         "69130236278, 67534427515; one contrary report (id 60014363070)", "consistent"),
    Rule(NAME, "preview: maxRecords at most 500; more → 400",
         "comtradeapicall PyPI page (preview max 500 records); a 400 rather than a silent cap "
         "is an assumption", "unverified"),
    Rule(NAME, "period YYYY for freq A, YYYYMM for freq M; flowCode from the flow reference; "
         "otherwise Comtrade answers an EMPTY 200 (count 0) — recorded here as a refusal",
         "Comtrade's answer in uncomtrade/comtradeapicall issue #18 (period format, flowCode -1)",
         "confirmed"),
    Rule(NAME, "quota mode: 403 {statusCode, message 'Out of call volume quota. Quota will be "
         "replenished in 03:14:17.'} with Retry-After",
         "file-index ids 21258530624, 71578361064; comtradr retries 403 with Retry-After",
         "consistent"),
    Rule(NAME, "rate mode: 429 'Rate limit is exceeded. Try again in N seconds.' with Retry-After",
         "uncomtrade/comtradeapicall issue #3 (APIM wording)", "confirmed"),
    Rule(NAME, "400 body: the v1 envelope with the sentence in 'error' (wording the double's)",
         "no 400 body is recorded; the v1 envelope's error field is the API's own error slot",
         "unverified"),
]


def missing_key_body(real: Path = DEFAULT_REAL) -> bytes:
    """The recorded 401 body (``real/`` + :data:`MISSING_KEY`), else :data:`MISSING_KEY_BODY`."""
    path = Path(real) / MISSING_KEY
    return path.read_bytes() if path.is_file() else MISSING_KEY_BODY


def _apim(status: int, message: str, headers: dict | None = None) -> Response:
    body = json.dumps({"statusCode": status, "message": message}).encode()
    return ok(body, "application/json", status=status, headers=headers)


def _bad_request(message: str) -> Response:
    body = json.dumps({"elapsedTime": "0.00 secs", "count": 0, "data": [], "error": message})
    return ok(body.encode(), "application/json", status=400)


class Double(PublisherDouble):
    name = NAME

    def __init__(self, real: Path = DEFAULT_REAL):
        super().__init__(real)
        self.quota_exhausted = False
        self.rate_limited_calls = 0
        self.retry_after_seconds = 1

    def handle(self, request: Request, path: str) -> Response | None:
        match = _PATH.fullmatch(path)
        if not match or match.group(2) not in ("C", "S") or match.group(3) not in ("A", "M") or (
            match.group(4) not in CLASSIFICATIONS
        ):
            raise Refused(_apim(404, "Resource not found"), f"unknown path {path}")
        keyed = match.group(1) == "data/v1/get"
        freq = match.group(3)
        args = {k.lower(): v for k, v in request.args.items()}
        if keyed and not (request.headers.get(KEY_HEADER) or args.get("subscription-key")):
            body = missing_key_body(self.real)
            headers = {"WWW-Authenticate": "AzureApiManagementKey"}  # sources.md §1
            if body is MISSING_KEY_BODY:  # plain clone: the recording is not bundled (terms unclear)
                headers["X-Test-Double"] = "reconstructed body, recording absent"
            raise Refused(ok(body, "application/json", status=401, headers=headers),
                          "keyed endpoint without a subscription key")
        if self.quota_exhausted:
            return _apim(403, "Out of call volume quota. Quota will be replenished in 03:14:17.",
                         {"Retry-After": str(3 * 3600 + 14 * 60 + 17)})
        if self.rate_limited_calls > 0:
            self.rate_limited_calls -= 1
            wait = self.retry_after_seconds
            return _apim(429, f"Rate limit is exceeded. Try again in {wait} seconds.",
                         {"Retry-After": str(wait)})
        unknown = sorted(set(args) - PARAMS)
        if unknown:
            raise Refused(_bad_request(f"Unknown parameter(s): {', '.join(unknown)}"),
                          f"unknown parameters {unknown}")
        periods = [p for p in args.get("period", "").split(",") if p]
        if not keyed and len(periods) > 1:
            raise Refused(
                _bad_request("The preview accepts one period per call."),
                f"preview with {len(periods)} periods",
            )
        if not keyed and int(args.get("maxrecords", "500") or 0) > 500:
            raise Refused(_bad_request("maxRecords cannot exceed 500 in the preview."),
                          f"preview maxRecords {args['maxrecords']}")
        pattern = r"\d{4}" if freq == "A" else r"\d{4}(0[1-9]|1[0-2])"
        bad = [p for p in periods if not re.fullmatch(pattern, p)]
        flows = [f for f in args.get("flowcode", "").split(",") if f]
        bad_flows = sorted(set(flows) - FLOWS)
        if bad or bad_flows:
            raise Refused(ok(EMPTY, "application/json"),
                          f"periods {bad} do not match freq {freq} / unknown flowCode {bad_flows}"
                          " (Comtrade answers an empty 200)")
        return self.answer(freq, keyed, args, set(periods), flows)

    def answer(self, freq: str, keyed: bool, args: dict, periods: set[str], flows: list[str]):
        reporters = {int(c) for c in args.get("reportercode", "").split(",") if c.isdigit()}
        partners = [int(c) for c in args.get("partnercode", "").split(",") if c.isdigit()]
        if freq == "A" and 156 in reporters and "2010" in periods:
            return self.file("comtrade/get_C_A_HS_r156_p32-280-276_2010_TOTAL.json", "application/json")
        if freq == "A" and 699 in reporters and "2022" in periods:
            return self.file("comtrade/preview_C_A_HS_ind_699_X_2022_TOTAL_world.json", "application/json")
        if freq == "M" and any(p.startswith("2021") for p in periods):
            path_2021 = self.path(comtrade_builder.MONTHLY_2021)  # else its MADE-UP stand-in
            if path_2021 is not None and "X" in (flows or ["X"]) and 0 in (partners or [0]):
                return ok(
                    comtrade_builder.monthly_exports_json(path_2021, reporters, periods),
                    "application/json", headers=MADE_UP_HEADER if is_made_up(path_2021) else None,
                )
        made_up = sorted(p for p in periods if p[:4] in ("2025", "2026"))
        if keyed and freq == "M" and reporters == {156} and made_up:
            body = comtrade_builder.made_up_json(
                156, [p for p in partners or [0] if p != 156],  # no self trade
                [f for f in flows or ["X", "M"] if f in ("X", "M")], made_up,
            )
            return ok(body, "application/json", headers=MADE_UP_HEADER)
        return ok(EMPTY, "application/json")
