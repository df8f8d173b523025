"""The README's links and the files it names resolve inside the repository, its command
examples use the current spellings, and the example lab bench it points to loads (issue 15
§6)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.bench.preflight import preflight
from harness.bench.session import BenchSession

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
EXAMPLE = REPO / "benches" / "example-lab.toml"
SECRETS = ("MB_OPTICAL_PASSWORD_ESME", "MB_OPTICAL_PASSWORD_GSME", "MB_OPTICAL_PASSWORD_CH")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_markdown_links_resolve_inside_the_repository() -> None:
    anchors = {_slug(h) for h in re.findall(r"^#+ (.+)$", README, flags=re.M)}
    for target in re.findall(r"\]\(([^)\s]+)\)", README):
        if re.match(r"https?://", target):
            continue
        path, _, anchor = target.partition("#")
        if path:
            resolved = (REPO / path).resolve()
            assert resolved.is_relative_to(REPO) and resolved.exists(), target
        else:
            assert anchor in anchors, target


def test_every_repository_path_the_readme_names_exists() -> None:
    assert "../" not in README  # nothing outside the repository
    named = set(re.findall(r"(?<![\w/.:-])((?:benches|harness|tests|test_suites|benchmarks|"
                           r"fixtures)/[\w/.*-]*\w)", README))
    assert "benches/example-lab.toml" in named
    missing = sorted(p for p in named if not list(REPO.glob(p)))
    assert missing == []


def test_the_readme_uses_the_current_spellings() -> None:
    assert not re.search(r"batch new[^\n]* -o ", README)  # --out, as every command spells it
    assert "--output" not in README.replace("`--output` and", "")
    assert "bench check --bench" in README and "--exit-zero-on-fault" in README


def test_the_example_lab_bench_loads_and_needs_only_its_secrets(
        monkeypatch: pytest.MonkeyPatch) -> None:
    session = BenchSession.from_file(EXAMPLE)
    assert not session.private  # real instruments: no emulator
    assert all(i.address for i in session.config.instruments.values())
    missing = [p.key_path for p in preflight(session)]
    assert missing == [f"slots.{s}.secrets.optical_password" for s in ("esme", "gsme", "ch")]
    for name in SECRETS:
        monkeypatch.setenv(name, "00000000")
    assert preflight(session) == []  # addresses, slots, channels and profiles all fit
