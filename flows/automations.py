"""Prefect automations that tell operators when a refresh did not bring what it should.

Operators alert on states and events, not log lines (DESIGN.md §6). The flow's final states
(:func:`flows.flow.final_state`) emit these events:

* ``prefect.flow-run.Partial`` — a source failed or a payload was quarantined (state named
  ``Partial``, type FAILED; a custom-named state emits its *name*, not ``Failed``);
* ``prefect.flow-run.Failed`` — nothing could be refreshed, or the build/data tests failed;
* ``prefect.flow-run.Completed`` — everything asked for was refreshed or unchanged.

Three automations (:func:`automations`), each restricted to the ``monthly-refresh`` flow:

1. **reactive, Partial** → notify, naming the run and its message;
2. **reactive, Failed** (also ``Crashed``) → notify;
3. **proactive, no success** → notify when no ``Completed`` run of the flow has been seen for
   :data:`PROACTIVE_WINDOW_DAYS` days: the longest gap between two expected monthly releases of
   a publisher in the release calendar (:mod:`flows.release_calendar`: 31 days, e.g. GACC's
   10 January → 10 March around a combined January–February is covered because the February run
   still completes with December's figures) plus a 3-day margin. A dead worker or a schedule
   that stopped firing raises no event at all; only a proactive trigger notices it.

Actions are ``send-notification`` with a notification block (Slack, e-mail, webhook, ... —
create one with ``prefect block create``). ``automations.yaml`` in the repository is this list
with a placeholder block id; ``trade-imbalance automations --block-id UUID`` writes it with
yours, ready for ``prefect automation create --from-file``.
"""

from __future__ import annotations

from typing import Any

import yaml

FLOW_NAME = "monthly-refresh"
#: The placeholder block id of the committed ``automations.yaml`` (replace it with yours).
PLACEHOLDER_BLOCK_ID = "00000000-0000-0000-0000-000000000000"
#: Days without a Completed run before the proactive automation fires (31 + 3, see above).
PROACTIVE_WINDOW_DAYS = 34

_FLOW_RELATED = {"prefect.resource.role": "flow", "prefect.resource.name": FLOW_NAME}
_BODY = (
    "Flow run {{ flow_run.name }} of {{ flow.name }} ended {{ flow_run.state.name }}: "
    "{{ flow_run.state.message }}"
)


def _notify(block_document_id: str, subject: str, body: str = _BODY) -> dict[str, Any]:
    return {
        "type": "send-notification",
        "block_document_id": block_document_id,
        "subject": subject,
        "body": body,
    }


def automations(block_document_id: str = PLACEHOLDER_BLOCK_ID) -> list[dict[str, Any]]:
    """The three automations as dicts in the shape ``prefect automation create`` reads."""
    reactive = {"type": "event", "posture": "Reactive", "threshold": 1, "within": 0}
    return [
        {
            "name": "trade-imbalance: refresh partial",
            "description": "A monthly-refresh run ended Partial: some source was not refreshed "
            "or a payload was quarantined (the state message names them).",
            "enabled": True,
            "trigger": {
                **reactive,
                "expect": ["prefect.flow-run.Partial"],
                "match": {"prefect.resource.id": "prefect.flow-run.*"},
                "match_related": dict(_FLOW_RELATED),
            },
            "actions": [_notify(block_document_id, "Trade-imbalance refresh PARTIAL")],
        },
        {
            "name": "trade-imbalance: refresh failed",
            "description": "A monthly-refresh run failed or crashed: nothing was published and "
            "the previous warehouse is intact.",
            "enabled": True,
            "trigger": {
                **reactive,
                "expect": ["prefect.flow-run.Failed", "prefect.flow-run.Crashed"],
                "match": {"prefect.resource.id": "prefect.flow-run.*"},
                "match_related": dict(_FLOW_RELATED),
            },
            "actions": [_notify(block_document_id, "Trade-imbalance refresh FAILED")],
        },
        {
            "name": "trade-imbalance: no successful refresh",
            "description": f"No monthly-refresh run has completed for {PROACTIVE_WINDOW_DAYS} days "
            "(the longest gap between two expected monthly releases, plus 3 days): the worker or "
            "the schedule may be dead, and the publishers' latest releases are not in the "
            "warehouse.",
            "enabled": True,
            "trigger": {
                "type": "event",
                "posture": "Proactive",
                "expect": ["prefect.flow-run.Completed"],
                "match": {"prefect.resource.id": "prefect.flow-run.*"},
                "match_related": dict(_FLOW_RELATED),
                "threshold": 1,
                "within": PROACTIVE_WINDOW_DAYS * 86400,
            },
            "actions": [
                _notify(
                    block_document_id,
                    "Trade-imbalance: no successful refresh",
                    f"No run of {FLOW_NAME} has completed in the last {PROACTIVE_WINDOW_DAYS} "
                    "days. Check the worker (trade-imbalance serve or the process work pool) "
                    "and the deployment's schedules.",
                )
            ],
        },
    ]


def automations_yaml(block_document_id: str = PLACEHOLDER_BLOCK_ID) -> str:
    """:func:`automations` as the YAML file ``prefect automation create --from-file`` loads."""
    header = (
        "# Prefect automations of the trade-imbalance pipeline (generated by flows/automations.py;\n"
        "# regenerate with: uv run trade-imbalance automations --block-id <your notification\n"
        "# block id> --output automations.yaml). Load: prefect automation create --from-file\n"
        "# automations.yaml. The block id below is a placeholder until you regenerate it.\n"
    )
    return header + yaml.safe_dump(
        {"automations": automations(block_document_id)}, sort_keys=False, allow_unicode=True
    )
