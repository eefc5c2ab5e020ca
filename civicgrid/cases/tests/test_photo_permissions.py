"""Photo files on disk are the owner's alone: originals keep EXIF and GPS (finding 14)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from civicgrid.cases import photos
from civicgrid.cases.tests.conftest import Loop
from civicgrid.testing import jpeg


def test_photo_files_are_0600_in_0700_directories(loop: Loop, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    old = os.umask(0o022)
    try:
        attachment = photos.attachment_add(
            case=loop.report(), kind="before", data=jpeg((800, 600), gps=True), actor=loop.admin
        )
    finally:
        os.umask(old)
    for stored in (attachment.original, attachment.public, attachment.thumbnail):
        path = Path(stored.path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, stored.name
        folder = path.parent
        while folder != tmp_path:
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
            folder = folder.parent
