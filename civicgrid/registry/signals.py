"""Signals the registries send; other apps listen without the registries knowing them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after commit when an urban component's state becomes damaged or missing (on create,
# or on an update that changes the state). Keyword arguments: ``component`` (the
# UrbanComponent as saved) and ``actor`` (the User who changed it, ``None`` for the system).
component_broken = Signal()
