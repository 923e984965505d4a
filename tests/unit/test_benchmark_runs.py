"""benchmarks/ipvs_table.py runs: the raw ``ipvsadm -R`` method and the profiled module against
the emulator on a tiny table, read back and checked, with its JSON. (It once imported a module path that a refactor of
module_utils had moved, and nothing ran it; docs/performance.md's figures come from it.)"""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_benchmark_loads_and_checks_a_small_table(tmp_path):
    out = tmp_path / "bench.json"
    argv = [sys.executable, os.path.join(REPO, "benchmarks", "ipvs_table.py"), "--services", "3"]
    argv += ["--real-servers", "2", "--laddrs", "1", "--methods", "restore,profile", "--json", str(out)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ipvsadm -R (one process)" in proc.stdout
    assert "Ordered by: internal time" in proc.stdout  # the profile, by own time
    figures = json.loads(out.read_text())
    assert figures["rules"] == 3 + 3 * 2 + 3
    assert [row["verified"] for row in figures["rows"]] == ["ok", "ok"]  # the profiled module: a no-op
    assert "peak RSS" in figures["rows"][1]["note"]
