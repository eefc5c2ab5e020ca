"""Cost of accepting one large photo: the old pipeline against the bounded one.

Issue 13, finding 8: a 115 KB PNG of 6300 × 6300 pixels cost 5 s and 360 MB per upload.
This script makes such a PNG (and a JPEG of the same size), then runs, each in a fresh
process so the peak memory is its own:

- ``before``: what ``attachment_add`` did until issue 13: decode in full, copy the pixels
  twice (EXIF transpose, then ``frombytes(tobytes())``), re-encode the full-size copy, and
  copy it once more for the thumbnail;
- ``after``: ``civicgrid.core.images``: header check, one decode (JPEG reduced by
  ``draft``), the public copy bounded to 2048 px, the thumbnail from that copy.

Run: ``.venv/bin/python benchmarks/images.py``. Prints seconds and peak resident memory
above the interpreter's own, per format and pipeline, and the ratios.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings")
os.environ.setdefault(
    "CIVICGRID_DATA_DIR", str(Path(os.environ.get("TMPDIR", "/tmp")) / "cg-bench")
)

SIDE = 6300


def make(fmt: str) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (SIDE, SIDE), (235, 235, 230))
    draw = ImageDraw.Draw(image)
    for i in range(0, SIDE, 90):
        draw.line((0, i, SIDE, SIDE - i), fill=(40, 90, 160), width=3)
        draw.ellipse((i, i, i + 300, i + 200), outline=(180, 40, 40), width=4)
    out = io.BytesIO()
    image.save(out, fmt, **({"quality": 85} if fmt == "JPEG" else {"optimize": True}))
    return out.getvalue()


def before(data: bytes) -> tuple[int, int]:
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as probe:
        fmt = probe.format
        probe.verify()
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        upright = ImageOps.exif_transpose(image)
        clean = Image.frombytes(upright.mode, upright.size, upright.tobytes())
    out = io.BytesIO()
    if fmt == "JPEG":
        clean.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    else:
        clean.save(out, fmt)
    thumb = clean.copy()
    thumb.thumbnail((320, 320))
    thumb.convert("RGB").save(io.BytesIO(), "JPEG", quality=85, optimize=True)
    return clean.size


def after(data: bytes) -> tuple[int, int]:
    from civicgrid.cases.photos import PUBLIC_MAX_SIDE, THUMBNAIL_SIZE
    from civicgrid.core import images

    checked = images.image_check(data)
    clean = images.image_decode(checked, max_side=PUBLIC_MAX_SIDE)
    images.image_encode(clean, checked.format)
    thumb = clean.copy()
    thumb.thumbnail(THUMBNAIL_SIZE)
    images.image_encode(thumb, "JPEG")
    return clean.size


def child(pipeline: str, path: str) -> None:
    data = Path(path).read_bytes()
    func = before if pipeline == "before" else after
    if pipeline == "after":
        import django

        django.setup()
    import PIL.Image  # noqa: F401  (imported before the baseline is taken)

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    size = func(data)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_mb": (peak - base) / 1024, "size": size}))


def main() -> None:
    from _common import machine_line, table

    workdir = Path(os.environ["CIVICGRID_DATA_DIR"])
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for fmt in ("PNG", "JPEG"):
        path = workdir / f"large.{fmt.lower()}"
        path.write_bytes(make(fmt))
        results = {}
        for pipeline in ("before", "after"):
            runs = [
                json.loads(
                    subprocess.run(
                        [sys.executable, __file__, "--child", pipeline, str(path)],
                        check=True,
                        capture_output=True,
                        text=True,
                    ).stdout
                )
                for _ in range(3)
            ]
            best = min(runs, key=lambda r: r["seconds"])
            results[pipeline] = best
            rows.append(
                [
                    f"{fmt} {SIDE}×{SIDE}, {path.stat().st_size // 1024} KB",
                    pipeline,
                    f"{best['seconds']:.2f}",
                    f"{max(r['peak_mb'] for r in runs):.0f}",
                    "×".join(map(str, best["size"])),
                ]
            )
        rows.append(
            [
                "",
                "before / after",
                f"{results['before']['seconds'] / results['after']['seconds']:.1f}×",
                f"{results['before']['peak_mb'] / max(results['after']['peak_mb'], 1):.1f}×",
                "",
            ]
        )
    print(machine_line())
    print("best of 3 runs; memory: peak resident set above the process before decoding")
    print(table(["photo", "pipeline", "seconds", "peak MB", "public copy"], rows))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        main()
