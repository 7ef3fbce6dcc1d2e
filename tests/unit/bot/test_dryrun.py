"""The Dry-run button rehearses only what changes the cluster, with the API server's own dry run."""

from __future__ import annotations

import pytest

from bot.dryrun import dry_run_command, dry_run_text, find_recommendation


@pytest.mark.parametrize(
    ("command", "rehearsal"),
    [
        (
            "kubectl -n shop set resources deployment/api -c api --limits=memory=704Mi",
            "kubectl -n shop set resources deployment/api -c api --limits=memory=704Mi --dry-run=server",
        ),
        ("kubectl -n shop rollout undo deployment/api", "kubectl -n shop rollout undo deployment/api --dry-run=server"),
        ("kubectl -n shop get pods -o wide", None),
        ("kubectl -n shop rollout status deployment/api --timeout=5m", None),
        ("kubectl auth can-i list pods --as system:serviceaccount:shop:api", None),
        ("curl -X DELETE http://api/cache", None),
        ("kubectl -n shop get deploy api -o yaml > api.yaml", None),
        ("kubectl -n shop patch deploy/api -p '{}' --dry-run=client", None),
    ],
)
def test_only_changing_kubectl_commands_get_a_server_side_dry_run(command: str, rehearsal: str | None) -> None:
    assert dry_run_command(command) == rehearsal


def test_a_read_only_plan_says_there_is_nothing_to_rehearse() -> None:
    text = dry_run_text({"title": "Check DNS", "commands": ["kubectl -n kube-system get pods"]})
    assert "nothing to rehearse" in text


def test_the_rehearsal_lists_every_changing_command_in_order() -> None:
    rec = {
        "action": "raise_memory_limit",
        "title": "Raise api memory limit",
        "commands": [
            "kubectl -n shop set resources deployment/api -c api --limits=memory=704Mi",
            "kubectl -n shop rollout status deployment/api --timeout=5m",
        ],
    }
    assert find_recommendation([{"action": "other"}, rec], "raise_memory_limit") is rec
    text = dry_run_text(rec)
    assert "--limits=memory=704Mi --dry-run=server" in text and "rollout status" not in text
