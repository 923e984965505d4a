"""The toa role's toa_addresses (the addresses the dpvs role matches UDP FullNAT real servers by,
for UOA: docs/dpvs_conf.md "UOA"): a list of IP addresses, refused before anything changes with
the variable, the index and the value. The role's preflight runs alone on localhost
(playbooks/toa_preflight.yml) with a module from a local directory, so a good list passes every
check.
"""

import os

import pytest
from emutier import REPO

pytestmark = pytest.mark.parallel_safe

TASK = "dpvs.cluster.toa : Preflight | toa_addresses are IP addresses"
MODULE = {
    "name": "dpvs_testmod",
    "version": "0.1.0",
    "src": os.path.join(REPO, "tests", "fixtures", "kmod", "dpvs_testmod"),
}


def run(ansible, addresses):
    return ansible.play("toa_preflight.yml", extra_vars={"toa_modules": [MODULE], "toa_addresses": addresses})


def test_good_toa_addresses_pass_and_bad_ones_are_named(ansible):
    good = run(ansible, ["192.168.110.2", "2001:db8::2"])
    assert good.rc == 0, good.explain()
    assert good[TASK].get("failed") is not True

    bad = run(ansible, ["192.168.110.2", "192.168.110.256", "rs1.example.net"])
    assert bad.rc != 0
    assert bad[TASK]["msg"] == (
        "toa_addresses[1]: not an IP address (got '192.168.110.256'); "
        "toa_addresses[2]: not an IP address (got 'rs1.example.net')"
    )
