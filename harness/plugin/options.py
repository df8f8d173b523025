"""The plugin's pytest options: every one prefixed ``--mb-``, and whether a run gave any.

Imported by the plugin's entry module on every pytest run, so it imports pytest alone. The
prefix keeps meterbench's options out of a project's own (``--db``, ``--role`` and
``--batch`` are common names); the ``meterbench`` command keeps its own unprefixed names and
passes them on as these.
"""

from __future__ import annotations

import pytest

INI_BENCH = "meterbench_bench"

# (flag, dest, addoption keywords): dest names are what the plugin's modules read.
OPTIONS: tuple[tuple[str, str, dict[str, object]], ...] = (
    ("--mb-bench", "mb_bench", dict(
        action="append", default=None, metavar="PATH",
        help="bench file to run against (default: ini meterbench_bench, else the emulated "
             "bench); repeat it to give xdist workers a bench each: each worker leases the "
             "first free one through the bench lock")),
    ("--mb-time-scale", "mb_time_scale", dict(
        default=None, type=float, metavar="N",
        help="fast mode on an all-emulated bench: devices run N times faster and the harness "
             "waits N times less")),
    ("--mb-role", "mb_role", dict(
        default=None,
        help="operator role: supplier, rsa, map or manufacturer; only narrows what the site "
             "grants the acting user (default: the site's first grant; see "
             "harness.triage.site and $MB_SITE_CONFIG)")),
    ("--mb-fallback-supplier", "mb_fallback_supplier", dict(
        action="store_true", default=None,
        help="QA route: make a request the DCC refused to the role with the Supplier's "
             "credentials instead (audited; off by default)")),
    ("--mb-operator", "mb_operator", dict(
        default=None, help="operator name recorded with every result (default: login name)")),
    ("--mb-batch", "mb_batch", dict(
        default=None, metavar="CSV", help="triage every device of a batch manifest, in turn")),
    ("--mb-window", "mb_window", dict(
        default=None, metavar="START:STOP",
        help="with --mb-batch: triage only the devices at batch positions START to STOP-1 "
             "(from 0), e.g. 0:250; the campaign (its store, its resume) is still the whole "
             "batch's. `meterbench triage` runs a long batch window by window, a pytest session "
             "each, so that no process holds every device's tests at once")),
    ("--mb-manifest", "mb_manifest", dict(
        default=None, metavar="FILE",
        help="the lab's model catalogue (TOML or YAML), added to the shipped one")),
    ("--mb-triage-json", "mb_json", dict(
        default=None, metavar="PATH", help="append one JSON verdict per device to PATH")),
    ("--mb-db", "mb_db", dict(
        default=None, metavar="URL",
        help="results store (SQLAlchemy URL, e.g. sqlite:///meterbench.db): each verdict is "
             "committed as it is known; a batch resumes where it stopped")),
    ("--mb-conformance", "mb_conformance", dict(
        default=None, metavar="PATH",
        help="write the per-model conformance report (Markdown) to PATH")),
    ("--mb-prompt-timeout", "mb_prompt_timeout", dict(
        type=float, default=None, metavar="S",
        help="physical bench: seconds to wait for each operator prompt before skipping the "
             "device (default 300)")),
    ("--mb-campaign", "mb_campaign", dict(
        default=None, metavar="NAME",
        help="facility mode (with --mb-db and --mb-batch): join the campaign NAME that other "
             "bench hosts work too; each device is claimed from its shared queue just before "
             "its triage, so every device is triaged once in the whole facility")),
    ("--mb-lease", "mb_lease", dict(
        type=float, default=None, metavar="S",
        help="facility mode: seconds a device's claim outlives its host's last renewal "
             "(default 120); a host that dies leaves its device to another after it")),
    ("--mb-again", "mb_again", dict(
        action="store_true", default=None,  # None: not given (any other value activates)
        help="triage the batch again although a finished campaign on this bench triaged it "
             "(a new campaign; the earlier results are kept). Without it such a run does "
             "nothing and says so")),
    ("--mb-no-prompts", "mb_no_prompts", dict(
        action="store_true", default=None,
        help="physical bench: devices are already in their slots; labels come from the batch "
             "manifest (fixed rigs, unattended runs)")),
    ("--mb-send-hub-returns", "mb_send_hub_returns", dict(
        action="store_true", default=None,
        help="after the verdicts are recorded, return each hub found FAULT (DUIS 8.14.3) or "
             "NO FAULT FOUND (8.14.4) through the bench's DCC, under the access gate")),
    ("--mb-hub-connection", "mb_hub_connection", dict(
        default=None, metavar="METHOD", choices=("cradle", "esme", "hot-shoe"),
        help="how the returned hubs were connected (8.14.3 CHFConnectionMethod)")),
    ("--mb-hub-return-type", "mb_hub_return_type", dict(
        default=None, choices=("prior to installation", "post installation"),
        help="8.14.3 fault return type for hubs the batch manifest does not give one for")),
    ("--mb-hub-other-device", "mb_hub_other_device", dict(
        default=None, metavar="EUI64",
        help="8.14.3 OtherDeviceID: the ESME the returned hub was seated on, when the Smart "
             "Metering Inventory lists none at the hub")),
    ("--mb-audit-db", "mb_audit", dict(
        default=None, metavar="URL",
        help="audit log of destructive operations (default: sqlite:///meterbench.db; an "
             "all-emulated bench without this option audits to a temporary log)")),
)
DEFAULT_PROMPT_TIMEOUT = 300.0


def add_options(parser: pytest.Parser) -> None:
    """Register the ``--mb-`` options and the ini key (defaults None: "not given")."""
    group = parser.getgroup("meterbench", "meterbench (any of these makes the run a campaign)")
    for flag, dest, kwargs in OPTIONS:
        group.addoption(flag, dest=dest, **kwargs)
    parser.addini(INI_BENCH, "default bench file for --mb-bench (asks for meterbench)",
                  default="")


def given(config: pytest.Config) -> list[str]:
    """The ``--mb-`` options this run gave, and the ini key if set: what asks for meterbench
    before any test is collected."""
    asked = [flag for flag, dest, _ in OPTIONS if config.getoption(dest, None) is not None]
    if config.getini(INI_BENCH):
        asked.append(INI_BENCH)
    return asked
