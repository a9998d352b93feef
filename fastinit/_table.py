"""Plain-text tables for the reports that print (propagate, audit)."""


def format_table(headers, rows, left=(0,)):
    """Columns as wide as their widest cell, separated by two spaces, under a rule;
    the columns numbered in `left` (text) left-aligned, the others (numbers) right."""
    cells = [list(map(str, headers))] + [list(map(str, row)) for row in rows]
    widths = [max(len(row[k]) for row in cells) for k in range(len(headers))]

    def line(row):
        return "  ".join(cell.ljust(w) if k in left else cell.rjust(w)
                         for k, (cell, w) in enumerate(zip(row, widths))).rstrip()
    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule] + [line(row) for row in cells[1:]])
