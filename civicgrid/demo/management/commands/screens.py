"""``civicgrid screens``: each role's home page at desktop and phone size, in both languages.

It starts a fresh demo on a free port with a temporary data directory (SQLite, no worker),
signs in with each demo account in Debian's Chromium (``CHROMIUM_PATH``), and saves what
the window shows (not the whole page: the first screen is what a person sees, and it keeps
the files small) as JPEG. Playwright comes with the test extra (``pip install -e '.[test]'``);
Chinese pages need CJK fonts (``apt-get install fonts-wqy-zenhei``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
LANGUAGES = ("zh-hans", "en")
RESIDENT = "resident"  # not signed in: the portal
QUALITY = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError(f"the demo stopped (exit {process.returncode}) before serving")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(1)
    raise CommandError(f"the demo did not answer on port {port} within {seconds:.0f} s")


class Command(BaseCommand):
    help = "Screenshots of each role's home page (desktop and phone, zh-Hans and English)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", default="docs/screens", help="folder for the images")
        parser.add_argument("--timeout", type=float, default=600, help="seconds to wait")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            raise CommandError("Playwright is missing: pip install -e '.[test]'") from None
        chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
        if not chromium or not os.path.exists(chromium):
            raise CommandError("Chromium not found (apt-get install chromium, or CHROMIUM_PATH)")
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        port = free_port()
        with tempfile.TemporaryDirectory(prefix="civicgrid-screens-") as data_dir:
            env = {**os.environ, "CIVICGRID_DATA_DIR": data_dir}
            env.pop("DATABASE_URL", None)  # the demo's own SQLite, never a configured database
            self.stdout.write(f"Creating a demo on port {port} (a minute or two)…")
            demo = subprocess.Popen(
                [sys.executable, "-m", "civicgrid", "demo", "--no-worker",
                 "--addr", f"127.0.0.1:{port}"],
                env=env, stdout=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
            try:
                wait_for(port, demo, options["timeout"])
                accounts = json.loads((Path(data_dir) / "demo-accounts.json").read_text())
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(
                        executable_path=chromium, args=["--no-sandbox"]
                    )
                    written = self._shoot(browser, f"http://127.0.0.1:{port}", accounts, out)
                    browser.close()
            finally:
                os.killpg(demo.pid, signal.SIGINT)  # the demo and the server it started
                try:
                    demo.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(demo.pid, signal.SIGKILL)
                    demo.wait()
        total = sum(p.stat().st_size for p in written)
        self.stdout.write(f"{len(written)} images in {out}, {total / 1_048_576:.1f} MB")

    def _shoot(
        self, browser: Any, origin: str, accounts: list[dict[str, str]], out: Path
    ) -> list[Path]:
        written: list[Path] = []
        people = [{"username": RESIDENT, "password": "", "role": RESIDENT}, *accounts]
        for person in people:
            for language in LANGUAGES:
                for size, (width, height) in SIZES.items():
                    context = browser.new_context(
                        locale=language,
                        extra_http_headers={"Accept-Language": language},
                        viewport={"width": width, "height": height},
                        is_mobile=size == "phone",
                        has_touch=size == "phone",
                    )
                    page = context.new_page()
                    if person["password"]:
                        page.goto(f"{origin}/accounts/login/")
                        page.fill("input[name=username]", person["username"])
                        page.fill("input[name=password]", person["password"])
                        page.click("main button[type=submit]")
                        page.wait_for_load_state("networkidle")
                    page.goto(f"{origin}/")
                    page.wait_for_load_state("networkidle")
                    page.wait_for_timeout(500)  # map tiles and charts settle
                    path = out / f"{person['role']}-{language}-{size}.jpg"
                    page.screenshot(path=str(path), type="jpeg", quality=QUALITY)
                    written.append(path)
                    self.stdout.write(f"  {path.name}  {page.url.removeprefix(origin)}")
                    context.close()
        return written
