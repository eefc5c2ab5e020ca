"""Before and after photos: checked by content, limited in size, stripped for the public.

The original is kept for staff as uploaded. The copy shown outside the staff and the
thumbnail are re-encoded from pixels only, so no EXIF block (camera, time, GPS position)
survives in them.
"""

from __future__ import annotations

import hashlib
import io

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from civicgrid.cases.models import Attachment, Case
from civicgrid.core.errors import ValidationFailed
from civicgrid.people.models import User

ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
THUMBNAIL_SIZE = (320, 320)
MAX_PIXELS = 40_000_000  # refuse decompression bombs well before Pillow's own limit


def max_upload_bytes() -> int:
    return int(getattr(settings, "CIVICGRID_PHOTO_MAX_BYTES", 10 * 1024 * 1024))


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    else:
        image.save(out, fmt)
    return out.getvalue()


@transaction.atomic
def attachment_add(*, case: Case, kind: str, data: bytes, actor: User | None) -> Attachment:
    if kind not in Attachment.Kind.values:
        raise ValidationFailed(_("A photo is either before or after."), field="kind")
    if not data:
        raise ValidationFailed(_("The file is empty."), field="file")
    if len(data) > max_upload_bytes():
        raise ValidationFailed(
            _("The photo is larger than %(mb)s MB.") % {"mb": max_upload_bytes() // 1_048_576},
            field="file",
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format or ""
            width, height = probe.size
            if fmt not in ALLOWED_FORMATS:
                raise ValidationFailed(_("Send a JPEG, PNG or WebP photo."), field="file")
            if width * height > MAX_PIXELS:
                raise ValidationFailed(_("The photo has too many pixels."), field="file")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
            # Only the pixels are copied: no info dict, no EXIF, no ICC or XMP metadata.
            clean = Image.frombytes(upright.mode, upright.size, upright.tobytes())
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationFailed(_("The file is not a readable image."), field="file") from None
    if clean.mode not in ("RGB", "RGBA", "L", "LA"):
        clean = clean.convert("RGBA" if "A" in clean.getbands() else "RGB")
    public = _encode(clean, fmt)
    thumb_image = clean.copy()
    thumb_image.thumbnail(THUMBNAIL_SIZE)
    thumb = _encode(thumb_image, "JPEG")
    digest = hashlib.sha256(data).hexdigest()
    ext = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[fmt]
    attachment = Attachment(
        case=case,
        kind=kind,
        content_type=ALLOWED_FORMATS[fmt],
        size=len(data),
        sha256=digest,
        width=clean.width,
        height=clean.height,
        uploaded_by=actor,
    )
    name = f"{case.number}-{digest[:16]}"
    attachment.original.save(f"{name}.{ext}", ContentFile(data), save=False)
    attachment.public.save(f"{name}.{ext}", ContentFile(public), save=False)
    attachment.thumbnail.save(f"{name}.jpg", ContentFile(thumb), save=False)
    attachment.save()
    return attachment
