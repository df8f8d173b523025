"""The HTML report as a lab lead reads it (issue 15, part 3): parsed, not grepped.

One folder that opens offline, a device table that sorts and filters with a why column, when
and by which meterbench and of which campaign it was made, reset counts named apart and
defined, alert codes with their GBCS names, "emulated" said, yes/no for booleans everywhere,
no header row without a heading, small CSV cells and rfi.csv always.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import importlib.metadata
import importlib.resources
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from _html import Page
from _results_sample import T0, sample

from harness.results.report import write_report
from harness.results.store import DeviceRow, ResultStore
from harness.triage.classify import Verdict, VerdictKind
from harness.triage.record import Measurement

TRANSCRIPT = "".join(f"> MEAS:CURR? {i}\n< 0.0123\n" for i in range(12_000))  # ~250 kB
WHEN = datetime.datetime(2024, 3, 4, 10, 30, tzinfo=datetime.UTC)
CELL_LIMIT = 2_000
"""No results.csv cell above this (spreadsheets cap a cell at 32,767 characters; a transcript
is hundreds of kB)."""


def _store(tmp_path: Path, *, models: str | None = None) -> str:
    """Four devices: NFF (reset), FAULT with alert 0x8F74 and reset done, INCONCLUSIVE, and
    an ESME with a boolean measurement and a 250 kB transcript."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with ResultStore.open(url) as store:
        cid = store.start_campaign(bench="lab-bench-2", operator="ann", role="Supplier",
                                   batch_name="returns-week-12.csv", started=T0)
        for i in range(4):
            record, verdict = sample(i)
            if models is not None and record.identity is not None:
                record.identity = dataclasses.replace(record.identity, model=f"{models}{i}")
            if i == 1:
                verdict = Verdict(VerdictKind.FAULT, "tamper/physical", None,
                                  "TRI-DIAG-03: alerts 0x8F74, 0x1234 logged", reset=True)
                record.measure(Measurement("log_tamper_codes", "0x8F74", "codes",
                                           clause="TRI-DIAG-03"))
            if i == 3:
                record.measure(Measurement("han_joined", False, "bool", clause="TRI-HAN-02",
                                           expected=True))
            store.record(cid, record, verdict, T0 + datetime.timedelta(minutes=i),
                         transcript=TRANSCRIPT if i == 3 else None)
    return url


def _report(tmp_path: Path, url: str, fmt: str = "html") -> tuple[Path, list[DeviceRow]]:
    out = tmp_path / "report"
    with ResultStore.open(url, create=False) as store:
        rows = store.results()
        campaigns = store.campaigns({r.campaign_id for r in rows})
    write_report(rows, out, fmt=fmt, source="sqlite:///r.db",  # type: ignore[arg-type]
                 campaigns=campaigns, generated_at=WHEN)
    return out, rows


@pytest.fixture
def report(tmp_path: Path) -> tuple[Path, list[DeviceRow]]:
    return _report(tmp_path, _store(tmp_path))


def test_pages_come_from_packaged_templates() -> None:
    templates = importlib.resources.files("harness.results") / "templates"
    for name in ("base.html", "index.html", "device.html", "report.css", "report.js"):
        assert (templates / name).is_file(), name


def test_report_opens_offline_from_its_own_folder(report: tuple[Path, list[DeviceRow]]) -> None:
    out, _ = report
    pages = [out / "index.html", *sorted((out / "devices").glob("*.html"))]
    for path in pages:
        page = Page.read(path)
        for tag, attrs in page.attrs:  # nothing fetched: no external script, style or font
            assert not (tag == "script" and attrs.get("src")), path
            assert not (tag == "link" and attrs.get("rel") == "stylesheet"), path
        for ref in [*page.links, *page.sources]:
            assert not ref.startswith(("http:", "https:", "//")), (path, ref)
            if not ref.startswith(("data:", "#")):
                assert (path.parent / ref.split("#")[0]).is_file(), (path, ref)


