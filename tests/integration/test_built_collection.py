"""The collection as a user gets it: the tarball `make build` makes, installed into an empty path
with an empty ANSIBLE_HOME, documents every module, filter and role through ansible-doc (issue
17: six filters had no documentation, and an installed copy left in ~/.ansible by ansible-lint
made `ansible-galaxy collection install` answer "Nothing to do")."""

import glob
import json
import os
import subprocess
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BIN = os.path.dirname(sys.executable)
GALAXY = os.path.join(BIN, "ansible-galaxy")
DOC = os.path.join(BIN, "ansible-doc")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("built")
    env = dict(os.environ, ANSIBLE_HOME=str(tmp / "home"), HOME=str(tmp / "home"))
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    subprocess.run([GALAXY, "collection", "build", "--output-path", str(tmp / "dist"), REPO],
                   env=env, check=True, capture_output=True, cwd=tmp)  # fmt: skip
    (tarball,) = glob.glob(str(tmp / "dist" / "dpvs-cluster-*.tar.gz"))
    proc = subprocess.run([GALAXY, "collection", "install", "--no-deps", "-p", str(tmp / "inst"), tarball],
                          env=env, capture_output=True, text=True, check=False, cwd=tmp)  # fmt: skip
    assert proc.returncode == 0 and "Nothing to do" not in proc.stdout, proc.stdout + proc.stderr
    root = tmp / "inst" / "ansible_collections" / "dpvs" / "cluster"
    assert (root / "MANIFEST.json").is_file()
    env["ANSIBLE_COLLECTIONS_PATH"] = str(tmp / "inst")
    return env, root


def _doc(env, kind, names):
    proc = subprocess.run([DOC, "--json", "-t", kind, *names], env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def _listed(env, kind):
    proc = subprocess.run([DOC, "--json", "-t", kind, "-l", "dpvs.cluster"], env=env, capture_output=True, text=True,
                          check=True)  # fmt: skip
    return sorted(json.loads(proc.stdout))


def test_every_module_is_documented_from_the_installed_tarball(installed):
    env, root = installed
    names = sorted("dpvs.cluster." + os.path.basename(p)[:-3] for p in glob.glob(str(root / "plugins/modules/*.py")))
    assert len(names) >= 13 and _listed(env, "module") == names
    docs = _doc(env, "module", names)
    assert sorted(docs) == names
    assert all(docs[name]["doc"]["short_description"] and docs[name]["examples"] for name in names)


def test_every_filter_is_documented_from_the_installed_tarball(installed):
    env, _root = installed
    names = _listed(env, "filter")
    assert len(names) >= 28 and "dpvs.cluster.kernel_forwarder_plan" in names
    docs = _doc(env, "filter", names)
    missing = [name for name in names if not (docs.get(name) or {}).get("doc", {}).get("short_description")]
    assert missing == []


def test_every_role_is_documented_from_the_installed_tarball(installed):
    env, root = installed
    roles = sorted(p.name for p in (root / "roles").iterdir() if p.is_dir())
    assert len(roles) >= 12
    docs = _doc(env, "role", ["dpvs.cluster." + name for name in roles])
    assert sorted(docs) == ["dpvs.cluster." + name for name in roles]
    assert all(doc["entry_points"]["main"]["short_description"] for doc in docs.values())


def test_the_execution_environment_needs_are_what_ansible_builder_reads(installed):
    """meta/execution-environment.yml as ansible-builder (AWX, Automation Platform, navigator
    images) reads it from the installed collection: the SSH client by default, DPDK's build tools
    only under the dpdk_build profile, no Python package beyond ansible-core's."""
    env, root = installed
    builder = os.path.join(BIN, "ansible-builder")
    proc = subprocess.run([builder, "introspect", str(root.parents[2])], env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = yaml.safe_load(proc.stdout.split("---", 1)[1])
    assert data["python"] == []
    system = [line.split("  #")[0] for line in data["system"]]
    assert "openssh-client [platform:dpkg]" in system and "openssh-clients [platform:rpm]" in system
    defaults = [line for line in system if "dpdk_build" not in line]
    assert sorted(defaults) == ["openssh-client [platform:dpkg]", "openssh-clients [platform:rpm]"]
    assert "meson [dpdk_build]" in system
