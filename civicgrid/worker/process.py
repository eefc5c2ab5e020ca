"""A worker beside a server in one command (``civicgrid demo``)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def worker_beside() -> Iterator[subprocess.Popen[bytes]]:
    """Run ``civicgrid worker`` as a child while the block runs; it stops with the block.

    The child also watches its parent (``--parent-pid``), so a parent killed outright
    does not leave it running.
    """
    child = subprocess.Popen(
        [sys.executable, "-m", "civicgrid", "worker", "--parent-pid", str(os.getpid())],
        env=os.environ.copy(),
    )
    try:
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
