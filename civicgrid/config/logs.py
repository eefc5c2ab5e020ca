"""Logging filters."""

from __future__ import annotations

import logging

# Refusals and missing pages are answers, not faults: one warning line, no traceback.
ORDINARY = frozenset({403, 404})


class OrdinaryRefusals(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) in ORDINARY:
            record.exc_info = None
            record.exc_text = None
        return True
