"""Drawing speed, measured (run on demand, not by pytest):

    .venv/bin/python tests/benchmarks/bench_picture.py [--organisations 1000] [--repeat 3]

For the demo community and for a generated one (`tests/picture_support.py`: organisations in 36
cities, offers and needs from the taxonomy, a recorded round at every stage), on SQLite:
- the synergy map: read the database, score the next round, lay out, draw, quantise to PNG;
  "first" is the first call in the process (it also builds the matching index), then the median
  of `--repeat` more;
- the funnel chart of /peer stats;
- the whole report (map, matrix, groups, needs without a match, funnel).
Targets: map under 5 s for the demo and under 30 s for 1,000 organisations.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

STARTED = time.perf_counter()
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.demo import load_demo  # noqa: E402
from bot.deps import Deps  # noqa: E402
from bot.i18n import translator  # noqa: E402
from bot.outcomes import funnel, recent_rounds  # noqa: E402
from bot.picture.funnel_chart import draw_funnel  # noqa: E402
from bot.picture.png import png_size  # noqa: E402
from bot.picture.report import build_report  # noqa: E402
from bot.picture.synergy_map import draw_map  # noqa: E402
from bot.ports import SystemClock  # noqa: E402
from bot.runtime.compose import build_deps  # noqa: E402
from storage.db import transaction  # noqa: E402
from tests.picture_support import large_community  # noqa: E402

IMPORTED = time.perf_counter()
TR = translator("en")
ZONE = ZoneInfo("Europe/Madrid")


def _deps(folder: Path, name: str) -> Deps:
    return build_deps(Settings(_env_file=None, database_url=f"sqlite:///{folder / name}.db"))  # type: ignore[call-arg]


def _timed(work: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """(first call, median of the next `repeat`, the last result), in seconds."""
    start = time.perf_counter()
    result = work()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return first, statistics.median(times), result


def measure(deps: Deps, label: str, repeat: int) -> None:
    def the_map() -> bytes | None:
        with deps.sessions() as session:
            return draw_map(session, deps.matcher, 1, community=label, tr=TR)

    def the_funnel() -> bytes:
        with deps.sessions() as session:
            rounds = [funnel(session, r) for r in recent_rounds(session, 1)]
        return draw_funnel(rounds, TR, zone=ZONE)

    def the_report() -> str:
        with deps.sessions() as session:
            return build_report(session, deps.matcher, 1, community=label, tr=TR, zone=ZONE, now=deps.clock.now())

    first, median, png = _timed(the_map, repeat)
    assert isinstance(png, bytes)
    width, height = png_size(png)
    print(f"{label}: map first {first:.2f} s, then median {median:.2f} s ({width}x{height}, {len(png) // 1024} KB)")
    first, median, _ = _timed(the_funnel, repeat)
    print(f"{label}: funnel chart first {first:.2f} s, then median {median:.2f} s")
    first, median, page = _timed(the_report, repeat)
    assert isinstance(page, str)
    print(f"{label}: report first {first:.2f} s, then median {median:.2f} s ({len(page) // 1024} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--organisations", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"imports: {IMPORTED - STARTED:.2f} s")
    with tempfile.TemporaryDirectory() as folder:
        demo = _deps(Path(folder), "demo")
        with transaction(demo.sessions) as session:
            load_demo(session)
            demo.matcher.record_round(session, demo.matcher.run_round(session, 1))
        measure(demo, "demo (15 organisations)", args.repeat)
        demo.engine.dispose()
        large = _deps(Path(folder), "large")
        start = time.perf_counter()
        with transaction(large.sessions) as session:
            large_community(session, large.matcher, SystemClock(), organisations=args.organisations)
        print(f"generated {args.organisations} organisations in {time.perf_counter() - start:.2f} s")
        large.matcher = type(large.matcher)()  # a cold index, as in a fresh process
        measure(large, f"{args.organisations} organisations", args.repeat)
        large.engine.dispose()


if __name__ == "__main__":
    main()
