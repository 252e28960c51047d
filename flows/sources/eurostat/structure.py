"""Eurostat SDMX 2.1 structure messages: the data structure definition and the content constraint.

Both come from the dissemination API as SDMX-ML 2.1 ``Structure`` messages (namespaces
``…/v2_1/message`` ``m``, ``…/structure`` ``s``, ``…/common`` ``c``), as in the live responses
recorded by cyanheads/eurostat-mcp-server (``tests/fixtures/comext/ds-045409-datastructure.xml``
and ``ds-045409-constraint.xml`` @ ``89c61bb939ced3366a74e2c09dbed67263a3d9fe``):

* ``GET {base}/sdmx/2.1/datastructure/ESTAT/<DSD id>`` — ``s:DataStructure`` whose
  ``s:DimensionList`` holds ``s:Dimension id=… position=…`` (the **key order**: Eurostat's rule
  is that the key follows "the exact order of dimensions set by the data structure definition",
  https://wikis.ec.europa.eu/x/5ILmB) and one ``s:TimeDimension`` (``TIME_PERIOD``).
* ``GET {base}/sdmx/2.1/contentconstraint/ESTAT/<id>`` — ``s:ContentConstraint type="Actual"``
  with ``s:CubeRegion include="true"``, each ``c:KeyValue id=<dimension>`` listing the codes the
  dataset carries as ``c:Value``; ``TIME_PERIOD`` is listed the same way (``2024-01``, ``2024``,
  …). Eurostat validates the codes of a data query against this constraint (fault 150, API FAQ
  https://wikis.ec.europa.eu/x/5giyBQ).

Several include regions are read as a union; each region's ``TIME_PERIOD`` values say in which
months its codes have data (that is how a composition that stops — ``EA20`` after 2025-12 — is
told from the dataset's latest month). A ``c:TimeRange`` (``StartPeriod``/``EndPeriod``) is read
as the months between. Exclusion regions (``include="false"``) raise ParseError.

Parsed with :func:`flows.sources.base.xml_root` (no entities, no network). Errors: a body that is
not such a message, no or several data structures, a dimension without id, duplicate positions →
:class:`~flows.sources.base.ParseError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from flows.schema import add_months
from flows.sources.base import FetchRequest, parse_error, xml_root

NS = {
    "m": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message",
    "s": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure",
    "c": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common",
}
TIME = "TIME_PERIOD"


@dataclass(frozen=True)
class DataStructure:
    """A DSD: ``id``, the key ``dimensions`` in position order (time excluded), ``time``."""

    id: str
    dimensions: tuple[str, ...]
    time: str = TIME

    def key(self, values: Mapping[str, Iterable[str]]) -> str:
        """The SDMX 2.1 path key: one position per dimension, codes joined by ``+``.

        ``values`` maps dimension id (any case) → codes. Raises ``KeyError`` naming a DSD dimension
        with no codes, or a dimension the DSD does not have.
        """
        wanted = {name.lower(): list(codes) for name, codes in values.items()}
        dims = [d.lower() for d in self.dimensions]
        unknown = sorted(set(wanted) - set(dims))
        if unknown:
            raise KeyError(f"DSD {self.id} has no dimension {unknown} (its key: {self.order})")
        empty = [d for d in dims if not wanted.get(d)]
        if empty:
            raise KeyError(f"DSD {self.id} dimension(s) {empty} have no code to ask for "
                           f"(its key: {self.order})")
        return ".".join("+".join(wanted[d]) for d in dims)

    @property
    def order(self) -> str:
        return ".".join(self.dimensions)


@dataclass(frozen=True)
class CubeRegion:
    """One include region: dimension id (lower case) → codes; ``TIME_PERIOD`` under ``time``."""

    values: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def months(self) -> frozenset[str] | None:
        """``YYYY-MM`` periods of the region (``None``: time not constrained)."""
        periods = self.values.get(TIME.lower())
        if periods is None:
            return None
        return frozenset(p for p in periods if len(p) == 7 and p[4] == "-" and p[5:].isdigit())


@dataclass(frozen=True)
class ContentConstraint:
    """An actual content constraint: its ``id`` and include ``regions``."""

    id: str
    regions: tuple[CubeRegion, ...]

    def codes(self, dimension: str) -> frozenset[str] | None:
        """Codes of ``dimension`` over all regions; ``None`` when no region constrains it."""
        found = [r.values[dimension.lower()] for r in self.regions if dimension.lower() in r.values]
        if not found:
            return None
        return frozenset().union(*found)

    def carries(self, dimension: str, code: str) -> bool:
        codes = self.codes(dimension)
        return codes is None or code in codes

    def regions_with(self, dimension: str, code: str) -> tuple[CubeRegion, ...]:
        return tuple(
            r for r in self.regions
            if dimension.lower() not in r.values or code in r.values[dimension.lower()]
        )

    def months_with(self, dimension: str, code: str) -> frozenset[str] | None:
        """Months in which regions carrying ``code`` have data (``None``: unconstrained)."""
        months: set[str] = set()
        for region in self.regions_with(dimension, code):
            periods = region.months()
            if periods is None:
                return None
            months |= periods
        return frozenset(months)

    def latest_month(self) -> str | None:
        """The latest ``YYYY-MM`` of any region (the dataset's latest month)."""
        months = [m for r in self.regions for m in (r.months() or ())]
        return max(months) if months else None

    def codes_with(self, dimension: str, where: str, code: str) -> frozenset[str] | None:
        """Codes of ``dimension`` in the regions that carry ``where`` = ``code``."""
        found = []
        for region in self.regions_with(where, code):
            if dimension.lower() not in region.values:
                return None
            found.append(region.values[dimension.lower()])
        return frozenset().union(*found) if found else frozenset()


def read_datastructure(body: bytes, request: FetchRequest) -> DataStructure:
    """The one data structure of a ``datastructure`` answer. Raises ParseError."""
    root = xml_root(body, request)
    found = root.findall(".//s:DataStructure", NS)
    if len(found) != 1:
        raise parse_error(request, f"expected one s:DataStructure, found {len(found)}")
    dsd = found[0]
    positions: list[tuple[int, int, str]] = []
    for number, element in enumerate(dsd.findall(".//s:DimensionList/s:Dimension", NS)):
        name = (element.get("id") or "").strip()
        if not name:
            raise parse_error(request, f"DSD {dsd.get('id')}: a dimension has no id")
        position = element.get("position")
        try:
            rank = int(position) if position is not None else number + 1
        except ValueError:
            raise parse_error(request, f"DSD dimension {name}: position {position!r}") from None
        positions.append((rank, number, name))
    if not positions:
        raise parse_error(request, f"DSD {dsd.get('id')} lists no dimensions")
    ranks = [rank for rank, _, _ in positions]
    if len(set(ranks)) != len(ranks):
        raise parse_error(request, f"DSD {dsd.get('id')}: duplicate dimension positions {ranks}")
    time = dsd.find(".//s:DimensionList/s:TimeDimension", NS)
    return DataStructure(
        id=dsd.get("id") or "",
        dimensions=tuple(name for _, _, name in sorted(positions)),
        time=(time.get("id") if time is not None else None) or TIME,
    )


def read_constraint(body: bytes, request: FetchRequest) -> ContentConstraint:
    """The content constraint of a ``contentconstraint`` answer. Raises ParseError."""
    root = xml_root(body, request)
    found = root.findall(".//s:ContentConstraint", NS)
    if len(found) != 1:
        raise parse_error(request, f"expected one s:ContentConstraint, found {len(found)}")
    constraint = found[0]
    regions = []
    for region in constraint.findall("s:CubeRegion", NS):
        if (region.get("include") or "true").lower() != "true":
            raise parse_error(request, "exclusion cube regions (include=false) are not supported")
        values: dict[str, frozenset[str]] = {}
        for key_value in region.findall("c:KeyValue", NS):
            name = (key_value.get("id") or "").strip().lower()
            if not name:
                raise parse_error(request, "a c:KeyValue has no id")
            codes = {(v.text or "").strip() for v in key_value.findall("c:Value", NS)}
            time_range = key_value.find("c:TimeRange", NS)
            if time_range is not None:
                codes |= _range_months(request, time_range)
            values[name] = frozenset(c for c in codes if c)
        regions.append(CubeRegion(values))
    if not regions:
        raise parse_error(request, f"constraint {constraint.get('id')} has no cube region")
    return ContentConstraint(id=constraint.get("id") or "", regions=tuple(regions))


def _range_months(request: FetchRequest, element) -> set[str]:
    start = element.find("c:StartPeriod", NS)
    end = element.find("c:EndPeriod", NS)
    if start is None or end is None:
        raise parse_error(request, "a c:TimeRange without StartPeriod and EndPeriod")
    try:
        first = date.fromisoformat((start.text or "").strip()[:7] + "-01")
        last = date.fromisoformat((end.text or "").strip()[:7] + "-01")
    except ValueError:
        raise parse_error(request, f"TimeRange {start.text!r}..{end.text!r}") from None
    months = set()
    while first <= last and len(months) < 1200:
        months.add(f"{first:%Y-%m}")
        first = add_months(first, 1)
    return months
