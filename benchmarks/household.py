"""A household and a school lab on one real PostgreSQL (issue 12), through the real code paths.

1. Household: 6 devices, each with a year of heavy use (the reports benchmark's generator, one
   seed per device), loaded into PostgreSQL with COPY and cached in benchmarks/out/ (the
   cluster directory) by generator version. Then `presence report --week --device all` and the
   year, as CLI subprocesses: wall time, median of 5.
2. Lab: 200 simulated devices, each with its own connection, flushing its open span (and now
   and then a closed one) every 10 s through `Store.save_spans`, spread over 4 processes; the
   flush latency (p50, p99, max), refused writes, and the server's CPU (utime + stime of every
   postgres process, from /proc) over the run. BENCH_LAB_SECONDS sets the length (default
   120 s; the issue's hour is BENCH_LAB_SECONDS=3600).

3. Outage: benchmarks/household_outage.py (BENCH_OUTAGE_SECONDS, default 600; BENCH_SKIP_OUTAGE).

The server is Debian's postgresql, started by the test harness (tests/integration/postgres.py)
as the non-root test user on a free loopback port.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.reports import LAST_DAY, OUT, _day
from benchmarks.timing import timed
from presence.core.errors import StorageError
from presence.core.model import Span, SpanState
from presence.store import Store
from tests.integration.desktop_user import desktop_user
from tests.integration.postgres import PostgresServer, free_port, server_bin, start_server

VERSION = 1
DEVICES = 6
DAYS = 365
RUNS = 5
LAB_DEVICES = 200
LAB_EVERY = 10.0
LAB_PROCESSES = 4
DATABASE = "household"


def _server() -> tuple[PostgresServer, bool]:
    """The cached cluster (started), and whether it already holds the generated household."""
    root = OUT / f"household-pg-v{VERSION}"
    marker = root / "generated"
    if root.exists() and marker.exists():
        bindir = server_bin()
        assert bindir is not None
        server = PostgresServer(bindir, root / "data", free_port(), desktop_user())
        server.start()
        return server, True
    if root.exists():
        subprocess.run(["rm", "-rf", str(root)], check=True)
    root.mkdir(parents=True)
    for parent in (OUT, OUT.parent):  # the test user must reach the cluster directory
        parent.chmod(parent.stat().st_mode | 0o001)
    return start_server(root), False


def _generate(server: PostgresServer) -> int:
    """Write the household into a new database; returns the spans written."""
    server.psql(f"DROP DATABASE IF EXISTS {DATABASE}")
    server.psql(f"CREATE DATABASE {DATABASE}")
    Store.open(server.url(DATABASE)).close()
    import psycopg  # noqa: PLC0415 - only the benchmark writes with COPY

    total = 0
    first = LAST_DAY - timedelta(days=DAYS - 1)
    dsn = f"host=127.0.0.1 port={server.port} dbname={DATABASE} user=presence"
    with psycopg.connect(dsn) as conn:
        for device in range(1, DEVICES + 1):
            rng = random.Random(100 + device)
            conn.execute(
                "INSERT INTO devices (id, name, hostname, created, zone) "
                "VALUES (%s, %s, %s, 0, %s)",
                (device, f"device{device}", f"host{device}", "bedroom" if device > 4 else None),
            )
            runs, buffer = [], io.StringIO()
            for n in range(DAYS):
                run_id = (device - 1) * DAYS + n + 1
                rows, started, stopped = _day(rng, first + timedelta(days=n), device, run_id, total)
                total += len(rows)
                runs.append((run_id, device, started, stopped, stopped, f"person{device % 4}"))
                for row in rows:
                    buffer.write(
                        "\t".join("\\N" if v is None else str(v).replace("\t", " ") for v in row)
                        + "\n"
                    )
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO daemon_runs (id, device_id, started, last_seen, ended, "
                    "end_reason, pid, version, person) "
                    "VALUES (%s, %s, %s, %s, %s, 'stopped', 1, 'bench', %s)",
                    runs,
                )
                with cur.copy(
                    "COPY spans (uid, device_id, run_id, start_ts, end_ts, utc_offset, app, "
                    "title, state, keys, clicks, scrolls, moves) FROM STDIN"
                ) as copy:
                    copy.write(buffer.getvalue())
            conn.commit()
            print(f"   device{device}: {total} spans so far")
        conn.execute("SELECT setval('devices_id_seq', 100)")
        conn.execute("SELECT setval('daemon_runs_id_seq', 100000)")
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return total


def _time(args: list[str], env: dict[str, str]) -> float:
    return timed([sys.executable, "-m", "presence", *args], env)[0]


def _reports(server: PostgresServer, figures: dict[str, float]) -> None:
    config = OUT / "household-config.toml"
    config.write_text(
        f'[database]\nurl = "{server.url(DATABASE)}"\n[device]\nname = "device1"\n'
        '[reports]\ntimezone = "Europe/Berlin"\n'
    )
    env = {**os.environ, "PRESENCE_CONFIG": str(config)}
    last = LAST_DAY.isoformat()
    year = ["--from", (LAST_DAY - timedelta(days=364)).isoformat(), "--to", last]
    cases = {
        "week_all": ["report", "--week", "--date", last, "--device", "all"],
        "year_all": ["report", *year, "--device", "all"],
        "week_zone": ["report", "--week", "--date", last, "--zone", "bedroom"],
    }
    for name, args in cases.items():
        walls = [_time([*args, "--format", "json"], env) for _ in range(RUNS)]
        figures[f"{name}_s"] = statistics.median(walls)
        print(f"household: presence {' '.join(args)}: {figures[name + '_s']:.2f} s (median of 5)")


def _server_cpu() -> float:
    """utime + stime (seconds) of every postgres process on this machine."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if name in ("postgres", "postmaster"):
            fields = stat[stat.rindex(")") + 2 :].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _lab_worker(
    url: str, first: int, count: int, seconds: float, out: object, done: object
) -> None:
    """`count` devices, one Store each, flushing every LAB_EVERY s (staggered)."""
    stores = []
    for n in range(first, first + count):
        store = Store.open(url, migrate=False)
        device = store.device(f"lab{n:03d}", f"lab{n:03d}", datetime.now(UTC))
        stores.append((store, device.id, store.start_run(device.id, n, "bench", datetime.now(UTC))))
    rng = random.Random(first)
    began = time.monotonic()
    latencies: list[float] = []
    refused = 0
    due = [began + LAB_EVERY * i / count for i in range(count)]
    open_spans = [
        Span(datetime.now(UTC), datetime.now(UTC), "app", "t", SpanState.ACTIVE)
        for _ in range(count)
    ]
    while time.monotonic() - began < seconds:
        i = min(range(count), key=due.__getitem__)
        time.sleep(max(0.0, due[i] - time.monotonic()))
        due[i] += LAB_EVERY
        store, device_id, run_id = stores[i]
        now = datetime.now(UTC)
        batch = [open_spans[i]]
        if rng.random() < 0.3:  # a window switch: the span closes, a new one opens
            batch[0].end = now
            open_spans[i] = Span(now, now, f"app{rng.randint(0, 9)}", "t", SpanState.ACTIVE)
        open_spans[i].end = now
        batch.append(open_spans[i])
        started = time.perf_counter()
        try:
            store.save_spans(device_id, run_id, batch)
        except StorageError:  # a refused write is counted, not fatal
            refused += 1
        latencies.append(time.perf_counter() - started)
    out.put((latencies, refused))  # type: ignore[attr-defined]
    # Connections stay open until the server's CPU is read: an ended backend's CPU time
    # leaves /proc with it.
    done.wait(timeout=300)  # type: ignore[attr-defined]
    for store, _, _ in stores:
        store.close()


