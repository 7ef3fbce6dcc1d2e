"""The incident pipeline's work: intake of sightings, and the stages that take an incident to people.

- `intake`: detections (collector) and alerts (webhook) → occurrences/incidents in the store, storm roll-up,
  enqueue by id;
- `stages`: capture, analyze, notify, remediate as plain functions over a `stages.Pipeline` (store, engine,
  notifier, enqueuer);
- `app`: the Celery app (Redis, a queue per stage, acks_late) wrapping the stages; `embedded`: the same stages
  on an in-process queue for ``aeth run``;
- `policy` (retry vs dead letter), `reconciling` (re-enqueue what the store says is stuck), `routing` (names and
  queues), `enqueuing` (the Enqueuer port), `rollups` (storm threads), `runtime` (a worker process's pipeline).
"""
