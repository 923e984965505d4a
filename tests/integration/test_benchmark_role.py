"""benchmarks/ipvs_table.py --methods role: the whole dpvs_services role on a small table against
the emulator, cold (changed, table checked) then again (changed=False), with its JSON: the rows
docs/performance.md gives for the role come from it."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.parallel_safe

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_role_method_converges_then_changes_nothing(tmp_path):
    out = tmp_path / "bench.json"
    argv = [sys.executable, os.path.join(REPO, "benchmarks", "ipvs_table.py"), "--services", "3", "--flavor", "dpvs"]
    argv += ["--real-servers", "2", "--laddrs", "1", "--methods", "role", "--json", str(out)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = json.loads(out.read_text())["rows"]
    assert [row["method"] for row in rows] == [
        "role dpvs_services, cold (ansible-playbook)",
        "role dpvs_services, no-op (ansible-playbook)",
    ]
    assert [row["verified"] for row in rows] == ["ok", "ok"]
    assert "changed=True" in rows[0]["note"] and "changed=False" in rows[1]["note"]
