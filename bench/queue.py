"""Queue benchmark: import, export, next-task / submit latency, saturation, realistic load.

Everything goes through the product's real entry points: ``labelops import`` and
``labelops export`` as subprocesses (end-to-end, Python start-up included), and the
REST API served by ``labelops serve`` in a separate process (so its memory can be read
from ``/proc/<pid>/status``). Per database it measures:

* import of N items (JSONL, zh-Hant + English ad text generated with a fixed seed) into
  a project, and of 10,000 items into a second one;
* export of a finalized snapshot of the N-item project (the snapshot's final-label rows
  are written by one SQL statement: finalize itself is not timed here);
* one labeller, ``POST next`` then ``POST label``, p50 / p95 / p99 latency at 10,000 and
  at N tasks, with a new TCP connection per request and over one kept-alive connection
  (and once with next's ``GET`` alias of Bearer-token clients, at N tasks, kept alive);
* saturation: 50 labellers with no think time, labels per second (the load generator
  shares the machine: it runs on uvloop, one kept-alive connection per labeller);
* realistic load: 1,000 labellers each doing next + submit every 5 s (~200 pairs/s);
* server memory: VmHWM (peak RSS) of the server processes.

Label Studio 1.23.2's figures, measured on this machine earlier (its pip server on
SQLite, one labeller; recorded here on 2026-11-25), are printed beside ours for
reference; they are not re-run here, and each says the size it was measured at, which
is not ours (the column's header and a note under the table say so).

Run::

    .venv/bin/python bench/queue.py --db both \\
        --pg-url postgresql://labelops:labelops@127.0.0.1:5432/labelops_bench
    .venv/bin/python bench/queue.py --db sqlite --quick      # smoke run, ~1 minute

The PostgreSQL database named by ``--pg-url`` (or ``LABELOPS_BENCH_PG_URL``) is WIPED
(its ``public`` schema is dropped): give it a database of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import orjson
import uvloop

T = TypeVar("T")
HERE = Path(__file__).resolve().parent
LABELOPS = str(Path(sys.executable).parent / "labelops")
KEYS = ["compliant", "gambling", "financial_scam", "adult"]
TAXONOMY: dict[str, Any] = {
    "key": "bench-ads",
    "version": 1,
    "mode": "single",
    "name": {"en": "Bench ads policy", "zh-Hant": "基準廣告政策"},
    "labels": [
        {"key": key, "name": {"en": en, "zh-Hant": zh}, "definition": {"en": en, "zh-Hant": zh}}
        for key, en, zh in (
            ("compliant", "Compliant", "合規"),
            ("gambling", "Gambling", "賭博"),
            ("financial_scam", "Financial scam", "金融詐騙"),
            ("adult", "Adult", "成人內容"),
        )
    ],
}

# Label Studio 1.23.2 on this machine (pip server, SQLite, one labeller), remembered:
# measured once, recorded on LABEL_STUDIO_MEASURED, at the size in brackets.
LABEL_STUDIO_MEASURED = "2026-11-25"
LABEL_STUDIO = {
    "import_10k": "5,700/s (10k)",
    "import_big": "6,500/s (50k)",
    "export": "700-1,000/s (size not recorded)",
    "next_new_10k": "37-41 / p99 53-62 (10k)",
    "next_new_big": "72-89 / p99 115-262 (50k)",
    "submit": "40-52 median (size not recorded)",
    "rss": "340 idle, 440-780 peak",
}

_ZH = [
    "限時優惠！全館商品下殺五折",
    "免費領取iPhone 16，只要加LINE好友",
    "保證獲利，每月穩賺百分之二十",
    "台北市信義區新建案，首付只要九十九萬",
    "減肥神藥，七天瘦十公斤不復胖",
    "正品名牌包，工廠直營價",
    "線上娛樂城，首儲送一千",
    "醫師推薦保健食品，改善三高",
    "香港六合彩內幕消息，包中",
    "週年慶滿千送百，會員再享九折",
]
_EN = [
    "Limited offer, 50% off everything",
    "Guaranteed returns every month",
    "Doctor-recommended supplement",
    "Genuine designer bags at factory prices",
    "Sign up today and get a bonus",
]


@dataclass
class Figures:
    """Measured numbers for one database (None: not measured)."""

    db: str
    values: dict[str, str] = field(default_factory=dict)


def write_items(path: Path, n: int, *, prefix: str, seed: int) -> None:
    """``n`` JSONL items with deterministic zh-Hant + English text; ids are unique."""
    rng = random.Random(seed)
    with open(path, "wb") as handle:
        lines = []
        for index in range(n):
            zh = "，".join(rng.choices(_ZH, k=rng.randint(1, 3)))
            text = f"{zh} 第{index}號 NT${rng.randint(99, 99999)} / {rng.choice(_EN)} #{index}"
            record = {
                "external_id": f"{prefix}-{index:08d}",
                "text": text,
                "advertiser": f"adv-{rng.randint(1, 5000)}",
                "market": "TW" if index % 3 else "HK",
                "language": "zh-Hant",
            }
            lines.append(orjson.dumps(record))
            if len(lines) == 50_000:
                handle.write(b"\n".join(lines) + b"\n")
                lines = []
        if lines:
            handle.write(b"\n".join(lines) + b"\n")


def run_cli(env: dict[str, str], *args: str) -> tuple[float, dict[str, Any]]:
    """Run ``labelops ARGS --json``; returns wall seconds and the JSON it printed."""
    started = time.perf_counter()
    done = subprocess.run(
        [LABELOPS, *args, "--json"], env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"labelops {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, json.loads(done.stdout)


def prepare_database(db: str, url: str, home: Path) -> dict[str, str]:
    """A fresh, migrated database; returns the environment the CLI and server use."""
    from sqlalchemy import text

    from labelops.store.engine import create_engine_for
    from labelops.store.migrate import upgrade

    if db == "sqlite":  # a kept --workdir may hold the database of an earlier run
        database = Path(url.split("///", 1)[1])
        for leftover in database.parent.glob(database.name + "*"):
            leftover.unlink()
    engine = create_engine_for(url)
    if db == "postgres":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    env = {key: value for key, value in os.environ.items() if not key.startswith("LABELOPS_")}
    env.update(
        LABELOPS_DATABASE_URL=url,
        LABELOPS_HOME=str(home),
        LABELOPS_LANG="en",
        LABELOPS_SESSION_SECRET="bench",
    )
    return env


@dataclass
class World:
    """The people and projects the bench works with."""

    big_project: int
    small_project: int
    tokens: list[str]
    admin_token: str


def make_world(url: str, n_labellers: int) -> World:
    """Vendor, taxonomy, two projects (overlap 3), an admin and ``n_labellers`` labellers."""
    from labelops.services import directory, projects, taxonomies
    from labelops.services.policy import SYSTEM_ACTOR
    from labelops.store.engine import create_engine_for, make_session_factory
    from labelops.types import Role

    engine = create_engine_for(url)
    with make_session_factory(engine)() as session:
        vendor = directory.create_vendor(session, SYSTEM_ACTOR, "bench-vendor")
        spec = taxonomies.parse_taxonomy(TAXONOMY)
        taxonomy, _ = taxonomies.create_taxonomy(session, SYSTEM_ACTOR, spec)
        ids = []
        for name in ("bench-big", "bench-10k"):
            project = projects.create_project(
                session,
                SYSTEM_ACTOR,
                name,
                taxonomy_id=taxonomy.id,
                overlap=3,
                vendor_ids=[vendor.id],
            )
            ids.append(project.id)
        admin = directory.create_user(session, SYSTEM_ACTOR, "bench-admin", role=Role.ADMIN)
        tokens = [
            directory.create_user(
                session, SYSTEM_ACTOR, f"bench-{i:04d}", role=Role.LABELLER, vendor_id=vendor.id
            ).token
            for i in range(n_labellers)
        ]
    engine.dispose()
    return World(ids[0], ids[1], tokens, admin.token)


def make_snapshot(url: str, project_id: int) -> int:
    """A snapshot with one final label per task of the project, written in SQL."""
    from sqlalchemy import insert, literal, select

    from labelops.store.engine import create_engine_for
    from labelops.store.models import FinalLabel, Snapshot, Task
    from labelops.store.types import utcnow

    engine = create_engine_for(url)
    now = utcnow()
    with engine.begin() as connection:
        snapshot_id = connection.execute(
            insert(Snapshot)
            .values(project_id=project_id, method="majority", created_at=now, summary={})
            .returning(Snapshot.id)
        ).scalar_one()
        source = select(
            Task.id,
            Task.project_id,
            literal(snapshot_id),
            literal(["compliant"], FinalLabel.value.type),
            literal("majority"),
            literal(1.0),
            literal("final"),
            literal(3),
            literal(now, FinalLabel.updated_at.type),
        ).where(Task.project_id == project_id)
        connection.execute(
            insert(FinalLabel).from_select(
                [
                    "task_id",
                    "project_id",
                    "snapshot_id",
                    "value",
                    "method",
                    "confidence",
                    "status",
                    "n_labels",
                    "updated_at",
                ],
                source,
            )
        )
    engine.dispose()
    return int(snapshot_id)


def settle_postgres(url: str) -> None:
    """VACUUM ANALYZE the tables a bulk import and the snapshot just filled, then
    CHECKPOINT.

    The import leaves about a gigabyte of dirty pages that the checkpointer otherwise
    writes out over the following minutes, while the one-labeller rows run: each
    submit's WAL flush then queued behind those writes (a p99 of 17.8 ms in one run,
    4-8 ms in others). pgbench, too, checkpoints before it measures. Needs a superuser
    (``.ci/run``'s role is one); without, the rows measure with the writes pending.
    """
    from sqlalchemy.exc import DBAPIError

    from labelops.store.engine import create_engine_for

    engine = create_engine_for(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE items, tasks, final_labels")
        try:
            connection.exec_driver_sql("CHECKPOINT")
        except DBAPIError as error:
            print(f"  (no CHECKPOINT before the latency rows: {error.orig})", flush=True)
    engine.dispose()


class Server:
    """``labelops serve`` in a child process on a free loopback port."""

    def __init__(self, env: dict[str, str], workers: int) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [LABELOPS, "serve", "--port", str(self.port), "--workers", str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.workers = workers
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/api/health")
                if connection.getresponse().status == 200:
                    connection.close()
                    break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {self.process.stderr!r}")
            time.sleep(0.2)
        time.sleep(0.5 if workers == 1 else 2.0)  # let every worker finish booting

    def pids(self) -> list[int]:
        """The server process and its worker processes."""
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        return pids

    def memory_mib(self, key: str) -> float:
        """Sum over the server's processes of a /proc status field (VmRSS, VmHWM), MiB."""
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith(key + ":"):
                        total += int(line.split()[1])
            except FileNotFoundError:
                continue
        return total / 1024

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by the server's processes (s)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / ticks

    def stop(self) -> None:
        """Terminate the server and wait for it."""
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _answer(index: int) -> str:
    return KEYS[index % 7 % len(KEYS)]


def one_labeller(
    port: int, token: str, project_id: int, n: int, *, keep_alive: bool, next_method: str = "POST"
) -> tuple[list[float], list[float]]:
    """``n`` next + submit pairs by one labeller; returns both latency lists (ms).

    ``next_method``: ``POST``, or ``GET`` (the alias kept for Bearer-token clients)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    next_ms: list[float] = []
    submit_ms: list[float] = []
    connection = http.client.HTTPConnection("127.0.0.1", port) if keep_alive else None

    def call(method: str, path: str, body: bytes | None) -> tuple[int, bytes, float]:
        nonlocal connection
        started = time.perf_counter()
        if connection is None:
            one = http.client.HTTPConnection("127.0.0.1", port)
            one.request(method, path, body=body, headers={**headers, "Connection": "close"})
            response = one.getresponse()
            data = response.read()
            one.close()
        else:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        return response.status, data, (time.perf_counter() - started) * 1000

    for index in range(n):
        status, data, elapsed = call(next_method, f"/api/projects/{project_id}/next", None)
        if status != 200:
            raise RuntimeError(f"next: {status} {data[:200]!r}")
        next_ms.append(elapsed)
        assignment = orjson.loads(data)["assignment_id"]
        body = orjson.dumps({"label": _answer(index)})
        status, data, elapsed = call("POST", f"/api/assignments/{assignment}/label", body)
        if status != 201:
            raise RuntimeError(f"submit: {status} {data[:200]!r}")
        submit_ms.append(elapsed)
    if connection is not None:
        connection.close()
    return next_ms, submit_ms


def percentiles(values: Sequence[float]) -> tuple[float, float, float]:
    """p50, p95, p99 of ``values``."""
    if len(values) < 2:
        return (values[0],) * 3 if values else (float("nan"),) * 3
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return statistics.median(values), cuts[94], cuts[98]


def fmt_ms(values: Sequence[float]) -> str:
    p50, p95, p99 = percentiles(values)
    return f"{p50:.1f} / {p95:.1f} / {p99:.1f}"


class RawClient:
    """A minimal keep-alive HTTP/1.1 client: an asyncio ``Protocol`` that parses each
    response from its buffer in one pass.

    The saturation run uses it because the load generator shares the machine's two
    cores with the server: httpx costs several times more CPU per request, and asyncio
    streams (a ``readline`` per header) twice as much as this, CPU taken from the server
    being measured. Only what the server sends is understood: a ``content-length``
    body, no chunking.
    """

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.auth = f"Authorization: Bearer {token}\r\n\r\n".encode()
        self.transport: asyncio.Transport | None = None
        self.protocol: _ResponseReader | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        """One request on the kept-alive connection (opened when there is none)."""
        if self.transport is None or self.protocol is None or self.protocol.lost:
            loop = asyncio.get_running_loop()
            self.transport, self.protocol = await loop.create_connection(
                _ResponseReader, "127.0.0.1", self.port
            )
        response = self.protocol.expect()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
            "Content-Type: application/json\r\n"
        ).encode()
        self.transport.write(head + self.auth + body)
        return await response

    async def close(self) -> None:
        """Close the connection; the next request opens a new one."""
        if self.transport is not None:
            self.transport.close()
        self.transport = self.protocol = None


class _ResponseReader(asyncio.Protocol):
    """Collects bytes until one whole response is in, then resolves its future."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiting: asyncio.Future[tuple[int, bytes]] | None = None
        self.lost = False

    def expect(self) -> asyncio.Future[tuple[int, bytes]]:
        self.waiting = asyncio.get_running_loop().create_future()
        return self.waiting

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiting is None:
            return
        head = bytes(self.buffer[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        length = int(head[at + 17 : head.find(b"\r\n", at + 2)]) if at >= 0 else 0
        if len(self.buffer) < end + 4 + length:
            return
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        waiting, self.waiting = self.waiting, None
        if not waiting.done():
            waiting.set_result((int(head[9:12]), body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_exception(exc or ConnectionResetError("connection closed"))


def run_load(load: Coroutine[Any, Any, T]) -> T:
    """Run a load generator on uvloop (as the server does): on asyncio's own loop the
    generator took 0.23 cores at saturation against 0.13, CPU taken from the server."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(load)


async def saturation(
    port: int, tokens: Sequence[str], project_id: int, seconds: float, *, with_next: bool = False
) -> tuple[float, list[int]]:
    """Labels per second with ``len(tokens)`` labellers and no think time, and the labels
    of each whole second of the run (a steady rate, or a stall or a step down).

    Each label is ``POST next`` then ``POST label``; with ``with_next`` it is one
    ``POST label?next=true`` whose response carries the next task (one request a label).
    """
    started = time.perf_counter()
    stop_at = started + seconds
    counts = [0] * len(tokens)
    per_second = [0] * (int(seconds) + 1)
    errors: list[str] = []

    async def labeller(slot: int, token: str) -> None:
        client = RawClient(port, token)
        index = 0
        assignment = None
        suffix = "?next=true" if with_next else ""
        try:
            while time.perf_counter() < stop_at and index < 1_000_000:
                if assignment is None:
                    status, data = await client.request("POST", f"/api/projects/{project_id}/next")
                    if status != 200:
                        errors.append(f"next {status} {data[:120]!r}")
                        return
                    assignment = orjson.loads(data)["assignment_id"]
                body = orjson.dumps({"label": _answer(index)})
                status, data = await client.request(
                    "POST", f"/api/assignments/{assignment}/label{suffix}", body
                )
                if status != 201:
                    errors.append(f"submit {status} {data[:120]!r}")
                    return
                following = orjson.loads(data)["next"] if with_next else None
                assignment = following["assignment_id"] if following else None
                counts[slot] += 1
                per_second[min(int(time.perf_counter() - started), len(per_second) - 1)] += 1
                index += 1
        finally:
            await client.close()

    await asyncio.gather(*(labeller(i, t) for i, t in enumerate(tokens)))
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"saturation: {len(errors)} errors, first: {errors[0]}")
    return sum(counts) / elapsed, per_second[: int(elapsed)]


async def realistic(
    port: int, tokens: Sequence[str], project_id: int, seconds: float, period_s: float
) -> tuple[list[float], list[float], float, int, int]:
    """Each labeller does next + submit once every ``period_s`` for ``seconds``.

    One kept-alive connection per labeller, like one browser each, on the same cheap
    client as the saturation run: with httpx the load generator needed about 1 ms of CPU
    per request, so at ~400 requests/s it took the second core and its own event-loop
    lag (seconds) was measured as the server's latency.

    The first period is a warm-up, not measured: every labeller opens its connection
    and does its first pair in it, at a random moment. Otherwise the measure starts
    with 1,000 labellers logging on within 5 s, a crowd a server does not meet in the
    steady state this run is about (its first second alone had a 90 ms median).

    Returns next and submit latencies (ms) and the achieved pairs per second, both
    over the measured ``seconds``, errors and requests retried on a new connection.
    Prints the seconds of the run with requests over ``SLOW_MS`` (when, how many, the
    slowest), to match a stall against the database's log.
    """
    next_ms: list[float] = []
    submit_ms: list[float] = []
    slow: dict[int, list[float]] = {}  # second of the measured run -> latencies over SLOW_MS
    errors = retries = 0
    first_errors: list[str] = []
    clients = [RawClient(port, token) for token in tokens]
    start = time.perf_counter()
    measured_from = start + period_s
    end = measured_from + seconds

    async def send(
        client: RawClient, method: str, path: str, body: bytes = b""
    ) -> tuple[int, bytes]:
        nonlocal retries
        # Both calls are idempotent here (a held lease is served again; a repeated
        # submit returns the stored label), so a dropped connection is retried once.
        try:
            return await client.request(method, path, body)
        except ConnectionError:
            retries += 1
            await client.close()
            return await client.request(method, path, body)

    async def labeller(slot: int) -> None:
        nonlocal errors
        client = clients[slot]
        rng = random.Random(slot)
        due = start + rng.uniform(0, period_s)
        for index in range(int(seconds / period_s) + 3):
            if due >= end:
                return
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            measured = due >= measured_from
            due += period_s
            t0 = time.perf_counter()
            status, data = await send(client, "POST", f"/api/projects/{project_id}/next")
            t1 = time.perf_counter()
            if status != 200:
                errors += 1
                first_errors.append(f"next {status} {data[:120]!r}")
                continue
            if measured:
                next_ms.append(_note_slow(slow, t0 - measured_from, (t1 - t0) * 1000))
            assignment = orjson.loads(data)["assignment_id"]
            body = orjson.dumps({"label": _answer(index)})
            t0 = time.perf_counter()
            status, data = await send(client, "POST", f"/api/assignments/{assignment}/label", body)
            t1 = time.perf_counter()
            if status not in (200, 201):  # 200: a retried submit that had landed
                errors += 1
                first_errors.append(f"submit {status} {data[:120]!r}")
                continue
            if measured:
                submit_ms.append(_note_slow(slow, t0 - measured_from, (t1 - t0) * 1000))

    try:
        await asyncio.gather(*(labeller(i) for i in range(len(tokens))))
        elapsed = time.perf_counter() - measured_from
    finally:
        for client in clients:
            await client.close()
    if first_errors:
        print(f"realistic: {errors} errors, first: {first_errors[0]}", file=sys.stderr)
    if slow:
        # Wall-clock UTC, as PostgreSQL's log writes it.
        wall = time.time() - time.perf_counter() + measured_from
        print(
            f"realistic: requests over {SLOW_MS} ms (UTC second: count, slowest ms): "
            + ", ".join(
                f"{time.strftime('%H:%M:%S', time.gmtime(wall + second))}: "
                f"{len(latencies)}, {max(latencies):.0f}"
                for second, latencies in sorted(slow.items())
            ),
            flush=True,
        )
    return next_ms, submit_ms, len(submit_ms) / elapsed, errors, retries


SLOW_MS = 50
"""Realistic-load latency (ms) worth a line of its own: the p99 target."""


def _note_slow(slow: dict[int, list[float]], second: float, ms: float) -> float:
    """``ms``, also noted under its second of the run when it is over ``SLOW_MS``."""
    if ms > SLOW_MS:
        slow.setdefault(int(second), []).append(ms)
    return ms


def bench_database(db: str, url: str, args: argparse.Namespace, work: Path) -> Figures:
    """Every measurement on one database."""
    figures = Figures(db)
    values = figures.values
    home = work / f"home-{db}"
    env = prepare_database(db, url, home)
    n_big, n_small = args.items, args.small_items
    big_file, small_file = work / f"items-{n_big}.jsonl", work / f"items-{n_small}.jsonl"
    if not big_file.exists():
        write_items(big_file, n_big, prefix="ad", seed=1)
        write_items(small_file, n_small, prefix="small", seed=2)
    n_people = args.solo_labellers + args.saturation_labellers + args.realistic_labellers
    t0 = time.perf_counter()
    world = make_world(url, n_people)
    print(f"[{db}] {n_people} labellers created in {time.perf_counter() - t0:.1f} s", flush=True)

    seconds, report = run_cli(env, "import", "bench-10k", str(small_file))
    values["import_small"] = f"{report['n_created'] / seconds:,.0f}/s ({seconds:.1f} s)"
    print(f"[{db}] import {n_small:,}: {values['import_small']}", flush=True)
    seconds, report = run_cli(env, "import", "bench-big", str(big_file))
    if report["n_created"] != n_big:
        raise RuntimeError(f"import created {report['n_created']} of {n_big}")
    values["import_big"] = f"{n_big / seconds:,.0f}/s ({seconds:.1f} s)"
    print(f"[{db}] import {n_big:,}: {values['import_big']}", flush=True)

    make_snapshot(url, world.big_project)
    out = work / f"export-{db}.jsonl"
    seconds, report = run_cli(env, "export", "bench-big", "--out", str(out))
    values["export"] = f"{report['n_items'] / seconds:,.0f}/s ({seconds:.1f} s)"
    print(f"[{db}] export {report['n_items']:,}: {values['export']}", flush=True)
    out.unlink()
    if args.only == "import-export":
        return figures
    if db == "postgres":
        # What autovacuum would do a little later anyway after a million-row load; done
        # now so that it does not run during (and inflate) the latency measurements.
        settle_postgres(url)

    workers = args.pg_workers if db == "postgres" else args.sqlite_workers
    server = Server(env, workers)
    try:
        values["rss_idle"] = f"{server.memory_mib('VmRSS'):.0f}"
        values["workers"] = str(workers)
        # A fresh labeller per run: the claim passes over the open tasks this labeller
        # already did, which one labeller working alone never sees completed.
        solo = iter(world.tokens[: args.solo_labellers])
        for size, project in (("small", world.small_project), ("big", world.big_project)):
            for keep_alive in (False, True):
                token = next(solo)
                one_labeller(server.port, token, project, 20, keep_alive=keep_alive)  # warm
                cpu_before = server.cpu_seconds()
                next_ms, submit_ms = one_labeller(
                    server.port, token, project, args.pairs, keep_alive=keep_alive
                )
                mode = "keep" if keep_alive else "new"
                cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / (2 * args.pairs)
                values[f"cpu_{mode}_{size}"] = f"{cpu_ms:.1f}"
                values[f"next_{mode}_{size}"] = fmt_ms(next_ms)
                values[f"submit_{mode}_{size}"] = fmt_ms(submit_ms)
                print(
                    f"[{db}] {size} {mode}: next {values[f'next_{mode}_{size}']}, "
                    f"submit {values[f'submit_{mode}_{size}']} ms",
                    flush=True,
                )
        # next's GET alias (Bearer tokens only), for the clients that still use it.
        token = next(solo)
        one_labeller(server.port, token, world.big_project, 20, keep_alive=True, next_method="GET")
        next_ms, _submit_ms = one_labeller(
            server.port, token, world.big_project, args.pairs, keep_alive=True, next_method="GET"
        )
        values["next_get_keep_big"] = fmt_ms(next_ms)
        print(f"[{db}] big keep: next by GET {values['next_get_keep_big']} ms", flush=True)
        first = args.solo_labellers
        pool = world.tokens[first : first + args.saturation_labellers]
        for with_next, key in ((False, "saturation"), (True, "saturation_next")):
            cpu_before, started = server.cpu_seconds(), time.perf_counter()
            rate, per_second = run_load(
                saturation(
                    server.port, pool, world.big_project, args.saturation_s, with_next=with_next
                )
            )
            cores = (server.cpu_seconds() - cpu_before) / (time.perf_counter() - started)
            values[key] = f"{rate:,.0f}/s (server {cores:.2f} cores)"
            print(
                f"[{db}] {key}: {values[key]}; labels a second, second by second: "
                + " ".join(f"{n:,}" for n in per_second),
                flush=True,
            )
        crowd = world.tokens[first + args.saturation_labellers :]
        next_ms, submit_ms, pairs_per_s, errors, retries = run_load(
            realistic(server.port, crowd, world.big_project, args.realistic_s, 5.0)
        )
        values["realistic_next"] = fmt_ms(next_ms)
        values["realistic_submit"] = fmt_ms(submit_ms)
        values["realistic_rate"] = f"{pairs_per_s:,.0f} pairs/s, {errors} errors, {retries} retries"
        print(
            f"[{db}] realistic ({len(crowd)} labellers): next {values['realistic_next']}, "
            f"submit {values['realistic_submit']} ({values['realistic_rate']})",
            flush=True,
        )
        values["rss_peak"] = f"{server.memory_mib('VmHWM'):.0f}"
    finally:
        server.stop()
    return figures


ROWS = [
    # The import target is the for a million items on SQLite; a 10k import's
    # second is mostly the CLI process starting, so that row is only set beside Label
    # Studio's.
    ("import {small} items (CLI, items/s)", "import_small", "import_10k", ""),
    ("import {big} items (CLI, items/s)", "import_big", "import_big", ">= 50,000/s (SQLite)"),
    ("export {big} final labels (CLI)", "export", "export", ">= 50,000/s"),
    (
        "next, {small} tasks, new conn (ms p50/p95/p99)",
        "next_new_small",
        "next_new_10k",
        "<=5 / - / <=10",
    ),
    ("submit, {small} tasks, new conn", "submit_new_small", "submit", "<=5 / - / <=10"),
    ("next, {small} tasks, keep-alive", "next_keep_small", "", "<=5 / - / <=10"),
    ("submit, {small} tasks, keep-alive", "submit_keep_small", "", "<=5 / - / <=10"),
    ("next, {big} tasks, new conn", "next_new_big", "next_new_big", "<=5 / - / <=10"),
    ("submit, {big} tasks, new conn", "submit_new_big", "", "<=5 / - / <=10"),
    ("next, {big} tasks, keep-alive", "next_keep_big", "", "<=5 / - / <=10"),
    ("next by GET (token alias), {big}, keep-alive", "next_get_keep_big", "", "<=5 / - / <=10"),
    ("submit, {big} tasks, keep-alive", "submit_keep_big", "", "<=5 / - / <=10"),
    ("server CPU per request, {big}, keep-alive (ms)", "cpu_keep_big", "", ""),
    ("saturation, {sat} labellers: next + submit", "saturation", "", ">= 1,000/s"),
    ("saturation: submit?next=true (1 request a label)", "saturation_next", "", ">= 1,000/s"),
    ("realistic, {crowd} labellers / 5 s: next", "realistic_next", "", "p99 <= 50"),
    ("realistic: submit (ms p50/p95/p99)", "realistic_submit", "", "p99 <= 50"),
    ("realistic: achieved rate", "realistic_rate", "", "~200 pairs/s"),
    ("server workers", "workers", "", ""),
    ("server RSS idle (MiB, all processes)", "rss_idle", "", ""),
    ("server RSS peak VmHWM (MiB, all processes)", "rss_peak", "rss", "<= 200 MB"),
]


def print_table(results: list[Figures], args: argparse.Namespace) -> None:
    names = {
        "small": f"{args.small_items:,}",
        "big": f"{args.items:,}",
        "sat": str(args.saturation_labellers),
        "crowd": f"{args.realistic_labellers:,}",
    }
    header = [
        "measure",
        *(f.db for f in results),
        f"Label Studio 1.23.2 (remembered, {LABEL_STUDIO_MEASURED})",
        "target",
    ]
    table = [header]
    for title, key, ls_key, target in ROWS:
        table.append(
            [
                title.format(**names),
                *(f.values.get(key, "-") for f in results),
                LABEL_STUDIO.get(ls_key, ""),
                target,
            ]
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for number, row in enumerate(table):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if number == 0:
            print("  ".join("-" * width for width in widths))
    print(
        f"Label Studio column: figures measured on this machine and recorded on "
        f"{LABEL_STUDIO_MEASURED}, at the sizes in brackets, not in this run; ours are "
        f"at {names['small']} / {names['big']} items."
    )


SPEED_LOOP = 10_000_000
"""Additions timed before the run: a shared host that is slower today shows here (every
figure moves with it), not as a regression of ours."""


def _loop_seconds() -> float:
    started, total = time.perf_counter(), 0
    for number in range(SPEED_LOOP):
        total += number
    return time.perf_counter() - started


def main() -> None:
    # Run as a script, this file's folder is first on sys.path, and its name would
    # shadow the standard library's ``queue`` (which asyncio's helpers import).
    if sys.path and Path(sys.path[0]).resolve() == HERE:
        sys.path.pop(0)
        sys.modules.pop("queue", None)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default=os.environ.get("LABELOPS_BENCH_PG_URL"))
    parser.add_argument("--quick", action="store_true", help="Small sizes for a smoke run.")
    parser.add_argument("--items", type=int, default=None, help="Big project size.")
    # One worker: on this 2-core machine a second one made PostgreSQL slower (the
    # database's own processes need the other core) and doubled the memory.
    parser.add_argument("--pg-workers", type=int, default=1)
    parser.add_argument("--sqlite-workers", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--only", choices=["import-export"], default=None, help="Measure only this part."
    )
    args = parser.parse_args()
    quick = args.quick
    args.items = args.items or (20_000 if quick else 1_000_000)
    args.small_items = 2_000 if quick else 10_000
    args.pairs = 200 if quick else 1_000
    args.solo_labellers = 5
    args.saturation_labellers = 50
    args.saturation_s = 5.0 if quick else 15.0
    args.realistic_labellers = 100 if quick else 1_000
    args.realistic_s = 10.0 if quick else 60.0
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if "postgres" in databases and not args.pg_url:
        parser.error("PostgreSQL needs --pg-url or LABELOPS_BENCH_PG_URL")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="labelops-bench-queue-"))
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"load before: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores; "
        f"this machine's speed now: {_loop_seconds():.2f} s for {SPEED_LOOP:,} Python additions",
        flush=True,
    )
    results = []
    try:
        for db in databases:
            url = args.pg_url if db == "postgres" else f"sqlite:///{work / 'bench.db'}"
            results.append(bench_database(db, url, args, work))
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"load after: {os.getloadavg()[0]:.2f} (1 min)")
    print()
    print_table(results, args)


if __name__ == "__main__":
    main()
