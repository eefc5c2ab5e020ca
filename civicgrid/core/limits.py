"""Size limits on what clients send, read from the settings (see docs/operations.md)."""

from __future__ import annotations

from django.conf import settings

MB = 1024 * 1024


def megabytes(size: int) -> str:
    """1_572_864 -> "1.5": sizes in messages, in MB with at most one decimal."""
    return f"{round(size / MB, 1):g}"


def request_max_bytes() -> int:
    """The whole request, files included, as its Content-Length announces it."""
    return int(getattr(settings, "CIVICGRID_MAX_REQUEST_BYTES", 64 * MB))


def body_max_bytes() -> int:
    """A request body other than files (JSON, form fields): Django's own limit."""
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0) or request_max_bytes()


def import_max_bytes() -> int:
    return int(getattr(settings, "CIVICGRID_IMPORT_MAX_BYTES", 50 * MB))


def import_max_rows() -> int:
    return int(getattr(settings, "CIVICGRID_IMPORT_MAX_ROWS", 100_000))


def import_max_unpacked_bytes() -> int:
    """An XLSX is a zip: the sum of its entries' unpacked sizes."""
    return int(getattr(settings, "CIVICGRID_IMPORT_MAX_UNPACKED_BYTES", 200 * MB))
