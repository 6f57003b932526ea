"""newsboat beside the poller on one loopback feed farm, in one run (issue 17's poll-cycle row).

    .venv/bin/python bench/newsboat_compare.py --feeds 1000
    .venv/bin/python bench/newsboat_compare.py --feeds 10000 --timeout 600

newsboat is the common self-hosted reader that polls many feeds unattended (``newsboat -x
reload``): it keeps every feed's ETag and Last-Modified and sends conditional GETs, parses with
its own C++ parser and stores items in an SQLite cache, ``reload-threads`` feeds at a time (50
here, as the issue measured). Where it is not installed the script says so and stops.

One farm (bench/farm.py, in its own process) serves N feeds (30 items, ≈ 47 KB each) on 250
loopback addresses. On it, in this order:

1. newsboat, a fresh cache: the first reload (every item new), a second reload (newsboat files
   a feed's ETag only once the feed is in its cache, so the first reload leaves none and this
   one downloads everything again; timed, not compared), then the farm publishes a new post on
   ``1 - --unchanged`` of the feeds and newsboat reloads again: the mixed cycle;
2. the poller (bench/poll_farm.py's ``run_cycles`` on this same farm, fresh SQLite): the initial
   import, then the same mixed share.

Each newsboat reload runs under ``--timeout`` seconds (killed after it: reported as not
finished). Wall time and CPU: newsboat's user + system time from ``getrusage(RUSAGE_CHILDREN)``
around the reload (its curl threads included); the poller's from bench/farm.py's meters (this
process with its threads, the aiosqlite one included, plus parse workers). The machine is
shared: read the CPU columns, and the load average printed with the wall times. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.farm import Farm, start_farm
from bench.poll_farm import run_cycles


@dataclass
class Reload:
    """One ``newsboat -x reload``: wall and CPU seconds, whether it finished, items cached."""

    seconds: float
    cpu: float
    finished: bool
    items: int
    etags: int


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cache_counts(cache: Path) -> tuple[int, int]:
    """Items in newsboat's cache and feeds with an ETag on file (0, 0 if unreadable)."""
    try:
        with closing(sqlite3.connect(f"file:{cache}?mode=ro", uri=True)) as conn:
            items = conn.execute("SELECT count(*) FROM rss_item").fetchone()[0]
            etags = conn.execute("SELECT count(*) FROM rss_feed WHERE etag != ''").fetchone()[0]
    except sqlite3.Error:
        return 0, 0
    return int(items), int(etags)


def reload(newsboat: str, home: Path, timeout: float) -> Reload:
    """Run one unattended reload of every feed in ``home/urls`` into ``home/cache.db``."""
    cmd = [newsboat, "-x", "reload", "-u", str(home / "urls"), "-C", str(home / "config")]
    cmd += ["-c", str(home / "cache.db")]
    # its own HOME (history files) and no proxy: the farm is on loopback
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin"), "LANG": "C.UTF-8"}
    cpu, wall = children_cpu(), time.perf_counter()
    try:
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, timeout=timeout, check=True)
        finished = True
    except subprocess.TimeoutExpired:  # run() has killed and reaped it: its CPU is counted
        finished = False
    seconds, cpu = time.perf_counter() - wall, children_cpu() - cpu
    (home / "cache.db.lock").unlink(missing_ok=True)  # a killed reload leaves its lock
    return Reload(seconds, cpu, finished, *cache_counts(home / "cache.db"))


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def show(name: str, feeds: int, r: Reload) -> None:
    done = "" if r.finished else "  NOT FINISHED (killed at the timeout)"
    print(
        f"newsboat {name:<24} {feeds:>6} feeds {r.seconds:7.1f} s = {feeds / r.seconds:6.0f}/s"
        f"  CPU {r.cpu:6.1f} s = {1000 * r.cpu / feeds:5.2f} ms/feed"
        f"  cache: {r.items} items, {r.etags} ETags  ({load()}){done}",
        flush=True,
    )


