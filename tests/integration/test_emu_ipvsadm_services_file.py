"""dpvs.cluster.ipvsadm's services_file against the emulator: the table from a JSON file on the
host converges exactly as the same table given inline, in both file shapes, and a bad file or
a typo in it fails before any command, naming the key."""

import json

import pytest
from test_emu_ipvsadm import SERVICES

pytestmark = pytest.mark.parallel_safe


def test_a_file_converges_like_the_option_and_bad_files_change_nothing(emulator, ansible, tmp_path):
    as_list = tmp_path / "services-list.json"
    as_list.write_text(json.dumps(SERVICES))
    as_document = tmp_path / "services.json"
    as_document.write_text(json.dumps({"format": 1, "kind": "services", "entries": SERVICES}))
    typo = json.loads(json.dumps(SERVICES))
    typo[2]["real_servers"][0]["wieght"] = 3
    typo_file = tmp_path / "typo.json"
    typo_file.write_text(json.dumps(typo))
    steps = [
        {"name": "typo", "module": "ipvsadm", "args": {"services_file": str(typo_file)}, "expect_failure": True},
        {"name": "missing", "module": "ipvsadm", "args": {"services_file": str(tmp_path / "nope.json")},
         "expect_failure": True},
        {"name": "both", "module": "ipvsadm", "args": {"services_file": str(as_list), "services": SERVICES},
         "expect_failure": True},
        {"name": "check", "module": "ipvsadm", "args": {"services_file": str(as_list)}, "check": True},
        {"name": "from_list", "module": "ipvsadm", "args": {"services_file": str(as_list)}},
        {"name": "inline_again", "module": "ipvsadm", "args": {"services": SERVICES}},
        {"name": "document_again", "module": "ipvsadm", "args": {"services_file": str(as_document)}},
    ]  # fmt: skip
    run = ansible.play("steps.yml", {"steps": steps})
    assert run.rc == 0, run.explain()
    failed = {name: run.step(name) for name in ("typo", "missing", "both")}
    assert all(result.get("failed") for result in failed.values())
    assert "services[2].real_servers[0].wieght: unknown key (did you mean weight?)" in failed["typo"]["msg"]
    assert "services_file: cannot be read" in failed["missing"]["msg"]
    assert "mutually exclusive" in failed["both"]["msg"]
    for name in ("typo", "missing", "both"):
        assert emulator.log(name) == [], name  # not even a read: the input failed first
    check, applied = run.step("check"), run.step("from_list")
    assert emulator.log("check") and not emulator.writes("check")
    assert check["changed"] and applied["changed"]
    assert [entry["cmd"][1:] for entry in check["commands"]] == [entry["cmd"][1:] for entry in applied["commands"]]
    assert run.step("inline_again")["changed"] is False
    assert run.step("document_again")["changed"] is False
    assert applied["invocation"]["module_args"]["services_file"] == str(as_list)
