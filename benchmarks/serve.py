"""Django served by granian (WSGI) against gunicorn sync workers, side by side, in one run.

Each server runs our WSGI app (civicgrid.config.wsgi:application) as a subprocess on
127.0.0.1 with a free port, with 1 and then 2 worker processes (granian with one blocking
thread per worker, as `civicgrid serve` runs it), and is loaded by wrk for --seconds on:

- health: GET /api/v1/health, a trivial JSON answer (no database, no authentication);
- locate: GET /api/v1/geo/locate?lon=113.752&lat=23.021 with a Bearer token: the token
  lookup, the grid index check and the grid row all read the SQLite database.

A fresh demo township is created in a temporary data directory first (`civicgrid demo
--no-serve`, then `civicgrid token create admin`). Only loopback traffic, bounded in time.

    apt-get install -y wrk; .venv/bin/pip install gunicorn   # once
    .venv/bin/python benchmarks/serve.py                     # 8 runs of ~10 s
    .venv/bin/python benchmarks/serve.py --seconds 5 --rounds 3 --endpoints health

Without wrk a Python multi-process client is used instead, and the output says so: it is
slower than the servers, so its figures are a bound of the client, not of the servers.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.metadata
import multiprocessing
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from _common import load_average, machine_line, table

APP = "civicgrid.config.wsgi:application"
HOST = "127.0.0.1"
ENDPOINTS = {
    "health": "/api/v1/health",
    "locate": "/api/v1/geo/locate?lon=113.752&lat=23.021",
}
SERVERS = ("granian", "gunicorn")


@dataclass
class Result:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors and non-2xx answers


# --- the servers ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_command(server: str, port: int, workers: int) -> list[str]:
    if server == "granian":
        return [
            sys.executable, "-m", "granian", "--interface", "wsgi",
            "--host", HOST, "--port", str(port),
            "--workers", str(workers), "--blocking-threads", "1",
            "--log-level", "warning", "--no-access-log", APP,
        ]  # fmt: skip
    return [
        sys.executable, "-m", "gunicorn", "--worker-class", "sync",
        "--workers", str(workers), "--bind", f"{HOST}:{port}",
        "--log-level", "warning", APP,
    ]  # fmt: skip


def get(url: str, headers: dict[str, str], timeout: float = 5.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@contextlib.contextmanager
def running(server: str, workers: int, env: dict[str, str], log: Path) -> Iterator[int]:
    """Start the server, wait until /api/v1/health answers, yield its port, stop it."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            server_command(server, port, workers),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: its workers stop with it
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{server} exited ({proc.returncode}):\n{tail(log)}")
            with contextlib.suppress(OSError):
                if get(f"http://{HOST}:{port}{ENDPOINTS['health']}", {}, 1.0)[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{server} did not answer within 60 s:\n{tail(log)}")
            time.sleep(0.1)
        yield port
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the group this script created
            proc.wait(timeout=5)


def tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- load generators --------------------------------------------------------------------

_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> Result:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    if not (rate and p50 and p99):
        raise RuntimeError(f"could not read wrk output:\n{output}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors += int(non2xx.group(1)) if non2xx else 0
    return Result(float(rate.group(1)), _ms(p50.group(1)), _ms(p99.group(1)), errors)


def run_wrk(url: str, headers: dict[str, str], seconds: float, args: argparse.Namespace) -> Result:
    command = [
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{max(1, round(seconds))}s",
        "--timeout", "5s", "--latency",
    ]  # fmt: skip
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    return parse_wrk(done.stdout)


def _client(url: str, headers: dict[str, str], until: float) -> tuple[int, int, list[float]]:
    """One keep-alive connection in a loop until ``until``: (ok, errors, latencies in ms)."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    ok, errors, latencies = 0, 0, []
    while time.monotonic() < until:
        start = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.will_close:
                conn.close()
            if 200 <= response.status < 400:
                ok += 1
            else:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
        latencies.append((time.perf_counter() - start) * 1e3)
    conn.close()
    return ok, errors, latencies


def run_python_client(
    url: str, headers: dict[str, str], seconds: float, args: argparse.Namespace
) -> Result:
    until = time.monotonic() + seconds
    started = time.monotonic()
    with multiprocessing.Pool(args.connections) as pool:
        parts = pool.starmap(_client, [(url, headers, until)] * args.connections)
    elapsed = time.monotonic() - started
    latencies = sorted(x for _, _, lat in parts for x in lat)
    ok = sum(p[0] for p in parts)
    if not latencies:
        raise RuntimeError("the Python client made no request")

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))]

    return Result(ok / elapsed, pct(0.50), pct(0.99), sum(p[1] for p in parts))


# --- the run ----------------------------------------------------------------------------


def prepare(data_dir: Path, env: dict[str, str]) -> str:
    """Demo township and an API token for admin; returns the token."""
    civicgrid = [sys.executable, "-m", "civicgrid"]
    subprocess.run([*civicgrid, "demo", "--no-serve"], env=env, check=True, capture_output=True)
    done = subprocess.run(
        [*civicgrid, "token", "create", "admin", "--name", "benchmark"],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1].strip()


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="load per run (default 10)")
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured load first")
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--endpoints", default="health,locate", help=", ".join(ENDPOINTS))
    parser.add_argument("--rounds", type=int, default=1, help="repeat all runs; medians")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--python-client", action="store_true", help="do not use wrk")
    args = parser.parse_args(argv)
    worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
    endpoints = [e.strip() for e in args.endpoints.split(",") if e.strip()]
    unknown = [e for e in endpoints if e not in ENDPOINTS]
    if unknown:
        parser.error(f"--endpoints: unknown {', '.join(unknown)}; known: {', '.join(ENDPOINTS)}")
    missing = [s for s in SERVERS if version(s) == "missing"]
    if missing:
        parser.error(f"not installed: {', '.join(missing)} (pip install {' '.join(missing)})")

    use_wrk = not args.python_client and shutil.which("wrk") is not None
    load = run_wrk if use_wrk else run_python_client
    print(f"WSGI servers, {machine_line()}")
    print(
        f"Django {version('django')}, granian {version('granian')}, "
        f"gunicorn {version('gunicorn')}, SQLite (fresh demo township)"
    )
    if use_wrk:
        print(f"load: wrk, {args.threads} thread(s), {args.connections} connections, keep-alive")
    else:
        why = "--python-client" if args.python_client else "wrk not found"
        print(
            f"load: Python client ({why}), {args.connections} processes with one keep-alive "
            "connection each; it is the bottleneck: these figures bound the client"
        )
    print(
        f"{args.seconds:g} s per run after {args.warmup:g} s warm-up, {args.rounds} round(s); "
        "gunicorn sync workers close the connection after each answer (no keep-alive)"
    )
    print()

    samples: dict[tuple[str, int, str], list[Result]] = {}
    with tempfile.TemporaryDirectory(prefix="civicgrid-bench-") as tmp:
        data_dir = Path(tmp)
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG"}}
        env |= {
            "CIVICGRID_DATA_DIR": str(data_dir),
            "DJANGO_SETTINGS_MODULE": "civicgrid.config.settings",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        token = prepare(data_dir, env)
        headers = {"health": {}, "locate": {"Authorization": f"Bearer {token}"}}
        checked: set[str] = set()
        for round_no in range(args.rounds):
            # Alternate which server goes first, so drift on a shared machine evens out.
            order = SERVERS if round_no % 2 == 0 else SERVERS[::-1]
            for workers in worker_counts:
                for server in order:
                    log = data_dir / f"{server}-{workers}.log"
                    with running(server, workers, env, log) as port:
                        for endpoint in endpoints:
                            url = f"http://{HOST}:{port}{ENDPOINTS[endpoint]}"
                            status, body = get(url, headers[endpoint])
                            if status != 200:
                                raise RuntimeError(f"{server} {url}: {status} {body[:300]!r}")
                            if endpoint not in checked:
                                checked.add(endpoint)
                                print(f"{endpoint}: GET {ENDPOINTS[endpoint]} -> {body[:90]!r}")
                            if args.warmup > 0:
                                load(url, headers[endpoint], args.warmup, args)
                            result = load(url, headers[endpoint], args.seconds, args)
                            samples.setdefault((endpoint, workers, server), []).append(result)
        print()

    rows = []
    for endpoint in endpoints:
        for workers in worker_counts:
            med = {}
            for server in SERVERS:
                runs = samples[(endpoint, workers, server)]
                med[server] = Result(
                    statistics.median(r.requests_per_s for r in runs),
                    statistics.median(r.p50_ms for r in runs),
                    statistics.median(r.p99_ms for r in runs),
                    sum(r.errors for r in runs),
                )
            base = med["gunicorn"]
            for server in SERVERS:
                r = med[server]
                rows.append([
                    endpoint, workers, server, f"{r.requests_per_s:,.0f}",
                    f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}",
                    f"{r.requests_per_s / base.requests_per_s:.2f}",
                    f"{r.p99_ms / base.p99_ms:.2f}", r.errors,
                ])  # fmt: skip
    headers_row = ["endpoint", "workers", "server", "req/s", "p50 ms", "p99 ms",
                   "req/s ÷ gunicorn", "p99 ÷ gunicorn", "errors"]  # fmt: skip
    print(table(headers_row, rows))
    print()
    for endpoint in endpoints:
        scaling = []
        for server in SERVERS:
            rates = [
                statistics.median(r.requests_per_s for r in samples[(endpoint, w, server)])
                for w in worker_counts
            ]
            scaling.append(f"{server} {rates[-1] / rates[0]:.2f}×")
        if len(worker_counts) > 1:
            print(
                f"{endpoint}: {worker_counts[-1]} workers vs {worker_counts[0]}: "
                + ", ".join(scaling)
            )
    print(f"load average at the end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
