"""``--db`` rules of the results store: no folders made, a file that is not a database refused.

``ResultStore.open`` is what a plain ``pytest --db`` run uses; ``check_db_url`` is what
``meterbench triage`` asks before a campaign starts, without writing anything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results.store import ResultStore, ResultStoreError, check_db_url


def test_open_does_not_make_missing_folders(tmp_path: Path) -> None:
    target = tmp_path / "typo" / "deeper" / "results.db"
    with pytest.raises(ResultStoreError, match=r"no folder .*typo/deeper"):
        ResultStore.open(f"sqlite:///{target}")
    assert not (tmp_path / "typo").exists()


def test_open_makes_the_file_in_an_existing_folder(tmp_path: Path) -> None:
    with ResultStore.open(f"sqlite:///{tmp_path / 'results.db'}") as store:
        assert store.count() == 0
    assert (tmp_path / "results.db").exists()


@pytest.mark.parametrize(("name", "content", "words"), [
    ("notes.db", b"these are notes\n", "is not a SQLite database"),
    ("folder", None, "is a folder"),
])
def test_check_refuses_without_touching(tmp_path: Path, name: str, content: bytes | None,
                                        words: str) -> None:
    target = tmp_path / name
    if content is None:
        target.mkdir()
    else:
        target.write_bytes(content)
    with pytest.raises(ResultStoreError, match=words):
        check_db_url(target)
    if content is not None:
        assert target.read_bytes() == content


def test_check_accepts_a_store_an_empty_file_and_a_new_file(tmp_path: Path) -> None:
    with ResultStore.open(tmp_path / "results.db"):
        pass
    (tmp_path / "empty.db").write_bytes(b"")
    for name in ("results.db", "empty.db", "new.db"):
        check_db_url(f"sqlite:///{tmp_path / name}")
    assert not (tmp_path / "new.db").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db", "results.db"]


def test_check_names_an_unknown_scheme() -> None:
    with pytest.raises(ResultStoreError, match="nosuchdb"):
        check_db_url("nosuchdb://host/db")
