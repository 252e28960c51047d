"""When the pipeline runs by itself: publishers' release lags and the cron schedules built on them.

This module is the one source of truth for the schedules: ``trade-imbalance serve`` builds its
deployments from :data:`MONTHLY_REFRESH_SCHEDULES`, and ``prefect.yaml`` repeats them for
``prefect deploy`` (``tests/test_deployment.py`` fails when the two disagree).

Release timing (``docs/sources.md``; month M is the reference month):

* China customs (GACC) publishes M around the 7th–10th of M+1, Beijing time (§5). January and
  February come together in early March.
* US Census FT-900 (country detail) comes out about 35 days after the end of M, i.e. around the
  4th–6th of M+2 (§2); the Advance Report a week earlier has no country detail.
* IMF IMTS monthly data lag about a quarter (§3); UN Comtrade has no fixed calendar, each country
  submits on its own schedule (§1); Eurostat's timing is not verified in sources.md (§4).

So the main run is on the **12th at 06:00 Asia/Shanghai**: two days after GACC's latest usual
release day, when the Census figures for M-1 are also out; it refreshes every source (the
slower publishers are picked up by whichever run follows their release, and each run re-fetches
the trailing revision window). A second, Census-only run on the **9th at 09:00 America/New_York**
(37 to 40 days after the end of M-2, after the FT-900's 08:30 ET release) brings the US figures
in a few days earlier. A release that slips past its run is caught by the next one.

Release dates come from the one release calendar, :mod:`flows.release_calendar` (also read by
``trade-imbalance status``, ``marts.source_coverage`` and the "not yet released" answers); each
schedule runs on or after the expected release of the months it aims at
(``tests/test_deployment.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect.schedules import Schedule


@dataclass(frozen=True)
class ScheduleSpec:
    """One cron schedule of a deployment, in an explicit IANA time zone."""

    slug: str
    cron: str
    timezone: str
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_prefect(self) -> Schedule:
        """This schedule as a Prefect :class:`~prefect.schedules.Schedule` (for ``serve``)."""
        from prefect.schedules import Cron

        return Cron(self.cron, timezone=self.timezone, parameters=dict(self.parameters), slug=self.slug)


#: Schedules of the ``monthly-refresh`` deployment (see the module docstring for the reasons).
MONTHLY_REFRESH_SCHEDULES: tuple[ScheduleSpec, ...] = (
    ScheduleSpec(
        slug="after-china-customs",
        cron="0 6 12 * *",
        timezone="Asia/Shanghai",
        description="Every source, two days after China customs' usual release days (7th–10th).",
    ),
    ScheduleSpec(
        slug="after-us-census",
        cron="0 9 9 * *",
        timezone="America/New_York",
        description="US Census only, after the FT-900 release (about 35 days after month end).",
        parameters={"sources": ["census"]},
    ),
)

#: Deployment names, shared by ``prefect.yaml`` and ``trade-imbalance serve``.
MONTHLY_REFRESH_DEPLOYMENT = "monthly-refresh"
REBUILD_DEPLOYMENT = "rebuild"
#: Parameters of the ``rebuild`` deployment: no network, rebuild from the raw archive.
REBUILD_PARAMETERS: dict[str, Any] = {"offline": True, "force": True}
#: Runs of one deployment at a time (later ones queue); the file lock guards across deployments.
CONCURRENCY_LIMIT = 1
#: The process work pool named in ``prefect.yaml``.
WORK_POOL = "trade-imbalance"
