"""The comparison page's tables come from ``benchmarks/results/*.md`` (doc/_ext/benchmark_tables.py)."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "doc" / "_ext"))
benchmark_tables = pytest.importorskip("benchmark_tables")

RESULTS = sorted((ROOT / "benchmarks" / "results").glob("*.md"))


def test_markdown_subset():
    markdown = "# Title\n\nText with `code`, **bold** and a * star.\n\n## case: details\n\n| a | b |\n|---|---|\n| 1 | `x` |\n"
    rst = benchmark_tables.markdown_to_rst(markdown)
    assert "Title" not in rst  # the including page has the title
    assert "case\n----\n\ndetails" in rst
    assert "``code``" in rst and "**bold**" in rst and "a \\* star" in rst
    assert ".. list-table::" in rst and "   * - a\n     - b\n   * - 1\n     - ``x``" in rst


@pytest.mark.parametrize("path", RESULTS, ids=[p.name for p in RESULTS])
def test_results_tables_are_rectangular(path):
    tables = benchmark_tables.read_tables(path)
    assert tables, f"{path.name} has no table"
    for heading, header, rows in tables:
        for row in rows:
            assert len(row) == len(header), f"{path.name}, {heading}: row {row[0]!r} has {len(row)} cells"
