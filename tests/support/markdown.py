"""Checks that rendered Markdown is what GitHub will show: every table well formed."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

_PIPE = re.compile(r"(?<!\\)\|")


def _cells(line: str) -> int:
    return len(_PIPE.split(line.strip().strip("|")))


def table_problems(text: str) -> list[str]:
    """Each table's rows have the header's number of cells (no unescaped `|` inside a cell),
    every row is part of its table (no newline cut one short), and no line that looks like a
    table row is outside a table."""
    parser = MarkdownIt("commonmark", {"html": True}).enable("table")
    tokens = parser.parse(text)
    lines = text.split("\n")
    problems: list[str] = []
    in_tables: set[int] = set()
    for index, token in enumerate(tokens):
        if token.type != "table_open" or token.map is None:
            continue
        start, end = token.map
        in_tables.update(range(start, end))
        rows = lines[start:end]
        width = _cells(rows[0])
        problems += [
            f"line {start + i + 1}: {_cells(row)} cells, the header has {width}: {row!r}"
            for i, row in enumerate(rows)
            if _cells(row) != width
        ]
        close = next(i for i in range(index, len(tokens)) if tokens[i].type == "table_close")
        parsed = sum(1 for t in tokens[index:close] if t.type == "tr_open")
        if parsed != len(rows) - 1:  # the delimiter row is no row
            problems.append(f"line {start + 1}: {parsed} rows parsed of {len(rows) - 1}")
    problems += [
        f"line {i + 1}: a table row outside any table: {line!r}"
        for i, line in enumerate(lines)
        if line.startswith("|") and i not in in_tables
    ]
    return problems


def table_count(text: str) -> int:
    tokens = MarkdownIt("commonmark", {"html": True}).enable("table").parse(text)
    return sum(1 for t in tokens if t.type == "table_open")
