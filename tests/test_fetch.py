"""A payload must answer the request that fetched it (flows.fetch.check_answers_request).

The frames here are made up (one observation each); they test the rule, not figures.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from flows.fetch import check_answers_request
from flows.schema import OBSERVATION_SCHEMA
from flows.sources.base import FetchRequest, ParseError

REQUEST = FetchRequest(
    source="imf", url="http://127.0.0.1:9/imf/data", reporter="USA",
    period_start=date(2024, 11, 1), period_end=date(2024, 12, 1),
)


def _frame(reporter="USA", start=date(2024, 12, 1), end=date(2024, 12, 1)) -> pl.DataFrame:
    row = {
        "source": "imf", "reporter": reporter, "partner": "WLD", "partner_kind": "world",
        "flow": "X", "period_start": start, "period_end": end, "months": 1,
        "period_type": "month", "commodity": "TOTAL", "value": 1.0, "currency": "USD",
        "valuation": "FOB", "status": "reported", "published_yoy": None, "release": "made up",
        "vintage": None,
    }
    return pl.DataFrame([row], schema=OBSERVATION_SCHEMA)


def test_rows_of_the_requested_reporter_and_months_pass():
    check_answers_request(_frame(), REQUEST)
    # a year-to-date row starts before the window but ends inside it
    check_answers_request(_frame(start=date(2024, 1, 1)), REQUEST)


def test_another_reporter_is_rejected():
    with pytest.raises(ParseError, match=r"imf: GET .*payload reports \['FRA'\].*reporter USA"):
        check_answers_request(_frame(reporter="FRA"), REQUEST)


def test_rows_outside_the_requested_months_are_rejected():
    with pytest.raises(ParseError, match="outside the requested months 2024-11..2024-12"):
        check_answers_request(_frame(start=date(2019, 1, 1), end=date(2019, 1, 1)), REQUEST)
