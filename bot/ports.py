"""The Slack app's ports: how listeners hand work over without doing it, and how learning reaches the case store.

Listeners ack within Slack's 3 seconds and *enqueue ids*; a task does the heavy part (diagnose, read logs, run an
approved action, embed a new case). The composition root fills `Enqueue` with Celery's ``send_task``; tests pass a
recording function or an in-process runner. The kwargs are ids and short strings only, never objects: a task
re-reads the world when it runs.
"""

from __future__ import annotations

from collections.abc import Callable

from aetherius.cases import Case

Enqueue = Callable[[str, dict[str, str]], None]
"""``enqueue(task_name, kwargs)``: hand a job to the workers by name."""

CaseRecorder = Callable[[Case], None]
"""Store a labelled case (the real side: ``CaseStore.add``)."""

CaseForgetter = Callable[[str], bool]
"""Remove a case learned from Slack by id, ``False`` if there was none (the real side: ``CaseStore.delete`` limited
to ``source="slack"``)."""

QueueDepth = Callable[[], int]
"""How many jobs wait in the queue (the real side asks the broker); shown by ``/aeth status``."""

# Task names the workers register (tasks/). Kwargs are listed next to each one.
DIAGNOSE_POD = "aeth.diagnose_pod"  # pod, namespace, cluster, channel, user, response_url
READ_CLUSTER = "aeth.read_cluster"  # verb (logs|describe|top), pod, namespace, cluster, previous, tail, channel, user
SIMILAR = "aeth.similar"  # query, channel, user, response_url
APPROVED = "aeth.approval_granted"  # approval_id, incident_id
DRY_RUN = "aeth.dry_run"  # incident_id, action, user
LEARN = "aeth.learn_from_feedback"  # incident_id
