"""tools/lab/lab_pyc_cache.py: the lab VMs' bytecode cache for zip-imported modules."""

import json
import os
import subprocess
import sys
import textwrap
import zipfile

HOOK = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "lab", "lab_pyc_cache.py")

RUNNER = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {hookdir!r})
    import lab_pyc_cache
    lab_pyc_cache.CACHE_DIR = {cache!r}
    sys.path.insert(0, {zip!r})
    import payload
    print(json.dumps({{"value": payload.value(), "file": payload.value.__code__.co_filename,
                      "point": payload.Point(1, 2) == payload.Point(1, 2)}}))
    """
)

PAYLOAD = textwrap.dedent(
    """
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Point:
        x: int
        y: int

    def value():
        return {value}
    """
)


def _run(tmp_path, name, value):
    zpath = tmp_path / name / "payload.zip"
    zpath.parent.mkdir()
    with zipfile.ZipFile(zpath, "w") as handle:
        handle.writestr("payload.py", PAYLOAD.format(value=value))
    code = RUNNER.format(hookdir=os.path.dirname(HOOK), cache=str(tmp_path / "cache"), zip=str(zpath))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout), zpath


def test_second_import_reuses_the_code_and_names_its_own_file(tmp_path):
    first, _zip = _run(tmp_path, "a", 1)
    cached = sorted(os.listdir(tmp_path / "cache"))
    second, zpath = _run(tmp_path, "b", 1)
    assert first["value"] == second["value"] == 1
    assert first["point"] and second["point"]
    # the module's code and the dataclass's generated methods were cached once, then reused
    assert len(cached) >= 2
    assert sorted(os.listdir(tmp_path / "cache")) == cached
    assert second["file"] == f"{zpath}/payload.py"


def test_changed_source_is_compiled_again(tmp_path):
    _run(tmp_path, "a", 1)
    before = set(os.listdir(tmp_path / "cache"))
    changed, _zip = _run(tmp_path, "b", 2)
    assert changed["value"] == 2
    assert len(set(os.listdir(tmp_path / "cache")) - before) == 1
