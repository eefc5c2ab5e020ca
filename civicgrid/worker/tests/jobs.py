"""Tasks the worker tests enqueue; they leave their traces in files, outside the database."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from django.tasks import task


@task
def record_run(log: str, label: str) -> str:
    with Path(log).open("a") as out:
        out.write(f"{label} {os.getpid()}\n")
    time.sleep(0.02)  # hold the task a moment so the two workers' polls interleave
    return label


@task
def crash_once(marker: str, log: str) -> str:
    """Kill the worker process running it the first time (like kill -9 or a power cut)."""
    if not Path(marker).exists():
        Path(marker).write_text("crashed")
        os.kill(os.getpid(), signal.SIGKILL)
    with Path(log).open("a") as out:
        out.write(f"done {os.getpid()}\n")
    return "done"
