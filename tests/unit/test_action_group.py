"""meta/runtime.yml's action group ``dpvs`` holds exactly the modules that talk to the DPVS daemon
(every module whose options include ``ipc_file``), so that ``module_defaults`` for
``group/dpvs.cluster.dpvs`` (ipc_file, dpip_path, ...) reaches each of them and no other: a module
given a default it has no option for fails with "Unsupported parameters" (decision 59)."""

import glob
import importlib
import os

import yaml
from conftest import REPO
from moduledocs import PREFIX, ModuleDocFragment

SHARED_OPTIONS = {"ipc_file", "dpip_path"}


def _module_options():
    options = {}
    for path in sorted(glob.glob(os.path.join(REPO, "plugins", "modules", "*.py"))):
        name = os.path.basename(path)[:-3]
        module = importlib.import_module(f"ansible_collections.dpvs.cluster.plugins.modules.{name}")
        doc = yaml.safe_load(module.DOCUMENTATION)
        names = set(doc.get("options") or {})
        for fragment in doc.get("extends_documentation_fragment", []):
            if fragment.startswith(PREFIX):  # the collection's own; ansible.builtin's add no option
                attr = fragment[len(PREFIX) + 1 :] or "DOCUMENTATION"
                names |= set(yaml.safe_load(getattr(ModuleDocFragment, attr)).get("options") or {})
        options[name] = names
    return options


def test_the_dpvs_group_is_every_module_that_talks_to_dpvs_and_only_those():
    with open(os.path.join(REPO, "meta", "runtime.yml")) as handle:
        group = yaml.safe_load(handle)["action_groups"]["dpvs"]
    options = _module_options()
    assert len(options) >= 13
    assert sorted(group) == sorted(name for name, opts in options.items() if "ipc_file" in opts)
    for name in group:
        assert options[name] >= SHARED_OPTIONS, f"{name} lacks {SHARED_OPTIONS - options[name]}"
