"""Small helpers shared by the benchmark scripts: timing, tables, the machine line."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any


def timed(func: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Median wall time in seconds over ``repeat`` calls, and the last call's result."""
    times = []
    result = None
    for _ in range(max(repeat, 1)):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def machine_line() -> str:
    """One line naming what the figures were measured on (no host names, no paths)."""
    return (
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, load average {load_average()}"
    )


def human(value: float, digits: int = 3) -> str:
    """1234567 -> '1.23 M', 4321 -> '4.32 k'."""
    for factor, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(value) >= factor:
            return f"{value / factor:#.{digits}g}".rstrip(".") + suffix
    return f"{value:#.{digits}g}".rstrip(".")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table, numbers right-aligned, that also reads as Markdown."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def numeric(text: str) -> bool:
        return text[:1].isdigit() or (text[:1] in "-+." and text[1:2].isdigit())

    def line(row: Sequence[str]) -> str:
        parts = [c.rjust(w) if numeric(c) else c.ljust(w) for c, w in zip(row, widths, strict=True)]
        return "| " + " | ".join(parts) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(list(headers)), rule, *(line(r) for r in cells)])
