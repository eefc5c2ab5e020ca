"""Before and after photos: checked by content, limited in size, stripped for the public.

The original is kept for staff as uploaded. The copy shown outside the staff and the
thumbnail are re-encoded from pixels only, so no EXIF block (camera, time, GPS position)
survives in them; a background task makes them (``attachment_derive``), off the request.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import weakref
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image

from civicgrid.cases.models import Attachment, Case
from civicgrid.core import images
from civicgrid.core.errors import ValidationFailed
from civicgrid.people.models import User
from civicgrid.worker.queue import enqueue_with_write

ORIENTATION = 0x0112  # the EXIF tag

THUMBNAIL_SIZE = (320, 320)
# The copy shown outside the staff: enough for any screen, and it bounds the cost of
# re-encoding a large photo (the staff keep the original as uploaded).
PUBLIC_MAX_SIDE = 2048


def max_upload_bytes() -> int:
    return images.max_upload_bytes()


# ---------------------------------------------------------------------------- files and rollback
#
# A photo's three files are written before the row that names them, inside the caller's
# transaction; if that transaction (or the savepoint the photo was added in) rolls back,
# the files are deleted. The other way round -- keep the bytes and write them in
# ``on_commit`` -- was not chosen because it breaks reads: between the COMMIT and the
# callback, and for good if the write then fails (disk full, storage down), a committed
# row names a file that does not exist, and code later in the same transaction (the
# response that shows the new photo, a test) cannot open it. Writing first means every
# row anyone can see has its files; the cost is a short-lived file without a row, which
# no reader can reach and which the rollback removes.
#
# Django has no rollback hook, but its commit hooks carry the information: a callback
# registered with ``on_commit`` is held only by the connection and is dropped, uncalled,
# exactly when its transaction or savepoint rolls back (or the connection is closed with
# the transaction open); on commit it is called first. The callback below is that only
# reference, so CPython frees it at that moment, and its finalizer deletes the files
# unless it was called. The files are registered before the first write, so a failure
# while writing the second or third file removes the first.


class _Pending:
    """State shared by the commit callback and its finalizer (which must not hold it)."""

    __slots__ = ("committed",)

    def __init__(self) -> None:
        self.committed = False


class _OnCommit:
    __slots__ = ("__weakref__", "pending")

    def __init__(self, pending: _Pending) -> None:
        self.pending = pending

    def __call__(self) -> None:
        self.pending.committed = True


def _delete_unless_committed(pending: _Pending, storage: Storage, names: list[str]) -> None:
    if pending.committed:
        return
    for name in names:
        # A finalizer must not raise; a file it cannot delete is at worst an orphan.
        with contextlib.suppress(OSError):
            storage.delete(name)


def _removed_on_rollback(storage: Storage) -> list[str]:
    """A list to append written names to; they are deleted if the transaction rolls back.

    Kept out of the caller's frame on purpose: a traceback holding the caller's locals
    must not keep the commit callback alive.
    """
    names: list[str] = []
    pending = _Pending()
    callback = _OnCommit(pending)
    weakref.finalize(callback, _delete_unless_committed, pending, storage, names)
    transaction.on_commit(callback)
    return names


def _write(field: Any, name: str, data: bytes, written: list[str]) -> None:
    field.save(name, ContentFile(data), save=False)
    written.append(field.name)


def _upright_size(checked: images.CheckedImage) -> tuple[int, int]:
    """The size of the photo as taken and turned upright, from the EXIF orientation only."""
    width, height = checked.width, checked.height
    with contextlib.suppress(*images.UNREADABLE), Image.open(io.BytesIO(checked.data)) as probe:
        if probe.getexif().get(ORIENTATION) in {5, 6, 7, 8}:  # turned by a quarter
            width, height = height, width
    return width, height


@transaction.atomic
def attachment_add(*, case: Case, kind: str, data: bytes, actor: User | None) -> Attachment:
    """Keep the original (checked from its header only) and queue the derived copies.

    Decoding and re-encoding a camera photo takes a noticeable time and memory, so the
    copy without metadata and the thumbnail are made by ``attachment_derive`` in the
    worker, enqueued with this write. Until then the public pages do not show the photo
    and the staff pages show the original.
    """
    if kind not in Attachment.Kind.values:
        raise ValidationFailed(_("A photo is either before or after."), field="kind")
    checked = images.image_check(data, field="file")
    digest = hashlib.sha256(data).hexdigest()
    width, height = _upright_size(checked)
    attachment = Attachment(
        case=case,
        kind=kind,
        content_type=checked.content_type,
        size=len(data),
        sha256=digest,
        width=width,
        height=height,
        uploaded_by=actor,
    )
    written = _removed_on_rollback(attachment.original.storage)
    _write(attachment.original, f"{_base_name(attachment)}.{checked.extension}", data, written)
    attachment.save()
    from civicgrid.cases.tasks import attachment_derive_job

    enqueue_with_write(attachment_derive_job, attachment.pk)
    attachment.refresh_from_db(fields=["public", "thumbnail"])  # made already by some backends
    return attachment


def _base_name(attachment: Attachment) -> str:
    return f"{attachment.case.number}-{attachment.sha256[:16]}"


@transaction.atomic
def attachment_derive(*, attachment_id: int) -> bool:
    """Write the copy without metadata and the thumbnail; False when there is nothing to do.

    Safe to run twice or on two workers at once: the row names its copies only through a
    compare-and-swap from "none yet", and the loser's files go with its rolled-back
    savepoint.
    """
    attachment = Attachment.objects.select_related("case").filter(pk=attachment_id).first()
    if attachment is None or attachment.public:
        return False
    with attachment.original.open("rb") as stored:
        data = stored.read()
    checked = images.image_check(data, field="file", max_bytes=len(data))
    clean = images.image_decode(checked, max_side=PUBLIC_MAX_SIDE, field="file")
    public = images.image_encode(clean, checked.format)
    thumb_image = clean.copy()
    thumb_image.thumbnail(THUMBNAIL_SIZE)
    thumb = images.image_encode(thumb_image, "JPEG")
    with transaction.atomic():
        written = _removed_on_rollback(attachment.public.storage)
        name = _base_name(attachment)
        _write(attachment.public, f"{name}.{checked.extension}", public, written)
        _write(attachment.thumbnail, f"{name}.jpg", thumb, written)
        claimed = Attachment.objects.filter(pk=attachment.pk, public="").update(
            public=attachment.public.name, thumbnail=attachment.thumbnail.name
        )
        if not claimed:
            transaction.set_rollback(True)  # another run was first: drop these files
    return bool(claimed)
