"""Photos from untrusted uploads: checked by content, bounded in bytes and pixels, decoded once.

Every upload path (case photos, the public report form, registry component photos) calls
``image_check`` before anything is decoded: it reads only the file's header, so a small file
that claims 20000 × 20000 pixels is refused before a byte of pixels is allocated.
``image_decode`` then decodes once, at most to ``max_side`` pixels on the long side (JPEG
decodes at a reduced scale through ``draft``), and upright by the EXIF orientation.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from civicgrid.core.errors import ValidationFailed
from civicgrid.core.limits import megabytes

ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
DEFAULT_MAX_PIXELS = 40_000_000  # about 7300 × 5500: any phone camera, far below Pillow's 89 M
DEFAULT_MAX_BYTES = 10 * 1024 * 1024

# Raised by Pillow for truncated, corrupt or hostile files; all mean "not a readable image".
UNREADABLE = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    Image.DecompressionBombError,
)


def max_pixels() -> int:
    return int(getattr(settings, "CIVICGRID_IMAGE_MAX_PIXELS", DEFAULT_MAX_PIXELS))


def max_upload_bytes() -> int:
    return int(getattr(settings, "CIVICGRID_PHOTO_MAX_BYTES", DEFAULT_MAX_BYTES))


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    format: str  # JPEG, PNG or WEBP
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return ALLOWED_FORMATS[self.format]

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


def image_check(data: bytes, *, field: str = "file", max_bytes: int | None = None) -> CheckedImage:
    """The type, size and pixel count of an upload, from its bytes and header only."""
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    if not data:
        raise ValidationFailed(_("The file is empty."), field=field)
    if len(data) > limit:
        raise ValidationFailed(
            _("The photo is larger than %(mb)s MB.") % {"mb": megabytes(limit)}, field=field
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format or ""
            width, height = probe.size
            if fmt not in ALLOWED_FORMATS:
                raise ValidationFailed(_("Send a JPEG, PNG or WebP photo."), field=field)
            if width * height > max_pixels():
                raise ValidationFailed(
                    _(
                        "The photo has %(mp)s million pixels; at most %(max)s million are "
                        "accepted. Send a smaller photo."
                    )
                    % {"mp": f"{width * height / 1e6:.1f}", "max": f"{max_pixels() / 1e6:g}"},
                    field=field,
                )
            probe.verify()
    except Image.DecompressionBombError:
        # Pillow's own limit, met only when it is set below ours: the same refusal.
        raise ValidationFailed(
            _("The photo has too many pixels. Send a smaller photo."), field=field
        ) from None
    except UNREADABLE:
        raise ValidationFailed(_("The file is not a readable image."), field=field) from None
    return CheckedImage(data=data, format=fmt, width=width, height=height)


def image_decode(checked: CheckedImage, *, max_side: int, field: str = "file") -> Image.Image:
    """The pixels, upright, at most ``max_side`` on the long side, with no metadata at all.

    A JPEG is decoded at the smallest power-of-two scale that still covers ``max_side``
    (``draft``), so a large camera photo never exists in memory at full size. Other formats
    are decoded at full size once (the pixel cap bounds that) and reduced in place.
    """
    try:
        # Not closed by a ``with``: closing would discard the pixels that are returned.
        image: Image.Image = Image.open(io.BytesIO(checked.data))
        if checked.format == "JPEG":
            scale = max(checked.width, checked.height) / max_side
            if scale > 1:
                wanted = (int(checked.width / scale) + 1, int(checked.height / scale) + 1)
                image.draft("RGB", wanted)
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
        if max(image.size) > max_side:
            image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    except UNREADABLE:
        raise ValidationFailed(_("The file is not a readable image."), field=field) from None
    # Only the pixels travel on: no EXIF, no ICC or XMP, no text chunks.
    image.info = {}
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    return image


def image_encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    elif fmt == "PNG":
        image.save(out, "PNG", compress_level=6)
    else:
        image.save(out, fmt)
    return out.getvalue()


def image_base64_decode(text: str, *, field: str) -> bytes:
    """The bytes of a photo sent in a JSON body as base64 (a ``data:`` URL too); checking
    them is ``image_check``'s work."""
    try:
        return base64.b64decode(text.split(",", 1)[-1], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(_("A photo is not valid base64."), field=field) from None
