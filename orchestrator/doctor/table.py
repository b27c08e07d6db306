"""The doctor's report as the table the command prints (`--json` prints the dict itself)."""

from __future__ import annotations

COLUMNS = ("check", "switch", "result", "loss Δ", "α grad Δ", "w grad Δ", "ms/step", "images/s",
           "peak MB", "reads/step")


def render(report: dict) -> str:
    d = report["device"]
    head = f"alphadarts doctor{' --quick' if report['quick'] else ''} on {d['name']} ({d['type']}"
    head += f", {d['count']} GPU{'s' if d['count'] != 1 else ''})" if d["type"] == "cuda" else ")"
    lines = [head, ""]
    rows = [COLUMNS] + [_cells(r) for r in report["checks"]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) if i < 3 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(row, widths))).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"{_name(r)}: {r['why']}" for r in report["checks"] if r.get("why") and r["result"] != "pass"]
    notes += [f"{_name(r)}: first step {r['compile_s']:.1f} s longer (compiling)"
              for r in report["checks"] if r.get("compile_s") is not None]
    if notes:
        lines += ["", *notes]
    lines += ["", "Δ: largest relative loss difference over the steps, relative L2 difference of the first "
                  "step's gradients, each against the fp32 eager step (bounds: docs/gpu-check.md)."]
    verdict = "all checks passed" if report["passed"] else "SOME CHECKS FAILED"
    kept = f"; the runs are in {report['storage']}" if report.get("storage") else ""
    lines.append(f"{verdict} in {report['wall_s']:.0f} s{kept}")
    return "\n".join(lines)


def _name(row: dict) -> str:
    order = f" ({row['order']} order)" if row["check"] == "search" else ""
    return f"{row['check']} {row['switch']}{order}"


def _cells(row: dict) -> tuple[str, ...]:
    switch = row["switch"] + (" [2nd]" if row["check"] == "search" and row["order"] == "second" else "")
    return (row["check"], switch, row["result"], _num(row.get("loss_rel_diff")),
            _num(row.get("alpha_grad_rel_diff")), _num(row.get("weight_grad_rel_diff")),
            _num(row.get("step_ms"), ".1f"), _num(row.get("images_per_s"), ".0f"),
            _num(row.get("peak_mem_mb"), ".0f"), _num(row.get("host_reads_per_step"), "g"))


def _num(value, fmt: str = ".1e") -> str:
    return "" if value is None else format(value, fmt)
