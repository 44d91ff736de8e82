"""Turn ``benchmarks/results/*.md`` into reStructuredText at build time.

The "how it compares" page includes the generated files, so its tables are always those of the
results files (rerun a benchmark, rebuild the docs). Only what those files use is converted: ``#``
headings (the title dropped, the others shifted below the including section), paragraphs, pipe tables (as ``list-table``), inline code,
bold and links.
"""

import re
from pathlib import Path

HEADING_CHARS = "-~^\""  # by rank below the file's title; the including page owns "=" and the title


def inline(text):
    """Markdown inline markup to reStructuredText."""
    text = text.replace("\\", "\\\\").replace("*", "\\*").replace("|", "\\|")
    text = re.sub(r"`([^`]+)`", lambda m: "``" + m.group(1).replace("\\\\", "\\").replace("\\*", "*") + "``", text)
    text = re.sub(r"\\\*\\\*(.+?)\\\*\\\*", r"**\1**", text)
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"`\1 <\2>`__", text)
    return text


def _cells(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def table(lines):
    header, rows = _cells(lines[0]), [_cells(line) for line in lines[2:]]
    out = [".. list-table::", "   :header-rows: 1", "   :class: benchmark-table", ""]
    for row in [header, *rows]:
        row = row + [""] * (len(header) - len(row))
        for k, cell in enumerate(row):
            out.append(("   * - " if k == 0 else "     - ") + (inline(cell) if cell else ""))
    return out + [""]


def markdown_to_rst(markdown):
    """The subset of Markdown the benchmark scripts write, as reStructuredText."""
    lines, out, k = markdown.splitlines(), [], 0
    # the file's own title (its first level) is dropped: the including page has a section for it
    depths = sorted({len(m.group(1)) for m in re.finditer(r"^(#+)\s", markdown, flags=re.M)})
    rank = {depth: position - 1 for position, depth in enumerate(depths)}
    while k < len(lines):
        line = lines[k]
        heading = re.match(r"^(#+)\s+(.*)$", line)
        if heading:
            level = rank[len(heading.group(1))]
            if level >= 0:
                # "case: long description" -> the case as the heading, the description below it
                title, _, description = heading.group(2).strip().partition(": ")
                title = inline(title)
                out += [title, HEADING_CHARS[min(level, 3)] * max(len(title), 4), ""]
                if description:
                    out += [inline(description), ""]
            k += 1
        elif line.lstrip().startswith("|"):
            block = []
            while k < len(lines) and lines[k].lstrip().startswith("|"):
                block.append(lines[k])
                k += 1
            out += table(block)
        elif line.startswith("```"):
            k += 1
            out += ["::", ""]
            while k < len(lines) and not lines[k].startswith("```"):
                out.append("   " + lines[k])
                k += 1
            out.append("")
            k += 1
        else:
            out.append(inline(line) if line.strip() else "")
            k += 1
    return "\n".join(out) + "\n"


def generate(app):
    """Write ``doc/generated/benchmarks/<name>.rst`` for every results file (when it changed)."""
    source = Path(app.srcdir).parent / "benchmarks" / "results"
    target = Path(app.srcdir) / "generated" / "benchmarks"
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.md")):
        rst = markdown_to_rst(path.read_text(encoding="utf-8"))
        out = target / f"{path.stem}.rst"
        if not out.exists() or out.read_text(encoding="utf-8") != rst:
            out.write_text(rst, encoding="utf-8")


def setup(app):
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def read_tables(path):
    """``[(heading, header, rows)]`` of the pipe tables of a results file, each under its heading."""
    tables, heading, lines = [], None, Path(path).read_text(encoding="utf-8").splitlines()
    k = 0
    while k < len(lines):
        if lines[k].startswith("#"):
            heading = lines[k].lstrip("#").strip()
        if lines[k].lstrip().startswith("|"):
            block = []
            while k < len(lines) and lines[k].lstrip().startswith("|"):
                block.append(lines[k])
                k += 1
            tables.append((heading, _cells(block[0]), [_cells(line) for line in block[2:]]))
            continue
        k += 1
    return tables
