"""Run-time settings, read from the environment (prefix ``TRADE_IMBALANCE_``) or a ``.env`` file.

Every publisher's base URL can be pointed at a mirror, a proxy or a loopback test server::

    TRADE_IMBALANCE_GACC_BASE_URL=http://127.0.0.1:8000/gacc
    TRADE_IMBALANCE_COMTRADE_BASE_URL=http://127.0.0.1:8000/comtrade
    TRADE_IMBALANCE_WAREHOUSE=/data/warehouse

Secrets (API keys) are read here and nowhere else; they are sent in headers and never logged or
written to the raw archive.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Default public base URLs of each publisher (see docs/sources.md).
DEFAULT_BASE_URLS: dict[str, str] = {
    "gacc": "http://english.customs.gov.cn",
    "comtrade": "https://comtradeapi.un.org",
    "imf": "https://api.imf.org/external/sdmx/3.0",
    "census": "https://api.census.gov/data/timeseries/intltrade",
    "eurostat": "https://ec.europa.eu/eurostat/api/dissemination",
    "ecb": "https://data-api.ecb.europa.eu/service",
}


class Settings(BaseSettings):
    """Pipeline settings. Field ``x`` is read from ``TRADE_IMBALANCE_X``."""

    model_config = SettingsConfigDict(
        env_prefix="TRADE_IMBALANCE_", env_file=".env", extra="ignore"
    )

    warehouse: Path = Field(
        default=Path("warehouse"),
        description="Folder holding trade.duckdb, the raw archive (raw/) and exports.",
    )

    gacc_base_url: str = DEFAULT_BASE_URLS["gacc"]
    comtrade_base_url: str = DEFAULT_BASE_URLS["comtrade"]
    imf_base_url: str = DEFAULT_BASE_URLS["imf"]
    census_base_url: str = DEFAULT_BASE_URLS["census"]
    eurostat_base_url: str = DEFAULT_BASE_URLS["eurostat"]
    ecb_base_url: str = DEFAULT_BASE_URLS["ecb"]

    comtrade_api_key: SecretStr | None = Field(
        default=None, description="UN Comtrade subscription key (sent as Ocp-Apim-Subscription-Key)."
    )
    census_api_key: SecretStr | None = Field(default=None, description="US Census API key.")
    imf_api_key: SecretStr | None = Field(
        default=None,
        description="Optional IMF API subscription key (public IMTS data need none; sent as "
        "Ocp-Apim-Subscription-Key when set).",
    )

    max_total_revision: float = Field(
        default=0.25,
        gt=0,
        allow_inf_nan=False,
        description="Largest relative change of a world total accepted as a revision; a larger "
        "move quarantines the payload (flows/quarantine.py).",
    )
    revision_window_months: int = Field(
        default=3,
        description="Months before the latest that are re-fetched on every run even when archived "
        "(publishers revise recent months).",
    )

    # HTTP behaviour
    connect_timeout: float = Field(default=10.0, description="Seconds to wait for a connection.")
    read_timeout: float = Field(default=60.0, description="Seconds to wait for response bytes.")
    max_retries: int = Field(default=4, description="Retries on connection errors, 429 and 5xx.")
    backoff_factor: float = Field(
        default=1.0, description="Exponential back-off base in seconds (1, 2, 4, ... between tries)."
    )
    max_retry_after: float = Field(
        default=120.0,
        description="Longest Retry-After (seconds) honoured; a publisher asking for a longer "
        "wait stops that source for the run.",
    )
    requests_per_minute: float = Field(
        default=30.0, description="Per-host request rate limit (UN Comtrade asks for about 10/min)."
    )
    user_agent: str = Field(
        default="trade-imbalance/0.1 (+https://github.com/trade-imbalance; official-statistics pipeline)",
    )

    # Deadlines (flows.http): a slow publisher must never hold the writer lock for long.
    request_deadline: float = Field(
        default=120.0, gt=0,
        description="Seconds one API request attempt may take in total, connection and whole "
        "body included (read_timeout only limits the wait for each chunk).",
    )
    source_budget: float = Field(
        default=900.0, gt=0,
        description="Seconds one source may spend in requests in a run, retries, back-off and "
        "Retry-After waits included (its pacing between requests not); then the source stops "
        "for the run (not refreshed).",
    )
    run_budget: float = Field(
        default=10800.0, gt=0,
        description="Seconds a refresh may spend fetching, all sources together; then it stops "
        "fetching, builds from what it has and releases the writer lock.",
    )
    min_bulk_bytes_per_second: float = Field(
        default=20_000.0, gt=0,
        description="Bulk downloads (UN Comtrade bulk files) slower than this, averaged over "
        "the download after its first 30 s, are abandoned.",
    )

    build_memory_limit: str = Field(
        default="1GB", pattern=r"^[0-9]+(\.[0-9]+)?\s*[A-Za-z]*$",
        description="Memory DuckDB may use while building the models and exporting the marts "
        "(a DuckDB size such as 4GB); beyond it DuckDB spills to disk beside the build instead "
        "of growing (bench/RESULTS.md: 20 M rows stay under about 1.2 GiB of resident memory "
        "at 1GB).",
    )

    # The `query` sandbox (flows.query)
    query_timeout: float = Field(default=120.0, gt=0, description="Seconds a `query` may run.")
    query_memory_limit: str = Field(default="1GB", description="Memory a `query` may use (DuckDB size).")
    query_threads: int = Field(default=2, ge=1, description="Threads a `query` may use.")

    today: date | None = Field(
        default=None,
        description="Run as if today were this date (YYYY-MM-DD): decides which months the "
        "release calendar expects to be out. For replays and tests; default: the real date.",
    )
    release_dates_file: Path | None = Field(
        default=None,
        description="CSV of announced/actual release dates overriding the release calendar's "
        "rules (default: flows/data/release_dates.csv).",
    )

    def run_date(self) -> date:
        """``today`` when set, else the real date."""
        return self.today or date.today()

    def base_url(self, source: str) -> str:
        """The configured base URL of ``source`` without a trailing slash."""
        try:
            return str(getattr(self, f"{source}_base_url")).rstrip("/")
        except AttributeError:
            raise KeyError(f"no base URL setting for source {source!r}") from None

    @property
    def database_path(self) -> Path:
        """The published DuckDB file, ``<warehouse>/trade.duckdb``."""
        return self.warehouse / "trade.duckdb"

    @property
    def raw_dir(self) -> Path:
        """The content-addressed raw archive, ``<warehouse>/raw``."""
        return self.warehouse / "raw"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; call ``get_settings.cache_clear()`` after env changes)."""
    return Settings()
