"""playbooks/report.yml with live facts (dpvs_report_live=true) on the emulator inventory
(inventories/emulator): the page shows what DPVS serves, its counters and links, and names every
difference from the inventory; reading writes nothing to DPVS.

The emulator is seeded with dpip/ipvsadm directly (no converge: seconds, not a role run): the
inventory's VIP is there, its service has its real server (quiesced: weight 0) plus one the
inventory lacks, and a service the inventory does not declare is there too.
"""

import html
import os
import re
import subprocess

import pytest
from emutier import REPO, ansible_playbook_bin

pytestmark = pytest.mark.parallel_safe

INVENTORY = os.path.join(REPO, "inventories", "emulator")
PLAYBOOK = os.path.join(REPO, "playbooks", "report.yml")


def seed(emulator):
    emulator.dpip("addr", "add", "10.0.96.204/32", "dev", "dpdk2")
    emulator.ipvsadm("-A", "-t", "10.0.96.204:80", "-s", "rr")
    emulator.ipvsadm("-a", "-t", "10.0.96.204:80", "-r", "192.168.229.1:80", "-b", "-w", "0")
    emulator.ipvsadm("-a", "-t", "10.0.96.204:80", "-r", "192.168.229.9:80", "-b")
    emulator.ipvsadm("-A", "-u", "10.0.96.204:53", "-s", "rr")


def run_report(emulator, ansible, path, live=True):
    argv = [ansible_playbook_bin(), "-i", INVENTORY, PLAYBOOK, "-e", f"dpvs_report_path={path}"]
    argv += ["-e", f"dpvs_ipc_file={emulator.ipc}", "-e", f"dpvs_report_live={str(live).lower()}"]
    env = ansible.env()
    env["ANSIBLE_STDOUT_CALLBACK"] = "default"
    proc = subprocess.run(argv, env=env, cwd=ansible.dir, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(path) as handle:
        return handle.read()


def test_live_report_shows_dpvs_and_names_the_drift(emulator, ansible, tmp_path):
    seed(emulator)
    before = emulator.snapshot()
    emulator.clear_logs()

    text = run_report(emulator, ansible, str(tmp_path / "live.html"))

    assert emulator.snapshot() == before
    assert emulator.writes("_ansible") == []
    drift = re.search(r'<div class="drift" id="drift">(.*?)</div>', text, re.S)
    assert drift, text[:2000]
    lines = [html.unescape(line) for line in re.findall(r"<li>(.*?)</li>", drift.group(1))]
    queues = [f"localhost: port dpdk{n} runs 2 rx queue(s), the inventory's layout gives it 8" for n in range(4)]
    assert lines == [
        *queues,
        "localhost: local address 192.168.229.204 of tcp 10.0.96.204:80 is not in DPVS",
        "localhost: real server 192.168.229.9:80 of tcp 10.0.96.204:80 is in DPVS, not in the inventory",
        "localhost: service udp 10.0.96.204:53 is in DPVS but not in the inventory",
    ]
    # the live links of the emulator's ports (link UP, 10000 Mb/s, 2 queues: its ports file) and the
    # inventory's layout (8 workers from dpvs_host_facts)
    assert 'data-port="dpdk2"' in text and "link UP 10000 Mb/s" in text
    assert len(re.findall(r'<g class="worker" data-worker=', text)) == 8
    # the quiesced real server (weight 0) and the node's health
    assert "quiesced (weight 0)" in text
    assert "dpvs: up" in text
    assert "<h2>Counters</h2>" in text


def test_live_report_says_dpvs_does_not_answer(emulator, ansible, tmp_path):
    emulator.stop()
    text = run_report(emulator, ansible, str(tmp_path / "down.html"))
    assert "<li>localhost: DPVS does not answer</li>" in text
    assert "dpvs: down" in text


def test_inventory_alone_reads_nothing(emulator, ansible, tmp_path):
    emulator.clear_logs()
    text = run_report(emulator, ansible, str(tmp_path / "inventory.html"), live=False)
    assert emulator.log("_ansible") == []
    assert "Inventory alone: nothing was read" in text
    assert 'data-vip="10.0.96.204"' in text and 'data-rs="192.168.229.1"' in text
