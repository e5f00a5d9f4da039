"""Start-up time: ``import gis_planning`` and ``gis-planning --help`` (goal: import < 0.2 s).

Each is timed in a fresh interpreter (median of 5 runs), beside ``import pandas`` and
``import geopandas`` measured in the same run, so the ratio says what laziness saves.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def _time(code: str, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    base = _time("pass")
    rows = [
        ("import gis_planning", _time("import gis_planning")),
        ("gis-planning --help", _time("from gis_planning.cli import main; import sys; "
                                      "sys.argv=['gis-planning', '--help']\n"
                                      "try:\n    main()\nexcept SystemExit:\n    pass")),
        ("import pandas", _time("import pandas")),
        ("import geopandas", _time("import geopandas")),
    ]
    print("\n## Start-up (fresh interpreter, median of 5, interpreter start subtracted)")
    print(f"{'what':<24}{'seconds':>10}{'vs geopandas':>14}")
    gpd_t = rows[-1][1] - base
    for name, t in rows:
        print(f"{name:<24}{t - base:>10.3f}{(t - base) / gpd_t:>14.2f}")
    goal = rows[0][1] - base
    print(f"goal import < 0.2 s: {'erreicht' if goal < 0.2 else 'VERFEHLT'} ({goal:.3f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
