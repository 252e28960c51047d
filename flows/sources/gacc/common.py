"""What the GACC modules share: the source's constants and small text helpers.

See :mod:`flows.sources.gacc` for the publication contract these serve.
"""

from __future__ import annotations

import re
from datetime import date

from bs4 import Tag

NAME = "gacc"
REPORTER = "CHN"
#: The table this module reads: "(4) China's Total Export & Import Values by Country/Region".
SECTION = 4
CURRENCIES = ("CNY", "USD")
VALUATION = {"X": "FOB", "M": "CIF"}
#: From this month on, GACC's "European Union" excludes the United Kingdom.
EU27_FROM = date(2020, 2, 1)

MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
#: "(in CNY)" / "(in USD)" / "(in RMB)" at the end of a title.
TITLE_CURRENCY = re.compile(r"\(in\s+(?P<ccy>[A-Za-z$]+)\)\s*$", re.IGNORECASE)
#: "(N)" at the start of a title.
TITLE_SECTION = re.compile(r"^\((?P<section>\d+)\)")
#: Table (4)'s wording, also in the 2018 image-only title ("by Major Country (Region)").
BY_COUNTRY = re.compile(r"by\s+(major\s+)?country", re.IGNORECASE)


def text_of(node: Tag) -> str:
    """The text of ``node`` with nbsp as spaces and runs of whitespace collapsed."""
    return re.sub(r"\s+", " ", node.get_text("").replace("\xa0", " ")).strip()


def span(value: object) -> int:
    """A ``colspan``/``rowspan`` attribute as a count (1 when absent or not a number)."""
    try:
        return max(1, int(str(value)))
    except (TypeError, ValueError):
        return 1


def currency_code(text: str) -> str | None:
    """``CNY`` for CNY/RMB, ``USD`` for USD/US$, else ``None``."""
    return {"CNY": "CNY", "RMB": "CNY", "USD": "USD", "US$": "USD"}.get(text.strip().upper())


def month_from_text(text: str) -> int | None:
    """1–12 for "Feb.", " Mar.", "September", "Sept."; None otherwise."""
    word = text.strip().rstrip(".").strip().lower()
    if len(word) < 3 or word[:3] not in MONTHS:
        return None
    full = (
        "january february march april may june july august september october november december"
    ).split()[MONTHS[word[:3]] - 1]
    return MONTHS[word[:3]] if full.startswith(word) or word == "sept" else None

