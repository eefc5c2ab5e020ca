"""Numbers and images from untrusted input: read the way the database and Pillow can bear."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.test import override_settings
from PIL import Image

from civicgrid.core import images
from civicgrid.core.errors import ValidationFailed
from civicgrid.core.refs import MAX_ID, record_id, whole_number
from civicgrid.testing import jpeg


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` × ``height`` pixels (a decompression bomb)."""
    out = io.BytesIO()
    Image.new("L", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


@pytest.mark.parametrize("text", ["²", "١٢", "①", "1²", "", " ", "-1", "0", "1.0", "9" * 4500])
def test_record_id_refuses_what_is_not_an_ascii_id(text: str) -> None:
    assert record_id(text) is None


def test_record_id_stops_at_what_a_64_bit_column_holds() -> None:
    assert record_id(str(MAX_ID)) == MAX_ID
    assert record_id(str(MAX_ID + 1)) is None
    assert record_id(" 42 ") == 42
    assert whole_number("0") == 0 and whole_number("²") is None


def test_a_bomb_header_is_refused_before_any_pixel_is_decoded() -> None:
    bomb = png_claiming(20_000, 20_000)
    assert len(bomb) < 100
    with pytest.raises(ValidationFailed) as refused:
        images.image_check(bomb, field="photos")
    assert refused.value.field == "photos" and "pixels" in refused.value.message


def test_pixels_are_capped_well_below_pillows_own_limit() -> None:
    assert images.max_pixels() == 40_000_000 < Image.MAX_IMAGE_PIXELS
    with pytest.raises(ValidationFailed, match=r"at most 40 million"):
        images.image_check(png_claiming(8_000, 6_000))
    with override_settings(CIVICGRID_IMAGE_MAX_PIXELS=1_000):
        with pytest.raises(ValidationFailed, match="million pixels"):
            images.image_check(jpeg((40, 30)))
        assert images.image_check(jpeg((30, 30))).format == "JPEG"


def test_type_is_read_from_the_content() -> None:
    for data in (b"%PDF-1.4", b"<html><script>", b"GIF89a"):
        with pytest.raises(ValidationFailed):
            images.image_check(data)
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    with pytest.raises(ValidationFailed, match="JPEG, PNG or WebP"):
        images.image_check(gif.getvalue())


def test_a_large_jpeg_is_decoded_reduced_and_without_metadata() -> None:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    Image.new("RGB", (4000, 3000), (1, 2, 3)).save(out, "JPEG", exif=exif)
    checked = images.image_check(out.getvalue())
    assert (checked.width, checked.height) == (4000, 3000)
    decoded = images.image_decode(checked, max_side=1000)
    assert max(decoded.size) == 1000 and decoded.size == (1000, 750)
    assert decoded.info == {}
    again = Image.open(io.BytesIO(images.image_encode(decoded, "JPEG")))
    assert not again.getexif()


def test_a_truncated_image_is_not_readable() -> None:
    data = jpeg((200, 200))
    with pytest.raises(ValidationFailed, match="readable"):
        images.image_decode(images.CheckedImage(data[:300], "JPEG", 200, 200), max_side=100)
