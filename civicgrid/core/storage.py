"""Checks on where photos are stored (``STORAGES["default"]``, from ``MEDIA_STORAGE``).

Originals keep their EXIF block: camera, time and the GPS position of a resident's home.
In an object store they must stay private, readable only with the store's credentials;
the platform serves the public copies itself, after checking the case may be seen.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

PUBLIC_ACLS = {"public-read", "public-read-write", "authenticated-read"}


def media_storage_check(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """``civicgrid check``: refuse object-store options that make every photo public."""
    options = settings.STORAGES.get("default", {}).get("OPTIONS") or {}
    found: list[CheckMessage] = []
    acl = str(options.get("default_acl") or "")
    if acl in PUBLIC_ACLS:
        found.append(
            Error(
                f"MEDIA_STORAGE_OPTIONS sets default_acl={acl!r}: every original photo, with "
                "its GPS position, would be readable by anyone who learns its address.",
                hint='Use "private" (or leave it unset on a bucket that blocks public access).',
                id="civicgrid.E010",
            )
        )
    if options.get("querystring_auth") is False:
        found.append(
            Warning(
                "MEDIA_STORAGE_OPTIONS sets querystring_auth=false: file addresses the "
                "platform hands out are unsigned and work only on a public bucket.",
                hint="Leave querystring_auth unset (signed addresses that expire).",
                id="civicgrid.W011",
            )
        )
    return found
