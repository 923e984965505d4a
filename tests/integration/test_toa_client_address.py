"""The toa role's choice of TOA or PROXY protocol (issue 12: toa.c does not link on 6.12 kernels,
Debian 13's): ``toa_client_address: auto`` is toa below ``toa_proxy_protocol_kernel`` (6.12) and
proxy_protocol from it on; the role sets ``toa_client_address_method``, prints one line saying
which and why (with the listeners to configure: the ports the inventory's TCP FullNAT services
send to on this host, and their LIPs), and leaves the toa module out of what it builds and loads
with PROXY protocol (uoa stays). The kernel is injected with ``toa_kernel_release``; the role's
preflight runs alone on localhost (playbooks/toa_client_address.yml), nothing is built.
"""

import pytest
import yaml

pytestmark = pytest.mark.parallel_safe

CHOICE = "dpvs.cluster.toa : Preflight | client addresses by TOA or PROXY protocol (toa_client_address)"
LINE = "dpvs.cluster.toa : Preflight | TOA or PROXY protocol, and why"
BUILD = "The modules the role would build and load"
WEB = {
    "protocol": "tcp",
    "vip": "10.0.96.204",
    "port": 80,
    "scheduler": "rr",
    "real_servers": [{"ip": "192.168.229.2", "port": 8080, "forward": "fullnat"}],
    "laddrs": [{"ip": "192.168.229.204", "dev": "dpdk0"}, {"ip": "192.168.229.205", "dev": "dpdk0"}],
}


def dpvs_tree(tmp_path):
    """A stand-in DPVS source tree: the preflight only checks that kmod/toa and kmod/uoa exist."""
    for name in ("toa", "uoa"):
        (tmp_path / "dpvs" / "kmod" / name).mkdir(parents=True, exist_ok=True)
    return str(tmp_path / "dpvs")


def run(ansible, tmp_path, args=(), **extra):
    variables = {"toa_dpvs_source": dpvs_tree(tmp_path), **extra}
    return ansible.play("toa_client_address.yml", extra_vars=variables, args=list(args))


def lb_inventory(tmp_path):
    """lb1 (group dpvs, not run on) sends tcp 10.0.96.204:80 to 192.168.229.2:8080."""
    path = tmp_path / "dpvs.yml"
    path.write_text(
        yaml.safe_dump({"all": {"children": {"dpvs": {"hosts": {"lb1": {"dpvs_services_services": [WEB]}}}}}})
    )
    return ["-i", str(path)]


@pytest.mark.parametrize(
    ("release", "method", "built"),
    [
        ("6.12.48+deb13-amd64", "proxy_protocol", ["uoa"]),
        ("6.1.0-28-amd64", "toa", ["toa", "uoa"]),
        ("6.11.0", "toa", ["toa", "uoa"]),
        ("6.15.2-1-cloud-amd64", "proxy_protocol", ["uoa"]),
    ],
)
def test_auto_chooses_by_kernel_and_leaves_toa_out_with_proxy_protocol(ansible, tmp_path, release, method, built):
    result = run(ansible, tmp_path, toa_kernel_release=release)
    assert result.rc == 0, result.explain()
    facts = result[CHOICE]["ansible_facts"]
    assert facts["toa_client_address_method"] == method
    assert facts["toa_client_address_reason"].startswith(f"kernel {release}, ")
    assert result[BUILD]["msg"] == built
    line = result[LINE]["msg"]
    if method == "toa":
        assert (
            line
            == f"localhost: client addresses by TOA: kernel {release} is older than 6.12 (toa_proxy_protocol_kernel)."
        )
    else:
        assert line.startswith(f"localhost: client addresses by PROXY protocol v2, not TOA: kernel {release} is 6.12")
        assert "tcp_v4_syn_recv_sock and ipv4_specific" in line and "toa.ko is neither built nor loaded" in line


def test_the_proxy_protocol_line_names_the_listeners_ports_and_lips(ansible, tmp_path):
    result = run(
        ansible,
        tmp_path,
        args=lb_inventory(tmp_path),
        toa_kernel_release="6.12.48+deb13-amd64",
        toa_addresses=["192.168.229.2"],
        toa_proxy_protocol_listeners=[{"name": "nginx", "port": 8080}, {"name": "haproxy", "port": 9000}],
    )
    assert result.rc == 0, result.explain()
    line = result[LINE]["msg"]
    assert (
        "Configure these listeners to expect PROXY protocol, from the LIPs only: port 8080 (nginx) for "
        "tcp 10.0.96.204:80 on lb1, trusted LIPs 192.168.229.204, 192.168.229.205; haproxy on port 9000 (no TCP "
        'FullNAT service of the inventory sends to this port) (docs/toa.md, "PROXY protocol").'
    ) in line
    listeners = result[CHOICE]["ansible_facts"]["__toa_client_address"]["listeners"]
    assert listeners[0] == {
        "lb": "lb1",
        "service": "tcp 10.0.96.204:80",
        "port": 8080,
        "laddrs": ["192.168.229.204", "192.168.229.205"],
        "proxy_protocol": None,
        "name": "nginx",
    }


def test_explicit_settings_win_over_the_kernel_and_a_threshold_moves_auto(ansible, tmp_path):
    forced = run(ansible, tmp_path, toa_kernel_release="6.1.0-28-amd64", toa_client_address="proxy_protocol")
    assert forced.rc == 0, forced.explain()
    assert forced[CHOICE]["ansible_facts"]["toa_client_address_method"] == "proxy_protocol"
    assert forced[BUILD]["msg"] == ["uoa"]

    kept = run(ansible, tmp_path, toa_kernel_release="6.12.48+deb13-amd64", toa_client_address="toa")
    assert kept.rc == 0, kept.explain()
    assert kept[CHOICE]["ansible_facts"]["toa_client_address_method"] == "toa"
    assert kept[BUILD]["msg"] == ["toa", "uoa"]
    assert "toa.ko may not build" in kept[LINE]["msg"]

    later = run(ansible, tmp_path, toa_kernel_release="6.12.48+deb13-amd64", toa_proxy_protocol_kernel="6.12.94")
    assert later.rc == 0, later.explain()
    assert later[CHOICE]["ansible_facts"]["toa_client_address_method"] == "toa"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"toa_client_address": "tao"}, "toa_client_address: must be auto, toa or proxy_protocol (got 'tao')"),
        (
            {"toa_proxy_protocol_kernel": 6.10},
            'toa_proxy_protocol_kernel: must be a quoted version like "6.12" (a YAML number loses trailing '
            "zeros: 6.10 is 6.1) (got 6.1)",
        ),
        (
            {"toa_kernel_release": "latest"},
            "toa_kernel_release: not a kernel release like 6.12.48+deb13-amd64 or 6.1.0-28-amd64 (got 'latest')",
        ),
        (
            {"toa_proxy_protocol_listeners": [{"name": "nginx", "port": 0}]},
            "toa_proxy_protocol_listeners[0].port: must be a port number, 1-65535 (got 0)",
        ),
    ],
    ids=["setting", "threshold-number", "release", "listener-port"],
)
def test_bad_values_are_refused_with_the_variable_and_the_value(ansible, tmp_path, variables, message):
    result = run(ansible, tmp_path, **{"toa_kernel_release": "6.1.0-28-amd64", **variables})
    assert result.rc != 0
    assert message in result[CHOICE]["msg"]
