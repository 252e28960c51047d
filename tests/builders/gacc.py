"""MADE-UP China customs (GACC) pages in the real layout: ``tests/fixtures/gacc/*_made_up*.html``.

China customs' pages are not redistributable, so a plain clone holds no recording of them. The
functions here write labelled made-up pages whose HTML has the layout of the recordings in
``../shared/data/real/gacc_html/`` (docs/gacc_pages.md) — the same elements, attributes, classes,
row shading, partner labels with their ``&nbsp;`` indents, header rows, unit line, ``Note:`` row,
line endings — with **invented figures**. Navigation, header and footer of the site, which no
parser reads, are left out. Each page opens with a comment and ends with a ``Note:`` row saying it
is made up.

The figures are internally consistent: Export & Import = Export + Import on every row and column;
each aggregate = its listed members + a made-up remainder for unlisted members (so the European
Union exceeds Germany + Netherlands + France + Italy, as on the real page); RCEP = ASEAN + Japan +
R. O. Korea + Australia + New Zealand exactly (its 14 non-Chinese members); Total = the
non-overlapping rows + the rest of the world; a cumulative column is ``months`` times the
single-month one; the Export & Import year-on-year is the one implied by the Export and Import
ones (on prior-year bases value / (1 + yoy)).

Run ``uv run python -m tests.builders.gacc`` to rewrite the fixtures; ``tests/test_gacc_site.py``
checks that the files equal what the builder writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gacc"
REAL_HOST = "http://english.customs.gov.cn"
D = Decimal

#: The 30 rows of table (4), in page order: (key, label as printed with its ``&nbsp;`` indent).
#: Layout of both recorded pages (docs/gacc_pages.md §1-2); the keys are the builder's own.
PARTNERS: tuple[tuple[str, str], ...] = (
    ("WLD", "Total"),
    ("EU", "&nbsp;&nbsp;European Union"),
    ("DEU", "&nbsp;" * 7 + "of which: Germany"),
    ("NLD", "&nbsp;" * 17 + "Netherlands"),
    ("FRA", "&nbsp;" * 17 + "France"),
    ("ITA", "&nbsp;" * 17 + "Italy"),
    ("USA", "&nbsp;&nbsp;&nbsp;United States (US)"),
    ("ASEAN", "&nbsp;&nbsp;&nbsp;ASEAN&nbsp;"),
    ("VNM", "&nbsp;" * 8 + "of which: Vietnam"),
    ("MYS", "&nbsp;" * 18 + "Malaysia"),
    ("THA", "&nbsp;" * 18 + "Thailand"),
    ("SGP", "&nbsp;" * 18 + "Singapore"),
    ("IDN", "&nbsp;" * 18 + "Indonesia"),
    ("PHL", "&nbsp;" * 18 + "Philippines"),
    ("JPN", "&nbsp;&nbsp;&nbsp;Japan"),
    ("HKG", "&nbsp;&nbsp;&nbsp;Hong Kong, China"),
    ("KOR", "&nbsp;&nbsp;&nbsp;R. O. Korea"),
    ("TWN", "&nbsp;&nbsp;&nbsp;Taiwan, China"),
    ("AUS", "&nbsp;&nbsp;&nbsp;Australia"),
    ("RUS", "&nbsp;&nbsp;&nbsp;Russian Federation"),
    ("IND", "&nbsp;&nbsp;&nbsp;India"),
    ("GBR", "&nbsp;&nbsp;&nbsp;United Kingdom (UK)"),
    ("CAN", "&nbsp;&nbsp;&nbsp;Canada"),
    ("NZL", "&nbsp;&nbsp;&nbsp;New Zealand"),
    ("LATAM", "&nbsp;&nbsp;&nbsp;Latin America"),
    ("BRA", "&nbsp;" * 9 + "of which: Brazil"),
    ("AFRICA", "&nbsp;&nbsp;&nbsp;Africa"),
    ("ZAF", "&nbsp;" * 9 + "of which: South Africa"),
    ("RCEP", "Regional Comprehensive Economic Partnership"),
    ("BRI", "Jointly build the countries along Belt and Road Routes"),
)

#: MADE-UP single-month (export, import) figures, CNY 100 million, of the rows that are not sums,
#: and of the unlisted remainders ("EU other" = the EU members without a row of their own).
MONTH_MADE_UP: dict[str, tuple[str, str]] = {
    "DEU": ("700.0", "600.0"), "NLD": ("600.0", "100.0"), "FRA": ("300.0", "200.0"),
    "ITA": ("250.0", "150.0"), "EU other": ("1,150.0", "550.0"),
    "USA": ("2,000.0", "800.0"),
    "VNM": ("900.0", "500.0"), "MYS": ("400.0", "400.0"), "THA": ("350.0", "250.0"),
    "SGP": ("300.0", "150.0"), "IDN": ("350.0", "300.0"), "PHL": ("250.0", "100.0"),
    "ASEAN other": ("450.0", "300.0"),
    "JPN": ("1,000.0", "800.0"), "HKG": ("2,500.0", "100.0"), "KOR": ("1,000.0", "900.0"),
    "TWN": ("500.0", "1,500.0"), "AUS": ("450.0", "1,000.0"), "RUS": ("700.0", "900.0"),
    "IND": ("1,000.0", "150.0"), "GBR": ("500.0", "150.0"), "CAN": ("250.0", "150.0"),
    "NZL": ("50.0", "100.0"),
    "BRA": ("300.0", "600.0"), "LATAM other": ("1,700.0", "1,400.0"),
    "ZAF": ("150.0", "250.0"), "AFRICA other": ("1,850.0", "750.0"),
    "BRI": ("15,000.0", "10,000.0"),
    "WLD other": ("10,050.0", "6,850.0"),
}
#: How the other rows add up (a key ending in " other" is a made-up remainder, never printed).
SUMS: dict[str, tuple[str, ...]] = {
    "EU": ("DEU", "NLD", "FRA", "ITA", "EU other"),
    "ASEAN": ("VNM", "MYS", "THA", "SGP", "IDN", "PHL", "ASEAN other"),
    "LATAM": ("BRA", "LATAM other"),
    "AFRICA": ("ZAF", "AFRICA other"),
    "RCEP": ("ASEAN", "JPN", "KOR", "AUS", "NZL"),
    "WLD": ("EU", "USA", "ASEAN", "JPN", "HKG", "KOR", "TWN", "AUS", "RUS", "IND", "GBR", "CAN",
            "NZL", "LATAM", "AFRICA", "WLD other"),
}
#: MADE-UP year-on-year changes (export, import) in %, as printed, of every row.
YOY_MADE_UP: dict[str, tuple[str, str]] = {
    "WLD": ("10.0", "5.0"), "EU": ("4.0", "-1.5"), "DEU": ("5.0", "-2.0"), "NLD": ("3.0", "1.0"),
    "FRA": ("2.0", "-1.0"), "ITA": ("4.0", "0.5"), "USA": ("-10.0", "5.0"),
    "ASEAN": ("12.0", "6.0"), "VNM": ("15.0", "8.0"), "MYS": ("9.0", "4.0"),
    "THA": ("11.0", "3.0"), "SGP": ("7.0", "-3.0"), "IDN": ("13.0", "10.0"),
    "PHL": ("6.0", "-4.0"), "JPN": ("-2.0", "-6.0"), "HKG": ("20.0", "250.0"),
    "KOR": ("1.0", "2.0"), "TWN": ("3.0", "12.0"), "AUS": ("-5.0", "-8.0"),
    "RUS": ("-3.0", "-7.0"), "IND": ("8.0", "-12.0"), "GBR": ("6.0", "2.0"),
    "CAN": ("-4.0", "3.0"), "NZL": ("2.0", "-5.0"), "LATAM": ("9.0", "7.0"),
    "BRA": ("10.0", "15.0"), "AFRICA": ("18.0", "1.0"), "ZAF": ("5.0", "-9.0"),
    "RCEP": ("5.0", "2.0"), "BRI": ("14.0", "6.0"),
}


def number(text: str) -> Decimal:
    """``"1,234.5"`` → ``Decimal("1234.5")``."""
    return Decimal(text.replace(",", ""))


def printed(value: Decimal) -> str:
    """A value as GACC prints it: thousands comma, one decimal place."""
    return f"{value.quantize(D('0.1'), ROUND_HALF_UP):,.1f}"


def month_figures() -> dict[str, tuple[Decimal, Decimal]]:
    """(export, import) of one month for every row key of :data:`PARTNERS`, sums worked out."""
    out = {key: (number(x), number(m)) for key, (x, m) in MONTH_MADE_UP.items()}

    def get(key: str) -> tuple[Decimal, Decimal]:
        if key not in out:
            parts = [get(part) for part in SUMS[key]]
            out[key] = (sum((p[0] for p in parts), D(0)), sum((p[1] for p in parts), D(0)))
        return out[key]

    return {key: get(key) for key, _ in PARTNERS}


def implied_yoy(x: Decimal, m: Decimal, yoy_x: Decimal, yoy_m: Decimal) -> Decimal:
    """Export & Import year-on-year % implied by the export and import ones (prior-year bases
    ``x / (1 + yoy_x/100)`` and ``m / (1 + yoy_m/100)``), one decimal."""
    base = x / (1 + yoy_x / 100) + m / (1 + yoy_m / 100)
    return ((x + m) / base - 1) * 100


# ------------------------------------------------------------------------------- table (4)
@dataclass(frozen=True)
class Layout:
    """The markup that differs between the two recorded table (4) pages."""

    newline: str
    size: str  # the table's width/height attributes
    label: tuple[str, str]  # label cell attributes of (shaded, plain) rows; Total is "style5"
    value: tuple[str, str]  # value cell attributes of (shaded, plain) rows
    yoy: tuple[tuple[str, ...], tuple[str, ...]]  # year-on-year cells of (shaded, plain) rows
    last_value: str | None  # value cells of the last row, when they differ
    last_yoy: tuple[str, ...] | None
    yoy_percent_font: str
    note: str  # attributes of the Note row's cell
    note_open: str
    note_close: str


#: As release_section4_by_country_mar2026_cny.html (month + cumulative columns, CRLF).
MONTHLY = Layout(
    newline="\r\n", size='width="1525" height="890"',
    label=('class="style9" bgcolor="#C0C0C0"', 'class="style10"'),
    value=('align="right" class="style6"',) * 2,
    yoy=(('align="right" class="style7"',) * 2 + ('align="right" class="style8"',),) * 2,
    last_value='align="right" class="style11"',
    last_yoy=('align="right" class="style12"',) * 2 + ('align="right" class="style13"',),
    yoy_percent_font="font1", note='align="left" class="style14"',
    note_open='<span><span class="font3">', note_close="</span></span>",
)
#: As release_section4_by_country_janfeb2025_cny.html (one cumulative column per flow, LF).
COMBINED = Layout(
    newline="\n", size='width="984" height="923"',
    label=('class="style8" bgcolor="#C0C0C0"', 'class="style11"'),
    value=('align="right" class="style9" bgcolor="#969696"', 'align="right" class="style6"'),
    yoy=(('align="right" class="style10" bgcolor="#969696"',) * 3, ('align="right" class="style7"',) * 3),
    last_value=None, last_yoy=None, yoy_percent_font="font3",
    note='align="left" class="style12"', note_open="<span>", note_close="</span>",
)
HEADER = 'align="center" class="style3" bgcolor="#C0C0C0"'
FLOWS = ("Export &amp; Import", "Export", "Import")


def _cell(attributes: str, content: str, nl: str) -> str:
    return f"\t\t\t<td {attributes}>{nl}\t\t\t\t{content}{nl}\t\t\t</td>{nl}"


def _row(cells: Sequence[str], nl: str) -> str:
    return f"\t\t<tr>{nl}{''.join(cells)}\t\t</tr>{nl}"


def table4_page(
    *,
    title: str,
    issued: str,
    through: int,
    columns: Sequence[tuple[str, int]],
    layout: Layout,
    label: str,
    note: Sequence[str],
    xls: str,
    unit: str = "Unit: CNY 100 Million",
    ei_off: Mapping[str, Decimal] | None = None,
) -> str:
    """A MADE-UP table (4) page.

    ``title`` as in the page heading (plain ``&``); ``issued`` the ``div.atcl-date`` text;
    ``through`` the last month of the cumulative period (the year-on-year header "1-to-N");
    ``columns`` the period columns under each flow as (header text, months covered), e.g.
    ``[("3", 1), ("1- to-3", 3)]`` — a value is the single-month figure times the months covered;
    ``label`` the comment opening the file; ``note`` the lines of the ``Note:`` row; ``ei_off``
    printed Export & Import minus (export + import) by row key, for the last column only (the
    one-unit rounding differences the real pages show). Returns the page text.
    """
    nl = layout.newline
    figures = month_figures()
    width = 1 + 3 * len(columns) + 3
    heading = title.replace("&", "&amp;")
    rows = [
        _row([_cell(f'colspan="{width}" align="left" class="style1" bgcolor="#C0C0C0"',
                    f"<span><b>{heading}</b></span>", nl)], nl),
        _row([_cell(f'colspan="{width}" align="right" class="style2"',
                    f"<span><b>{unit}</b></span>", nl)], nl),
    ]
    font = layout.yoy_percent_font
    yoy_title = (f'<span><b><span class="font1">1-to-{through} Total Year-on-Year (</span>'
                 f'<span class="font2">±</span><span class="{font}">%)</span></b></span>')
    flow_cells = [_cell(HEADER, f"<span><b>{flow}</b></span>", nl) for flow in FLOWS for _ in columns]
    rows.append(_row([_cell(HEADER, "<span><b>Import Source</b></span>", nl), *flow_cells,
                      _cell('colspan="3" align="center" class="style4" bgcolor="#C0C0C0"', yoy_title, nl)],
                     nl))
    period_cells = [_cell(HEADER, f"<span><b>{text}</b></span>", nl)
                    for flow in FLOWS for text, _ in _headers(columns, flow)]
    rows.append(_row([_cell(HEADER, "<span><b>Export Destination</b></span>", nl), *period_cells,
                      *(_cell(HEADER, f"<span><b>{flow}</b></span>", nl) for flow in FLOWS)], nl))
    cumulative = max(months for _, months in columns)
    for position, (key, text) in enumerate(PARTNERS):
        x, m = figures[key]
        shaded = position % 2 == 1
        last = position == len(PARTNERS) - 1
        label_at = 'class="style5"' if position == 0 else layout.label[not shaded]
        value_at = layout.last_value if last and layout.last_value else layout.value[not shaded]
        yoy_at = layout.last_yoy if last and layout.last_yoy else layout.yoy[not shaded]
        values = {"X": [x * months for _, months in columns], "M": [m * months for _, months in columns]}
        values["EI"] = [a + b for a, b in zip(values["X"], values["M"], strict=True)]
        values["EI"][-1] += (ei_off or {}).get(key, D(0))
        yx, ym = (number(t) for t in YOY_MADE_UP[key])
        yoys = [implied_yoy(x * cumulative, m * cumulative, yx, ym), yx, ym]
        cells = [_cell(label_at, f"<span>{text}</span>", nl)]
        cells += [_cell(value_at, f"<span><b>{printed(v)}&nbsp;</b></span>", nl)
                  for flow in ("EI", "X", "M") for v in values[flow]]
        cells += [_cell(at, f"<span><b>{printed(v)}</b></span>", nl)
                  for at, v in zip(yoy_at, yoys, strict=True)]
        rows.append(_row(cells, nl))
    note_text = f"<br />{nl}".join(["Note:", *note])
    rows.append(_row([_cell(f'colspan="{width}" {layout.note}',
                            f"{layout.note_open}{note_text}{layout.note_close}", nl)], nl))
    table = (f'<table style="border-collapse:collapse;" border="0" cellspacing="0" {layout.size} '
             f'class="ke-zeroborder">{nl}\t<tbody>{nl}{"".join(rows)}\t</tbody>{nl}</table>')
    body = (
        f'                    <div class="atcl-cnt" style="overflow-x:auto">{table}</div>\r\n'
        '                    <div class="atcl-rct">\r\n'
        f"                        <div class=\"atcl-rct-ttl\"><a href = '{xls}'>{title}</a>"
        '<img src="\\Images\\Image\\download.png" style="height:15px;padding-left:10px" /></div>\r\n'
        "                    </div>\r\n"
    )
    return _article(label, title, issued, body)


def _headers(columns: Sequence[tuple[str, int]], flow: str) -> list[tuple[str, int]]:
    """The period headers under ``flow``: the Jan-Feb page spells "1- to-2" under Export &
    Import and "1-to-2" under Export and Import (as recorded)."""
    if len(columns) == 1 and flow != FLOWS[0]:
        return [(text.replace("- to", "-to"), months) for text, months in columns]
    return list(columns)


def _article(label: str, title: str, issued: str, content: str) -> str:
    """The page around ``content``: head, ``div.atcl-ttl``, ``div.atcl-date`` (CRLF, as served)."""
    lines = [
        "<!DOCTYPE html>", "<!--", *(f"  {line}" for line in label.strip().splitlines()), "-->",
        "<html>", "<head>", '    <meta charset="UTF-8">', f"    <title>{title}</title>", "</head>",
        "<body>",
        '        <div class="atcl">',
        '            <div class="atcl-main">',
        f'                <div class="atcl-ttl">{title}</div>',
        "            </div>",
        '            <div class="atcl-layout">',
        '                <div class="atcl-main">',
        f'                    <div class="atcl-date">{issued}</div>',
    ]
    tail = [
        "                </div>",
        '                <div class="atcl-sbr"></div>',
        "            </div>",
        "        </div>",
        "</body>",
        "</html>",
        "",
    ]
    return "\r\n".join(lines) + "\r\n" + content + "\r\n".join(tail)


def image_only_page(*, title: str, issued: str, image: str, label: str) -> str:
    """A page whose ``div.atcl-cnt`` holds only an image (as January 2018: no table, no unit
    line, no xls link)."""
    content = f"                    <div class=\"atcl-cnt\"><img src ='{image}'/></div>\r\n"
    return _article(label, title, issued, content)


# --------------------------------------------------------------------------- index pages
#: Row titles of a Preliminary Release index, in page order (seed_2026.html, docs/gacc_pages.md §4).
INDEX_TITLES: tuple[str, ...] = (
    *(f"({n}) China's {name} (in {ccy})"
      for n, name in ((1, "Total Export & Import Values"),
                      (2, "Total Export & Import Values by Trade Mode"),
                      (3, "Total Export & Import Values by Trade Mode"),
                      (4, "Total Export & Import Values by Country/Region"),
                      (5, "Major Exports by Quantity and Value"),
                      (6, "Major Imports by Quantity and Value"))
      for ccy in ("CNY", "USD")),
    "(7) Statistics Bulletin on Freight Supervision",
    "(8)Statistics Bulletin on Goods Inspection & Quarantine",
)
MONTH_TEXT = ("Jan.", "Feb.", "Mar.", "Apr.", "May.", "Jun.", "Jul.", "Aug.", "Sep.", "Oct.", "Nov.", "Dec.")


def made_up_uuid(section: int, currency: str, year: int, month: int) -> str:
    """The MADE-UP address of a table page: ``00000000-0000-4000-8<section><0 CNY|1 USD>0-
    000000<yyyy><mm>``. The real addresses are random uuids."""
    return f"00000000-0000-4000-8{section}{0 if currency == 'CNY' else 1}0-000000{year:04d}{month:02d}"


def index_page(*, year: int, years: Sequence[int], published: Sequence[int], label: str) -> str:
    """A MADE-UP Preliminary Release index of ``year``: tables (1)-(6) in CNY and USD link the
    ``published`` months (at :func:`made_up_uuid` addresses), every other month is a ``<span>``;
    (7) and (8) link nothing. ``years`` are the options of the year ``<select>``, first = shown."""
    rows = []
    for title in INDEX_TITLES:
        ccy = title[-4:-1] if title.endswith(")") and "(in " in title else None
        cells = []
        for month, text in enumerate(MONTH_TEXT, 1):
            if ccy and month in published:
                uuid = made_up_uuid(int(title[1]), ccy, year, month)
                cells.append(f"<a href={REAL_HOST}/Statics/{uuid}.html> {text}</a>")
            else:
                cells.append(f"<span>{text}</span>")
            if month == 6:
                cells.append("</br>")
        rows.append(f"<tr><td>{title}</td><td>{''.join(cells)}</td></tr>")
    table = ("<table><thead><tr><th>Title</th><th>Month</th></tr></thead>"
             f"<tbody>{''.join(rows)}</tbody></table>")
    # the first option's indent starts with tabs on the recorded page
    options = [("\t" * 6 + "    " if i == 0 else " " * 28) + f'<option value="{y}">{y}</option>'
               for i, y in enumerate(years)]
    handlers = []
    for y in years:
        page = "preliminary.html" if y == years[0] else f"preliminary{y}.html"
        handlers += [f'                if ($("#preliminarysel").val() == "{y}") {{',
                     f'                    location.replace("{REAL_HOST}/statics/report/{page}")',
                     "                }"]
    lines = [
        "<!DOCTYPE html>", "<!--", *(f"  {line}" for line in label.strip().splitlines()), "-->",
        "<html>", "", "<head>", '    <meta charset="UTF-8">', "    <title>News - Newsroom - GACC</title>",
        '    <script src="../../Scripts/jquery-1.8.2.min.js"></script>', "</head>", "", "<body>",
        '        <div class="g-pth"><a href="/">Home</a> &gt; <a href="/statics/report/preliminary.html">'
        'Statistics</a> &gt; <a', '                class="g-pth-cur">Monthly Bulletin</a></div>',
        '        <div class="nr-n-container">',
        '            <div class="nr-n-right nr-n-content Statistics">',
        '                <div class="nr-n-content-title">Statistics</div>',
        '                <div class="nr-n-content-detail ">',
        "                    <div>Due to data verification after the preliminary release, the monthly "
        "bulletin is of more", "                        accuracy.</div>",
        '                    <div class="m-report-title">',
        '                        <img src="/Images/Image/ico_year.png"> <span>Year</span>'
        '<select id="preliminarysel">',
        *options, "                        </select>", "                    </div>",
        f"                    {table}", "                </div>", "            </div>",
        '            <div class="clr"></div>', "        </div>",
        '    <script type="text/javascript">', "        $(document).ready(function () {",
        '            $("#preliminarysel").change(function () {', *handlers, "            });",
        "        });", "    </script>", "</body>", "", "</html>", "",
    ]
    return "\r\n".join(lines)


# ------------------------------------------------------------------------------- fixtures
_MADE_UP = "MADE-UP FIXTURE, NOT A GACC PAGE. Written by tests/builders/gacc.py"
_NOTE = ("1.MADE-UP TEST PAGE: every figure on it is invented for the tests of this repository; "
         "none was published by China customs.")


def fixtures() -> dict[str, str]:
    """File name in ``tests/fixtures/gacc/`` → text of every made-up page the builder writes."""
    mar = "(4) China's Total Export & Import Values by Country/Region, Mar 2026 (in CNY)"
    janfeb = "(4) China's Total Export & Import Values by Country/Region, January-February 2025 (in CNY)"
    return {
        "section4_mar2026_cny_made_up.html": table4_page(
            title=mar, issued="2026/04/13", through=3, columns=[("3", 1), ("1- to-3", 3)],
            layout=MONTHLY, xls=f"{REAL_HOST}\\Excel\\4-en-made-up-2026-03.xls",
            label=f"{_MADE_UP}: invented figures in the layout of the recorded\n"
                  "release_section4_by_country_mar2026_cny.html (month and 1-to-3 columns).",
            note=[_NOTE, "2.Layout as the March 2026 table (4): 30 rows, month and cumulative "
                         "columns; Jan-Mar = 3 x March."],
        ),
        "section4_janfeb2025_cny_made_up.html": table4_page(
            title=janfeb, issued="2025/03/14", through=2, columns=[("1- to-2", 2)], layout=COMBINED,
            xls=f"{REAL_HOST}\\Excel\\4-en-made-up-2025-1-2.xls",
            # Vietnam's printed E&I is one unit below X + M, as on the recorded page (rounding).
            ei_off={"VNM": D("-0.1")},
            label=f"{_MADE_UP}: invented figures in the layout of the recorded\n"
                  "release_section4_by_country_janfeb2025_cny.html (one combined 1-to-2 column).",
            note=[_NOTE, "2.Layout as the combined January-February 2025 table (4): 30 rows, one "
                         "1-to-2 column; Vietnam's E&I is printed 0.1 below X + M (rounding)."],
        ),
        "section4_jan2018_image_only_made_up.html": image_only_page(
            title="China's Total Value of Imports and Exports by Major Country (Region), Jan. 2018",
            issued="03/09/2018", image="\\Excel\\4-RMB.png",
            label=f"{_MADE_UP}: the layout of the recorded, image-only\n"
                  "release_section4_by_country_jan2018_cny.html (no table, only an <img>).",
        ),
        "preliminary2026_index_made_up.html": index_page(
            year=2026, years=range(2026, 2017, -1), published=(2, 3),
            label=f"{_MADE_UP}: the layout of the recorded seed_2026.html (year\n"
                  "<select>, Title | Month table, unquoted absolute hrefs, ' Feb.' link text, <span> for\n"
                  "unpublished months; tables (1)-(6) x CNY/USD link Feb. and Mar.). Every link address\n"
                  "is MADE UP (tests/builders/gacc.py made_up_uuid).",
        ),
    }


def write(folder: Path = FIXTURES) -> list[Path]:
    """Write :func:`fixtures` into ``folder``; returns the paths written."""
    paths = []
    for name, text in fixtures().items():
        path = folder / name
        path.write_bytes(text.encode("utf-8"))
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write():
        print(written)
