"""Shared benchmark plumbing: databases, a server in a subprocess, an async load generator.

Everything targets 127.0.0.1 and stops by itself: bounded duration, bounded concurrency.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh migrated database: a SQLite file, or a new database on TEST_DATABASE_URL."""
    from tests.support import migrate, scratch_postgres_database

    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            migrate(url)
            yield url
        return
    server_url = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    with scratch_postgres_database(server_url, "payportal_bench") as url:
        migrate(url)
        yield url


SERVERS = ("uvicorn", "granian")


def server_command(app: str, port: int, workers: int, kind: str = "uvicorn") -> list[str]:
    """The command serving `app` on 127.0.0.1:port: uvicorn (uvloop and httptools, as
    `uvicorn[standard]` installs them) or granian (Reflex's production server), each with
    `workers` processes and access logs off."""
    if kind == "granian":
        return [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--loop",
            "uvloop",
            "--log-level",
            "warning",
            "--no-access-log",
            "--backlog",
            "4096",
            app,
        ]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--log-level",
        "warning",
        "--no-access-log",
        "--backlog",
        "4096",
    ]


@contextmanager
def server(app: str, env: dict[str, str], workers: int = 1, kind: str = "uvicorn") -> Iterator[str]:
    port = free_port()
    cmd = server_command(app, port, workers, kind)
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    _SERVERS[base] = proc.pid
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/api/health", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        _SERVERS.pop(base, None)
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


# ---------------------------------------------------------------------------------------------
# CPU time: on a machine shared with other work, requests per second move with the neighbours'
# load; the CPU seconds our own processes spend per request hardly do.

_SERVERS: dict[str, int] = {}
_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of one process (all its threads), 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _descendants(pid: int) -> list[int]:
    found = [pid]
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                children = [int(child) for child in handle.read().split()]
        except OSError:
            continue
        for child in children:
            found += _descendants(child)
    return found


CpuMeter = Callable[[], tuple[float, dict[int, float]]]


def cpu_meter(base: str, database_url: str) -> CpuMeter:
    """A function giving the CPU seconds used so far by the server at base (supervisor and
    workers) and, on PostgreSQL, by each database backend process serving it. A backend that
    exits during a run takes its CPU time with it: the database's figure is then a lower
    bound (the pool keeps its connections open, so it does not happen under steady load)."""
    backends: Callable[[], list[int]] = list
    if database_url.startswith("postgres"):
        from sqlalchemy import create_engine, make_url, pool, text

        from backend.core.config import normalise_database_url

        url = normalise_database_url(database_url)
        name = make_url(url).database
        admin = create_engine(url, poolclass=pool.NullPool)

        def backends() -> list[int]:
            with admin.connect() as conn:
                return list(
                    conn.execute(
                        text(
                            "SELECT pid FROM pg_stat_activity WHERE datname = :name"
                            " AND pid <> pg_backend_pid()"
                        ),
                        {"name": name},
                    ).scalars()
                )

    def used() -> tuple[float, dict[int, float]]:
        app = sum(_cpu_of(pid) for pid in _descendants(_SERVERS[base]))
        return app, {pid: _cpu_of(pid) for pid in backends()}

    return used


@dataclass
class Figures:
    label: str
    requests: int
    errors: int
    seconds: float
    p50: float
    p95: float
    p99: float
    # CPU seconds during the run: the server's processes, and the database server's for it.
    cpu_seconds: tuple[float, float] | None = None

    @property
    def cpu_ms(self) -> float | None:
        """Server CPU milliseconds per request, the database server's included."""
        if self.cpu_seconds is None or not self.requests:
            return None
        return sum(self.cpu_seconds) / self.requests * 1000

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def line(self) -> str:
        cpu = ""
        if self.cpu_seconds is not None and self.cpu_ms is not None:
            database = self.cpu_seconds[1] / max(self.requests, 1) * 1000
            cpu = f"  CPU {self.cpu_ms:5.2f} ms/req"
            cpu += f" ({database:4.2f} in the database)" if database else ""
        return (
            f"{self.label:<38} {self.rate:8.0f} req/s  p50 {self.p50:6.1f} ms  "
            f"p95 {self.p95:6.1f} ms  p99 {self.p99:6.1f} ms  "
            f"non-2xx {self.errors}/{self.requests}{cpu}"
        )


_LUA = r"""
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  tid = tid or 0
  run = args[1] or ""
end
request = function()
  counter = counter + 1
  local n = tid * 100000000 + counter
  local headers = {}
  %(headers)s
  local body = %(body)s
  return wrk.format("%(method)s", "%(path)s", headers, body)
end
function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %%d %%d %%f %%f %%f %%f\n", summary.requests, errors,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


def load(
    label: str,
    base: str,
    *,
    method: str = "GET",
    path: str,
    headers: dict[str, str] | None = None,
    body_lua: str = "nil",
    concurrency: int,
    seconds: float,
    threads: int = 2,
    cpu: CpuMeter | None = None,
) -> Figures:
    """wrk (Debian's `wrk` package) drives `concurrency` connections for `seconds`.

    wrk is a C load generator: a Python client on the same two cores would measure itself.
    `body_lua` is a Lua expression for the body; `n` is a number unique to each request, and
    header values may use it too (`{n}` in a value is replaced by it, after a prefix unique to
    each wrk run, so the warm-up and the measured run never send the same value). `cpu` (see
    `cpu_meter`) is read around the measured run, to give the server's CPU time per request.
    """
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: `apt-get install wrk` (Debian's package)")
    lines = []
    for name, value in (headers or {}).items():
        if "{n}" in value:
            head, tail = value.split("{n}", 1)
            lines.append(f'headers["{name}"] = "{head}" .. run .. n .. "{tail}"')
        else:
            lines.append(f'headers["{name}"] = "{value}"')
    script = _LUA % {
        "headers": "\n  ".join(lines),
        "body": body_lua,
        "method": method,
        "path": path,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        # A short warm-up run first, so connection set-up and first-use costs are not measured.
        subprocess.run(
            [
                "wrk",
                "-t",
                str(threads),
                "-c",
                str(concurrency),
                "-d",
                "1s",
                "-s",
                handle.name,
                base,
                "--",
                f"w{secrets.token_hex(4)}-",
            ],
            capture_output=True,
            check=True,
        )
        cpu_before = cpu() if cpu else None
        done = subprocess.run(
            [
                "wrk",
                "-t",
                str(threads),
                "-c",
                str(concurrency),
                "-d",
                f"{seconds:.0f}s",
                "--timeout",
                "10s",
                "-s",
                handle.name,
                base,
                "--",
                f"m{secrets.token_hex(4)}-",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        cpu_used = None
        if cpu and cpu_before is not None:
            app, backends = cpu()
            database = sum(used - cpu_before[1].get(pid, 0.0) for pid, used in backends.items())
            cpu_used = (app - cpu_before[0], database)
    finally:
        os.unlink(handle.name)
    results = [line for line in done.stdout.splitlines() if line.startswith("RESULT")]
    if not results:
        raise RuntimeError(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
    result = results[0]
    requests, errors, duration, p50, p95, p99 = result.split()[1:]
    return Figures(
        label,
        int(requests),
        int(errors),
        float(duration),
        float(p50),
        float(p95),
        float(p99),
        cpu_used,
    )
