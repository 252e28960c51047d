"""GACC partner labels: the printed row labels of table (4) mapped to the pipeline's codes.

The labels are mapped through ``flows/data/gacc_partners.csv`` (columns ``label, code, kind``),
never from indentation: "of which: Germany" is a country row printed under "European Union", not
a part to be summed. Labels are normalised first (nbsp → space, runs of spaces collapsed,
"of which:" removed, ", " after commas: "Taiwan,China" = "Taiwan, China"). The European Union is
``EU27_2020`` for periods ending in or after February 2020 and ``EU28`` before (GACC footnote on
the January–February 2025 page: "From February 1, 2020, the EU trade value does not include UK
data") [confirmed: printed on the recorded page].
"""

from __future__ import annotations

import csv
import re
from datetime import date
from functools import lru_cache
from importlib import resources

from flows.reference import AGGREGATES, UnknownCodeError, is_country
from flows.schema import WORLD
from flows.sources.base import FetchRequest, ParseError
from flows.sources.gacc.common import EU27_FROM, NAME


class UnknownLabelError(ParseError, UnknownCodeError):
    """A table (4) row label missing from ``gacc_partners.csv``, found while parsing a page.

    Both a :class:`~flows.sources.base.ParseError` (the page fails a check: it is quarantined,
    never loaded) and an :class:`~flows.reference.UnknownCodeError` (``source``, ``code`` = the
    normalised label), so callers of either kind catch it.
    """

    def __init__(self, request: FetchRequest, label: str):
        UnknownCodeError.__init__(self, NAME, label)
        ParseError.__init__(self, NAME, request.describe(), str(self.args[0]).removeprefix("gacc: "))
        self.code = label


def normalise_label(label: str) -> str:
    """A partner label as looked up: nbsp → space, spaces collapsed, "of which:" removed."""
    text = re.sub(r"\s+", " ", label.replace("\xa0", " ")).strip()
    text = re.sub(r"^of\s+which\s*:\s*", "", text, flags=re.IGNORECASE)
    return re.sub(r"\s*,\s*", ", ", text)


@lru_cache(maxsize=1)
def partner_table() -> dict[str, tuple[str, str]]:
    """``flows/data/gacc_partners.csv`` as {casefolded normalised label: (code, kind)}.

    Raises :class:`ValueError` when a row's code does not fit its kind (world = WLD, aggregate =
    a code of :data:`flows.reference.AGGREGATES`, country = an ISO 3166-1 alpha-3 code) or a
    label appears twice with different codes.
    """
    table: dict[str, tuple[str, str]] = {}
    text = resources.files("flows.data").joinpath("gacc_partners.csv").read_text("utf-8")
    for row in csv.DictReader(text.splitlines()):
        label, code, kind = normalise_label(row["label"]), row["code"].strip(), row["kind"].strip()
        valid = {
            "world": code == WORLD,
            "aggregate": code in AGGREGATES and code != WORLD,
            "country": is_country(code),
        }.get(kind, False)
        if not valid:
            raise ValueError(f"gacc_partners.csv: {row['label']!r} has code {code!r} kind {kind!r}")
        key = label.casefold()
        if table.get(key, (code, kind)) != (code, kind):
            raise ValueError(f"gacc_partners.csv: label {row['label']!r} mapped twice")
        table[key] = (code, kind)
    return table


def partner_code(label: str, period_end: date) -> tuple[str, str]:
    """(code, partner_kind) of a printed partner label for a period ending ``period_end``.

    The EU is ``EU27_2020`` when ``period_end`` is February 2020 or later, else ``EU28``.
    Raises :class:`UnknownCodeError` (source ``gacc``) for a label not in the table.
    """
    found = partner_table().get(normalise_label(label).casefold())
    if found is None:
        raise UnknownCodeError(NAME, normalise_label(label))
    code, kind = found
    if code == "EU27_2020" and period_end < EU27_FROM:
        code = "EU28"
    return code, kind



def partner_code_for(label: str, period_end: date, request: FetchRequest) -> tuple[str, str]:
    """:func:`partner_code` for a row of the page fetched by ``request``; an unknown label
    raises :class:`UnknownLabelError` naming the request."""
    try:
        return partner_code(label, period_end)
    except UnknownCodeError:
        raise UnknownLabelError(request, normalise_label(label)) from None