def test_device_table_has_a_why_column_and_sorts_and_filters(
        report: tuple[Path, list[DeviceRow]]) -> None:
    out, _ = report
    page = Page.read(out / "index.html")
    table = page.table("devices")
    assert "Why" in table.head and "Reset done" in table.head
    by_item = {r["Item"]: r for r in table.records()}
    assert by_item["item2"]["Why"] == "bench fault"
    assert by_item["item0"]["Reset done"] == "yes" and by_item["item1"]["Reset done"] == "yes"
    assert by_item["item2"]["Reset done"] == "no"
    assert all(cell == "th" for cell, _ in table.rows[0])  # every heading is a sort button
    assert sum(1 for tag, a in page.attrs if tag == "button") >= len(table.head)
    assert {"device-filter", "verdict-filter", "type-filter"} <= {
        a.get("id") for _, a in page.attrs}
    [script] = page.scripts
    assert "sortBy" in script and "filter" in script


def test_index_says_when_by_which_meterbench_and_of_which_campaign(
        report: tuple[Path, list[DeviceRow]]) -> None:
    out, rows = report
    page = Page.read(out / "index.html")
    meta = {r[0][1]: r[1][1] for r in page.tables[0].rows}
    assert meta["Generated"] == "2024-03-04 10:30:00 UTC"
    assert meta["meterbench"] == importlib.metadata.version("meterbench")
    [campaign] = page.table("campaigns").records()
    assert campaign["Campaign"] == f"#{rows[0].campaign_id}"
    assert campaign["Batch"] == "returns-week-12.csv" and campaign["Bench"] == "lab-bench-2"
    assert campaign["Devices"] == "4" and campaign["Emulated"] == "not recorded"
    assert "EMULATED" not in page.text


def test_reset_counts_are_named_apart_and_defined(report: tuple[Path, list[DeviceRow]]) -> None:
    """The terminal's "reset" counts every reset device; the RFI's "needed reset" only those
    reset to be reused: a FAULT found after its reset is in the first, not the second."""
    out, rows = report
    page = Page.read(out / "index.html")
    total = next(r for r in page.table("rfi").records() if r["Devices"] == "Total")
    assert (total["Reset done"], total["Needed reset"]) == ("3", "2")
    assert "Reset done" in page.text and "the terminal's" in page.text
    with (out / "rfi.csv").open() as fh:
        rfi = next(r for r in csv.DictReader(fh) if r["group"] == "Total")
    assert (rfi["reset_done"], rfi["needed_reset"]) == ("3", "2")
    write_report(rows, out / "json", fmt="json")
    data = json.loads((out / "json" / "results.json").read_text())
    assert (data["reset_done"]["total"], data["rfi"]["total"]["needed_reset"]) == (3, 2)


def test_alert_codes_carry_their_gbcs_names(report: tuple[Path, list[DeviceRow]]) -> None:
    out, rows = report
    index = Page.read(out / "index.html")
    why = next(r for r in index.table("devices").records() if r["Item"] == "item1")["Why"]
    assert why == ("TRI-DIAG-03: alerts 0x8F74 (unauthorised physical access: meter cover), "
                   "0x1234 logged")  # a code outside the GBCS table is left as it is
    assert index.table("alerts").records() == [
        {"Code": "0x8F74", "GBCS name": "unauthorised physical access: meter cover",
         "Triage use": "tamper"}]
    device = Page.read(out / "devices" / f"device-{rows[1].id}.html")
    value = next(r for r in device.table("measurements").records()
                 if r["Measurement"] == "log_tamper_codes")["Value"]
    assert value == "0x8F74 (unauthorised physical access: meter cover)"


def test_device_page_has_no_empty_header_and_says_yes_or_no(
        report: tuple[Path, list[DeviceRow]]) -> None:
    out, rows = report
    for row in rows:
        page = Page.read(out / "devices" / f"device-{row.id}.html")
        facts = page.table("facts")
        for cells in facts.rows:  # a label and its value per row, no blank heading row
            assert [tag for tag, _ in cells] == ["th", "td"] and cells[0][1]
        for table in page.tables:
            assert all(any(text for _, text in cells) for cells in table.rows), table.id
        reset = dict((c[0][1], c[1][1]) for c in facts.rows)["Reset done"]
        assert reset == ("yes" if row.reset else "no")
        cells = [text for table in page.tables for cells in table.rows for _, text in cells]
        assert "True" not in cells and "False" not in cells
    esme = Page.read(out / "devices" / f"device-{rows[3].id}.html")
    joined = next(r for r in esme.table("measurements").records()
                  if r["Measurement"] == "han_joined")
    assert (joined["Value"], joined["Expected"], joined["Result"]) == ("no", "yes", "FAIL")


