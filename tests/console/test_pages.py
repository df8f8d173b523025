"""History pages read a page at a time: campaign lists and device lists paginate, search
finds a device by label or ID, the device page is the report's, the audit trail pages."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from harness.console.app import create_app
from harness.results.store import ResultStore
from tests.console.conftest import Kit
from tests.console.test_auth import sign_in
from tests.results._results_sample import T0, sample

DEVICES = 120


@pytest.fixture
def client(kit: Kit) -> Iterator[TestClient]:
    with ResultStore.open(kit.db) as store:
        cid = store.start_campaign(bench="bench-A", operator="ann", role="supplier",
                                   batch_name="returns-week-12.csv")
        for i in range(DEVICES):
            record, verdict = sample(i)
            store.record(cid, record, verdict, T0 + datetime.timedelta(seconds=30 + i),
                         transcript=f"TX item{i}\nRX ok\n")
    with TestClient(create_app(kit.settings())) as c:
        sign_in(c, "ann")
        yield c


def rows(html: str, table: str = "devices") -> list[str]:
    body = html.split(f'id="{table}"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>|<tr class=", body)


def test_a_campaign_page_shows_one_page_of_devices(client: TestClient) -> None:
    first = client.get("/campaigns/1").text
    assert len(rows(first)) == 50
    assert "page 1 of 3 (120 in all)" in first
    assert "item119" in first and "item69" not in first  # newest first
    assert "TX item" not in first  # no transcript in a list
    last = client.get("/campaigns/1?page=3").text
    assert len(rows(last)) == 20 and "item0<" in last
    assert "No device." in client.get("/campaigns/1?page=99").text
    assert client.get("/campaigns/1?page=bad").status_code == 200  # read as page 1


def test_verdict_counts_and_filter_come_from_the_database(client: TestClient) -> None:
    page = client.get("/campaigns/1").text
    assert "FAULT 40" in page and "INCONCLUSIVE 40" in page and "NO_FAULT_FOUND 40" in page
    faults = client.get("/campaigns/1?verdict=FAULT").text
    assert "40 in all" in faults and "INCONCLUSIVE (" not in faults
    assert 'id="rfi"' in page and "Returned" in page


def test_search_finds_a_device_by_label_or_id(client: TestClient) -> None:
    by_label = client.get("/devices?q=l77").text
    assert "1 in all" in by_label and "item77<" in by_label
    by_id = client.get(f"/devices?q={77:016X}").text
    assert "item77<" in by_id
    assert "0 in all" in client.get("/devices?q=nothing-like-it").text
    assert "page 1 of 3" in client.get("/devices").text


def test_the_device_page_is_the_reports_with_what_to_do(client: TestClient) -> None:
    listing = client.get("/devices?q=L1").text
    rid = re.search(r'href="/devices/(\d+)">item1<', listing)
    assert rid
    page = client.get(f"/devices/{rid.group(1)}").text
    assert 'id="measurements"' in page and "supply current" in page
    assert 'id="findings"' in page and "TRI-HAN-01" in page
    assert "manufacturer returns / scrap" in page  # a HAN fault's disposition
    transcript = client.get(f"/devices/device-{rid.group(1)}-transcript.txt")
    assert transcript.text == "TX item1\nRX ok\n"
    assert client.get("/devices/99999").status_code == 404


def test_the_audit_trail_pages(client: TestClient, kit: Kit) -> None:
    console = client.app.state.console  # type: ignore[attr-defined]
    for i in range(60):
        console.access.record("ann", "supplier", f"action {i}", "done")
    page = client.get("/audit").text
    assert len(rows(page, "audit")) == 50
    assert "action 59" in page and "action 5<" not in page
    assert "page 1 of 2 (61 in all)" in page  # with ann's sign-in
    assert "action 5<" in client.get("/audit?page=2").text
    mine = client.get("/audit?operator=nobody").text
    assert "0 in all" in mine


def test_the_rfi_figures_follow_new_results(client: TestClient, kit: Kit) -> None:
    def returned() -> str:
        page = client.get("/campaigns/1").text
        total = page.split('class="total"', 1)[1].split("</tr>", 1)[0]
        return re.findall(r'<td class="num">(\d+)</td>', total)[0]

    assert returned() == str(DEVICES)
    with ResultStore.open(kit.db) as store:
        record, verdict = sample(DEVICES)
        store.record(1, record, verdict)
    assert returned() == str(DEVICES + 1)  # not the figures cached from the first view


def test_the_console_indexes_what_its_campaign_pages_read(client: TestClient, kit: Kit) -> None:
    from sqlalchemy import create_engine, inspect

    names = {i["name"] for i in inspect(create_engine(kit.db)).get_indexes("device_result")}
    assert "device_result_by_campaign" in names


def test_the_line_lists_every_unfinished_campaign_of_the_store(client: TestClient,
                                                               kit: Kit) -> None:
    with ResultStore.open(kit.db) as store:
        other = store.start_campaign(bench="bench-B", operator="dan", role="rsa",
                                     batch_name="week13.csv")
        record, verdict = sample(1)
        store.record(other, record, verdict, T0)
        store.finish_campaign(1)
    table = client.get("/").text.split('id="in-progress"', 1)[1].split("</table>", 1)[0]
    assert f"#{other} week13.csv" in table and "bench-B" in table and "dan (rsa)" in table
    assert "2024-03-01 09:00:00" in table  # its latest result
    assert "#1 returns-week-12.csv" not in table  # finished


def test_the_device_list_shows_the_mpxn_and_search_finds_it(kit: Kit) -> None:
    mpxn = "1900012345678"
    with ResultStore.open(kit.db) as store:
        cid = store.start_campaign(bench="bench-A", operator="ann", role="supplier",
                                   batch_name="returns.csv")
        for i in range(3):
            store.record(cid, *sample(i), T0, mpxn=mpxn if i == 1 else None)
    with TestClient(create_app(kit.settings())) as c:
        sign_in(c, "ann")
        listing = c.get("/devices").text
        assert "<th>MPxN</th>" in listing and f'<td class="mpxn">{mpxn}</td>' in listing
        for needle in (mpxn, "00012345"):
            found = c.get(f"/devices?q={needle}").text
            assert "1 in all" in found and "item1<" in found and "item2<" not in found
        rid = re.search(r'href="/devices/(\d+)">item1<', listing)
        assert rid and mpxn in c.get(f"/devices/{rid.group(1)}").text  # the device page too


def test_the_device_page_loads_its_chart_when_the_browser_asks(kit: Kit) -> None:
    from harness.triage.current_trace import CurrentTrace

    trace = CurrentTrace(((0.0, 0.0), (0.021, 0.31), (0.3, 0.05), (0.62, 0.0121)),
                         "TRI-PWR-01", 1.5)
    with ResultStore.open(kit.db) as store:
        cid = store.start_campaign(bench="bench-A", operator="ann", role="supplier",
                                   batch_name="returns.csv")
        for i in range(2):
            record, verdict = sample(i)
            record.current_trace = trace if i == 0 else None
            store.record(cid, record, verdict, T0)
    with TestClient(create_app(kit.settings())) as c:
        sign_in(c, "ann")
        traced, plain = (re.search(rf'href="/devices/(\d+)">item{i}<', c.get("/devices").text)
                         for i in (0, 1))
        assert traced and plain
        page = c.get(f"/devices/{traced.group(1)}").text
        assert "data:image/png" not in page  # not drawn with the page
        assert f'src="/devices/{traced.group(1)}/current.png" decoding="async"' in page
        assert "4 samples from 0 s to 0.62 s after power-on, peak 0.31 A" in page
        chart = c.get(f"/devices/{traced.group(1)}/current.png")
        assert chart.status_code == 200 and chart.headers["content-type"] == "image/png"
        assert chart.content.startswith(b"\x89PNG") and c.get(
            f"/devices/{traced.group(1)}/current.png").content == chart.content
        assert "current.png" not in c.get(f"/devices/{plain.group(1)}").text
        assert c.get(f"/devices/{plain.group(1)}/current.png").status_code == 404
        c.cookies.clear()  # signed out: no chart either
        assert c.get(f"/devices/{traced.group(1)}/current.png",
                     follow_redirects=False).status_code == 303


def test_search_reads_stored_evidence_only_when_asked(kit: Kit) -> None:
    from sqlalchemy import create_engine, text

    with ResultStore.open(kit.db) as store:
        cid = store.start_campaign(bench="bench-A", operator="ann", role="supplier",
                                   batch_name="returns.csv")
        for i in range(3):
            record, verdict = sample(i)
            if i == 2:  # an older result: its MPxN named only in its evidence
                record.find("TRI-DUIS-01", "HAN", "ECS17 for MPAN 1900087654321 refused")
            store.record(cid, record, verdict, T0)
    engine = create_engine(kit.db)
    with engine.begin() as conn:  # the index r0006 made is what a search reads
        plan = " ".join(str(r[-1]) for r in conn.execute(text(
            "EXPLAIN QUERY PLAN SELECT id FROM device_result WHERE upper(label_id) LIKE "
            "'%L1%' OR mpxn LIKE '%L1%' ORDER BY id + 0 DESC")))
    engine.dispose()
    assert "COVERING INDEX device_result_search" in plan
    with TestClient(create_app(kit.settings())) as c:
        sign_in(c, "ann")
        assert "0 in all" in c.get("/devices?q=1900087654321").text
        deep = c.get("/devices?q=1900087654321&evidence=1").text
        assert "1 in all" in deep and "item2<" in deep and 'value="1" checked' in deep