def run_newsboat(
    newsboat: str, farm: Farm, feeds: int, *, threads: int, unchanged: float, timeout: float
) -> dict[str, Reload]:
    home = Path(tempfile.mkdtemp(prefix="newsboat-"))
    (home / "urls").write_text("".join(f"{farm.url(i)}\n" for i in range(feeds)))
    (home / "config").write_text(f"reload-threads {threads}\nhistory-limit 0\n")
    runs: dict[str, Reload] = {}
    try:
        runs["import"] = reload(newsboat, home, timeout)
        show("first reload (import)", feeds, runs["import"])
        if not runs["import"].finished:
            return runs
        runs["etags"] = reload(newsboat, home, timeout)
        show("second reload (no ETag yet)", feeds, runs["etags"])
        if not runs["etags"].finished:
            return runs
        changed = asyncio.run(farm.bump(1 - unchanged, seed=7))
        runs["mixed"] = reload(newsboat, home, timeout)
        show(f"mixed {unchanged:.0%} 304 ({changed} new)", feeds, runs["mixed"])
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return runs


def compare(name: str, feeds: int, theirs: Reload | None, ours: dict[str, float]) -> None:
    ours_cpu = ours["cpu_main"] + ours["cpu_workers"]
    if theirs is None or not theirs.finished:
        what = "did not run" if theirs is None else f"did not finish in {theirs.seconds:.0f} s"
        print(f"  {name:<14} ours {ours['seconds']:7.1f} s, CPU {ours_cpu:6.1f} s; newsboat {what}")
        return
    print(
        f"  {name:<14} ours {ours['seconds']:7.1f} s ({ours['feeds_per_s']:5.0f}/s), CPU"
        f" {ours_cpu:6.1f} s ({1000 * ours_cpu / feeds:5.2f} ms/feed)   newsboat"
        f" {theirs.seconds:7.1f} s ({feeds / theirs.seconds:5.0f}/s), CPU {theirs.cpu:6.1f} s"
        f" ({1000 * theirs.cpu / feeds:5.2f} ms/feed)"
        f"   wall {theirs.seconds / ours['seconds']:.1f}x,"
        f" CPU {theirs.cpu / max(ours_cpu, 1e-9):.1f}x ours"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--unchanged", type=float, default=0.8)
    ap.add_argument("--threads", type=int, default=50, help="newsboat's reload-threads")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per newsboat reload")
    ap.add_argument("--newsboat", default=shutil.which("newsboat") or "")
    args = ap.parse_args()
    if not 1 <= args.feeds <= 1_100_000:
        ap.error("--feeds must be in 1..1100000")
    print(f"newsboat_compare: {' '.join(sys.argv[1:])}  ({load()})", flush=True)
    if not args.newsboat:
        print("newsboat is not installed (not on PATH, no --newsboat): nothing to compare.")
        return
    version = subprocess.run([args.newsboat, "-v"], capture_output=True, text=True).stdout
    print(version.splitlines()[0] if version else args.newsboat, flush=True)

    farm = start_farm(args.feeds)
    try:
        theirs = run_newsboat(
            args.newsboat,
            farm,
            args.feeds,
            threads=args.threads,
            unchanged=args.unchanged,
            timeout=args.timeout,
        )
        print(f"the poller on the same farm ({load()}):", flush=True)
        ours = asyncio.run(
            run_cycles(
                feeds=args.feeds,
                farm=farm,
                unchanged=args.unchanged,
                cycles=("import", "mixed"),
                bare_sample=0,
                naive_sample=0,
            )
        )
    finally:
        farm.stop()
    cycles = ours["cycles"]
    print(f"side by side, {args.feeds} feeds ({load()}):")
    compare("initial import", args.feeds, theirs.get("import"), cycles["initial import"])
    compare(f"mixed {args.unchanged:.0%}", args.feeds, theirs.get("mixed"), ours["mixed"])


if __name__ == "__main__":
    main()
