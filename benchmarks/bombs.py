"""How fast the hostile uploads of issue 13 are refused, at the size the review used.

- an XLSX of about 2 MB whose sheet unpacks to 625 MB of XML (the review: the server
  unanswered for 160 s and over 1 GB of memory);
- a 20000 × 20000 PNG header (400 M pixels) on the photo check.

Both go through the code the requests use (``registry_import`` with the system as actor, so
no database is touched before the refusal; ``image_check``). Prints seconds and the peak
resident memory of this process above what it used before.

Run: ``.venv/bin/python benchmarks/bombs.py [--xml-mb 625]``.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings")
os.environ.setdefault("CIVICGRID_DATA_DIR", str(Path(tempfile.gettempdir()) / "cg-bench"))

ROW = b'<row r="2"><c r="A2" t="inlineStr"><is><t>H0001</t></is></c></row>'


def xlsx_bomb(path: Path, xml_mb: int) -> None:
    """A workbook whose one sheet holds ``xml_mb`` MB of rows, written without holding them."""
    from openpyxl import Workbook

    plain = io.BytesIO()
    Workbook().save(plain)
    with (
        zipfile.ZipFile(plain) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out,
    ):
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename != "xl/worksheets/sheet1.xml":
                out.writestr(entry, data)
                continue
            head, _, tail = data.partition(b"</sheetData>")
            chunk = ROW * (1024 * 1024 // len(ROW))
            with out.open(entry.filename, "w", force_zip64=True) as sheet:
                sheet.write(head)
                for _ in range(xml_mb):
                    sheet.write(chunk)
                sheet.write(b"</sheetData>" + tail)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--xml-mb", type=int, default=625)
    args = parser.parse_args()

    import django

    django.setup()
    from django.utils import translation

    translation.activate("en")
    from _common import machine_line, table

    from civicgrid.core import images
    from civicgrid.core.errors import ValidationFailed
    from civicgrid.core.tests.test_input_bounds import png_claiming
    from civicgrid.registry import transfer

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bomb.xlsx"
        xlsx_bomb(path, args.xml_mb)
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(e.file_size for e in archive.infolist())
        before = peak_mb()
        start = time.perf_counter()
        with path.open("rb") as stream:
            try:
                report = transfer.registry_import(
                    kind="houses", stream=stream, name="b.xlsx", actor=None, dry_run=True
                )
                outcome = f"parsed: {report.rows} rows, {len(report.problems)} problems"
            except ValidationFailed as refused:
                outcome = f"422 {refused.message}"
        rows.append(
            [
                f"XLSX {path.stat().st_size / 1e6:.1f} MB, unpacks to {unpacked / 1e6:.0f} MB",
                f"{time.perf_counter() - start:.3f}",
                f"{max(peak_mb() - before, 0):.0f}",
                outcome,
            ]
        )
    bomb = png_claiming(20_000, 20_000)
    before = peak_mb()
    start = time.perf_counter()
    try:
        images.image_check(bomb)
        outcome = "accepted"
    except ValidationFailed as refused:
        outcome = f"422 {refused.message}"
    rows.append(
        [
            f"PNG {len(bomb)} bytes claiming 20000×20000",
            f"{time.perf_counter() - start:.4f}",
            f"{max(peak_mb() - before, 0):.0f}",
            outcome,
        ]
    )
    print(machine_line())
    print(table(["upload", "seconds to refuse", "extra peak MB", "answer"], rows))


if __name__ == "__main__":
    main()
