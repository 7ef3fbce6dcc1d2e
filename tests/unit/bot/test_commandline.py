"""``/aeth`` parsing (pure): every command and the usage errors."""

from __future__ import annotations

import pytest

from bot.commandline import Command, UsageError, parse


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", Command("help")),
        ("help", Command("help")),
        ("  INCIDENTS ", Command("incidents")),
        ("diagnose pod/api-7f9 -n shop", Command("diagnose", pod="api-7f9", namespace="shop")),
        ("diagnose pod/api -n shop --cluster eu-1", Command("diagnose", pod="api", namespace="shop", cluster="eu-1")),
        (
            "logs pod/api -n shop --previous --tail 50",
            Command("logs", pod="api", namespace="shop", previous=True, tail=50),
        ),
        ("describe pod/api --namespace shop", Command("describe", pod="api", namespace="shop")),
        ("top pods -n shop", Command("top", namespace="shop")),
        ("similar connection refused to db:5432", Command("similar", query="connection refused to db:5432")),
        ("similar 42", Command("similar", query="42")),
    ],
)
def test_commands_parse(text: str, command: Command) -> None:
    assert parse(text) == command


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("reboot prod", "unknown command"),
        ("diagnose pod/api", "needs `-n NAMESPACE`"),
        ("diagnose deploy/api -n shop", "needs `pod/NAME`"),
        ("logs pod/api -n shop --tail 0", "--tail"),
        ("logs pod/api -n shop --tail 99999", "--tail"),
        ("describe pod/api -n shop --previous", "unknown option"),
        ("top nodes -n shop", "top pods"),
        ("diagnose pod/Bad_Name -n shop", "not a valid pod name"),
        ("diagnose pod/a pod/b -n shop", "unexpected"),
        ("stats please", "takes no arguments"),
        ("similar", "needs some text"),
        ("diagnose 'pod/a -n shop", "cannot read"),
    ],
)
def test_malformed_input_says_what_is_wrong_in_one_line(text: str, problem: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text)
    assert problem in str(caught.value) and "\n" not in str(caught.value)