def _lab(server: PostgresServer, figures: dict[str, float]) -> None:
    seconds = float(os.environ.get("BENCH_LAB_SECONDS", "120"))
    server.psql("DROP DATABASE IF EXISTS lab")
    server.psql("CREATE DATABASE lab")
    url = server.url("lab")
    Store.open(url).close()
    queue: multiprocessing.Queue[tuple[list[float], int]] = multiprocessing.Queue()
    share = LAB_DEVICES // LAB_PROCESSES
    done = multiprocessing.Event()
    workers = [
        multiprocessing.Process(
            target=_lab_worker, args=(url, i * share, share, seconds, queue, done)
        )
        for i in range(LAB_PROCESSES)
    ]
    cpu_before, wall_before = _server_cpu(), time.monotonic()
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=seconds + 300) for _ in workers]
    cpu = _server_cpu() - cpu_before
    wall = time.monotonic() - wall_before
    done.set()
    for worker in workers:
        worker.join()
    latencies = sorted(x for r in results for x in r[0])
    figures["lab_seconds"] = seconds
    figures["lab_flushes"] = len(latencies)
    figures["lab_refused"] = sum(r[1] for r in results)
    figures["lab_p50_ms"] = 1000 * latencies[len(latencies) // 2]
    figures["lab_p99_ms"] = 1000 * latencies[int(len(latencies) * 0.99)]
    figures["lab_max_ms"] = 1000 * latencies[-1]
    figures["lab_server_cpu_percent"] = 100 * cpu / wall
    print(
        f"lab: {LAB_DEVICES} devices flushing every {LAB_EVERY:.0f} s for {seconds:.0f} s: "
        f"{len(latencies)} flushes, {figures['lab_refused']:.0f} refused, flush latency p50 "
        f"{figures['lab_p50_ms']:.1f} ms, p99 {figures['lab_p99_ms']:.1f} ms, max "
        f"{figures['lab_max_ms']:.1f} ms; server CPU {figures['lab_server_cpu_percent']:.1f} % "
        f"of one core (wall {wall:.0f} s incl. connecting)"
    )


def run() -> dict[str, float]:
    figures: dict[str, float] = {}
    server, cached = _server()
    try:
        if not cached:
            started = time.monotonic()
            figures["household_spans"] = _generate(server)
            (server.data.parent / "generated").write_text(str(figures["household_spans"]))
            print(f"   generated in {time.monotonic() - started:.0f} s")
        figures["household_spans"] = float((server.data.parent / "generated").read_text())
        print(f"household: {DEVICES} devices x {DAYS} days, {figures['household_spans']:.0f} spans")
        if not os.environ.get("BENCH_SKIP_REPORTS"):
            _reports(server, figures)
        if not os.environ.get("BENCH_SKIP_LAB"):
            _lab(server, figures)
    finally:
        server.stop()
    if not os.environ.get("BENCH_SKIP_OUTAGE"):  # its own cluster, stopped in the middle
        from benchmarks import household_outage  # noqa: PLC0415 - only when it runs

        figures.update(household_outage.run())
    return figures


if __name__ == "__main__":
    run()
