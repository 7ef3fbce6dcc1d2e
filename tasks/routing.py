"""Task names and the queue each one runs on: one queue per pipeline stage, so each scales on its own.

The names are the wire contract between whoever enqueues (collectors' hand-over, the Slack app, the CLI) and the
workers; the kwargs are ids and short strings only, never objects, because a task re-reads the store when it runs.
"""

from __future__ import annotations

CAPTURE = "aeth.capture"  # incident_id, pod
ANALYZE = "aeth.analyze"  # incident_id
NOTIFY = "aeth.notify"  # incident_id
REMEDIATE = "aeth.remediate"  # approval_id
APPROVAL_GRANTED = "aeth.approval_granted"  # approval_id, incident_id (what the Slack app enqueues; = REMEDIATE)

# Born in Slack (bot.ports names them; aetherius.cli.slack_tasks registers them on workers with a bot token)
DIAGNOSE_POD = "aeth.diagnose_pod"  # pod, namespace, cluster, channel, user: capture + diagnose, thread in channel
READ_CLUSTER = "aeth.read_cluster"  # verb, pod, namespace, cluster, channel, user: logs / describe / top
SIMILAR = "aeth.similar"  # query, channel, user: similar past cases
DRY_RUN = "aeth.dry_run"  # incident_id, action, user: server-side dry-run commands in the thread
LEARN = "aeth.learn_from_feedback"  # incident_id: a confirmed or corrected incident becomes a case

QUEUES: tuple[str, ...] = ("capture", "analyze", "notify", "remediate")

ROUTES: dict[str, str] = {
    CAPTURE: "capture",
    ANALYZE: "analyze",
    NOTIFY: "notify",
    REMEDIATE: "remediate",
    APPROVAL_GRANTED: "remediate",
    DIAGNOSE_POD: "capture",
    READ_CLUSTER: "capture",
    SIMILAR: "analyze",
    DRY_RUN: "remediate",
    LEARN: "analyze",
}
"""task name → queue."""


def queue_of(task: str) -> str:
    """The queue a task runs on; unknown names go to ``analyze`` (Celery's default queue here)."""
    return ROUTES.get(task, "analyze")
