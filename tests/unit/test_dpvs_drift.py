"""plugins/filter/dpvs_drift.py: a check-mode result as one line per change, -R batches unrolled."""

from ansible_collections.dpvs.cluster.plugins.filter.dpvs_drift import dpvs_drift


def test_no_commands_no_drift():
    assert dpvs_drift({"changed": False, "commands": []}, "dpvs_services_services") == []
    assert dpvs_drift({"skipped": True}, "dpvs_services_services") == []
    assert dpvs_drift(None, "dpvs_network_routes") == []


def test_each_command_names_the_variable_and_drops_the_binary_path():
    result = {"commands": [{"cmd": ["/usr/bin/dpip", "addr", "add", "10.0.96.204/32", "dev", "dpdk2"], "rc": None}]}
    assert dpvs_drift(result, "dpvs_network_addresses") == [
        "dpvs_network_addresses needs: dpip addr add 10.0.96.204/32 dev dpdk2"
    ]


def test_a_restore_batch_is_listed_line_by_line():
    result = {
        "commands": [
            {"cmd": ["/usr/sbin/ipvsadm", "-A", "-t", "10.0.96.204:80", "-s", "rr"], "rc": None},
            {"cmd": ["ipvsadm", "-R"], "stdin": "-a -t 10.0.96.204:80 -r 192.168.229.1:80 -b -w 1\n\n", "rc": None},
        ]
    }
    assert dpvs_drift(result, "dpvs_services_services") == [
        "dpvs_services_services needs: ipvsadm -A -t 10.0.96.204:80 -s rr",
        "dpvs_services_services needs: ipvsadm -a -t 10.0.96.204:80 -r 192.168.229.1:80 -b -w 1",
    ]