def test_results_csv_cells_stay_small_and_name_the_transcript(
        report: tuple[Path, list[DeviceRow]]) -> None:
    out, rows = report
    with (out / "results.csv").open(newline="") as fh:
        records = list(csv.DictReader(fh))
    assert max(len(v) for r in records for v in r.values()) < CELL_LIMIT
    named = [r["transcript"] for r in records if r["transcript"]]
    assert named == [f"devices/device-{rows[3].id}-transcript.txt"]
    assert (out / named[0]).read_text() == TRANSCRIPT
    assert {r["reset"] for r in records} == {"yes", "no"}


@pytest.mark.parametrize("fmt", ["html", "csv"])
def test_rfi_csv_is_always_written(tmp_path: Path, fmt: str) -> None:
    out, _ = _report(tmp_path, _store(tmp_path), fmt)
    with (out / "rfi.csv").open(newline="") as fh:
        total = next(r for r in csv.DictReader(fh) if r["group"] == "Total")
    assert total["returned"] == "4"


def test_an_emulated_campaign_is_said_to_be(tmp_path: Path) -> None:
    """The store does not record it yet: every device an emulator model (EMU-...) says so."""
    out, _ = _report(tmp_path, _store(tmp_path, models="EMU-ESME-"))
    page = Page.read(out / "index.html")
    assert "EMULATED" in page.text
    [campaign] = page.table("campaigns").records()
    assert campaign["Emulated"].startswith("yes (inferred")
    device = Page.read(next((out / "devices").glob("device-*.html")))
    assert "EMULATED" in device.text and "(emulated)" in device.text


def test_a_recorded_emulated_flag_wins_over_inference(tmp_path: Path) -> None:
    url = _store(tmp_path, models="EMU-ESME-")
    with ResultStore.open(url, create=False) as store:
        rows = store.results()
        [campaign] = store.campaigns()
    write_report(rows, tmp_path / "o", campaigns=[dataclasses.replace(campaign, emulated=False)])
    page = Page.read(tmp_path / "o" / "index.html")
    assert "EMULATED" not in page.text
    assert page.table("campaigns").records()[0]["Emulated"] == "no"


def test_only_the_emulated_campaigns_devices_say_emulated(tmp_path: Path) -> None:
    """A lab campaign beside an emulated one: the index names the emulated one, and only its
    devices' pages carry the banner; with two campaigns the device table shows which."""
    url = _store(tmp_path)
    with ResultStore.open(url) as store:
        emulated = store.start_campaign(bench="emulated-fast", operator="ci", role="Supplier",
                                        batch_name="generated.csv")
        store.record(emulated, *sample(7), T0)
        rows = store.results()
        campaigns = [dataclasses.replace(c, emulated=c.id == emulated)
                     for c in store.campaigns()]
    write_report(rows, tmp_path / "o", campaigns=campaigns)
    index = Page.read(tmp_path / "o" / "index.html")
    assert f"campaign #{emulated} generated.csv ran on an emulated bench" in index.text
    devices = index.table("devices").records()
    assert {d["Campaign"] for d in devices} == {f"#{emulated}", f"#{rows[0].campaign_id}"}
    for row in rows:
        page = Page.read(tmp_path / "o" / "devices" / f"device-{row.id}.html")
        assert ("EMULATED" in page.text) == (row.campaign_id == emulated), row.item_key


def test_emulator_models_carry_the_prefix_the_report_reads() -> None:
    from harness.emulator.world.catalogue import MODELS
    from harness.results.report import EMULATED_MODEL_PREFIX

    assert MODELS and all(m.startswith(EMULATED_MODEL_PREFIX) for m in MODELS)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs headless chromium")
def test_filter_and_sort_run_in_a_browser(report: tuple[Path, list[DeviceRow]]) -> None:
    """The inline script itself, in headless Chromium: a link's view filters and sorts."""
    out, _ = report
    url = (out / "index.html").as_uri() + "#verdict=FAULT&sort=Item&order=descending"
    dom = subprocess.run(["chromium", "--headless", "--no-sandbox", "--dump-dom", url],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    page = Page(dom)
    shown = [r["Item"] for r, attrs in zip(
        page.table("devices").records(),
        [a for tag, a in page.attrs if tag == "tr" and "data-verdict" in a], strict=True)
        if "hidden" not in attrs]
    assert shown == ["item1"]
    items = [r["Item"] for r in page.table("devices").records()]
    assert items == sorted(items, reverse=True)
    assert "1 of 4 device(s) shown" in page.text
