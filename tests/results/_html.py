"""A small reader of the report's HTML for tests (the standard library's ``html.parser``):
its tables as rows of cell texts, its links and embedded resources, its visible text."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path


@dataclass
class Table:
    """One ``<table>``: its id and rows, each a list of (tag, text) cells."""

    id: str | None
    rows: list[list[tuple[str, str]]] = field(default_factory=list)

    @property
    def head(self) -> list[str]:
        """The first row's cell texts (the header row)."""
        return [text for _, text in self.rows[0]]

    def records(self) -> list[dict[str, str]]:
        """The rows after the header, as header -> text."""
        return [dict(zip(self.head, (t for _, t in row), strict=True)) for row in self.rows[1:]]


class Page(HTMLParser):
    """A parsed page: ``tables``, ``links`` (href), ``sources`` (src), ``scripts`` (inline
    code), ``text`` (all text), ``attrs`` (every start tag's attributes)."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[Table] = []
        self.links: list[str] = []
        self.sources: list[str] = []
        self.scripts: list[str] = []
        self.attrs: list[tuple[str, dict[str, str | None]]] = []
        self.text = ""
        self._stack: list[Table] = []
        self._cell: list[str] | None = None
        self._in_script = False
        self.feed(source)
        self.close()

    @classmethod
    def read(cls, path: Path) -> Page:
        """Parse the page at ``path``."""
        return cls(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.attrs.append((tag, found))
        if tag == "table":
            self._stack.append(Table(found.get("id")))
            self.tables.append(self._stack[-1])
        elif tag == "tr" and self._stack:
            self._stack[-1].rows.append([])
        elif tag in ("td", "th") and self._stack:
            self._cell = []
            self._stack[-1].rows[-1].append((tag, ""))
        elif tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        elif tag == "script":
            self._in_script = True
            self.scripts.append("")
        if found.get("src"):
            self.sources.append(str(found["src"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._stack:
            self._stack.pop()
        elif tag in ("td", "th") and self._cell is not None and self._stack:
            row = self._stack[-1].rows[-1]
            row[-1] = (row[-1][0], " ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
            return
        self.text += data
        if self._cell is not None:
            self._cell.append(data)

    def table(self, table_id: str) -> Table:
        """The table with this id."""
        return next(t for t in self.tables if t.id == table_id)
