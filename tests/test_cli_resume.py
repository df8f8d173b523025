"""The command an interrupted campaign prints to resume it: every option given, quoted."""

from __future__ import annotations

import shlex

import typer

from harness.cli import app
from harness.cli.triage import resume_command


def test_resume_command_repeats_every_given_option_and_the_pytest_arguments() -> None:
    cli = typer.main.get_command(app)
    parent = cli.make_context("meterbench", ["triage"])
    triage = cli.get_command(parent, "triage")  # type: ignore[attr-defined]
    given = ["--bench", "lab bench.toml", "--bench", "b2.toml", "--db", "sqlite:///r.db",
             "--role", "rsa", "--json", "--seed", "7", "--", "-k", "esme or gsme"]
    ctx = triage.make_context("triage", list(given), parent=parent)
    command = resume_command(ctx)
    words = shlex.split(command)
    assert words[:2] == ["meterbench", "triage"]
    assert words[words.index("--") + 1:] == ["-k", "esme or gsme"]
    options = words[2:words.index("--")]
    assert [options[i:i + 2] for i in range(0, len(options), 2) if options[i] == "--bench"] \
        == [["--bench", "lab bench.toml"], ["--bench", "b2.toml"]]
    for pair in (["--db", "sqlite:///r.db"], ["--role", "rsa"], ["--seed", "7"]):
        assert pair[0] in options and options[options.index(pair[0]) + 1] == pair[1]
    assert "--json" in options and "--devices" not in options  # defaults are left out


def test_resume_command_hides_a_database_password() -> None:
    cli = typer.main.get_command(app)
    parent = cli.make_context("meterbench", ["triage"])
    triage = cli.get_command(parent, "triage")  # type: ignore[attr-defined]
    ctx = triage.make_context("triage", ["--db", "postgres://lab:Hunter2@db/returns",
                                         "--audit-db", "postgresql://a:Pw9@db/audit"],
                              parent=parent)
    command = resume_command(ctx)
    assert "Hunter2" not in command and "Pw9" not in command
    assert "postgres://lab:***@db/returns" in shlex.split(command)
