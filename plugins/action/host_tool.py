# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``host_tool`` action: build ``dpvs-cluster.pyz`` from this collection and copy it to the host.

The zip application holds this collection's ``plugins/module_utils`` (every package but
``controller/``), the empty package files that let ``zipimport`` find them under
``ansible_collections/dpvs/cluster/plugins/module_utils``, and a ``__main__.py`` that runs
``cli.main``. :func:`build_pyz` is the builder (stdlib only, byte-for-byte deterministic), the
action writes its bytes to a local temporary file and hands it to ``ansible.builtin.copy``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import io
import os
import shutil
import tempfile
import zipfile

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

DEFAULT_DEST = "/usr/local/lib/dpvs-cluster/dpvs-cluster.pyz"
PACKAGE_ROOT = "ansible_collections/dpvs/cluster/plugins/module_utils"
# packages of module_utils that never go to a host
EXCLUDED = ("controller", "__pycache__")
# the empty package files above module_utils that zipimport needs
PARENT_PACKAGES = (
    "ansible_collections/__init__.py",
    "ansible_collections/dpvs/__init__.py",
    "ansible_collections/dpvs/cluster/__init__.py",
    "ansible_collections/dpvs/cluster/plugins/__init__.py",
    PACKAGE_ROOT + "/__init__.py",
)
MAIN = (
    "# dpvs-cluster COMMAND [ARGS] (built by the dpvs.cluster.host_tool action)\n"
    "import sys\n\n"
    "from ansible_collections.dpvs.cluster.plugins.module_utils.cli.main import main\n\n"
    "sys.exit(main())\n"
)
DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644

ARGUMENT_SPEC = dict(
    dest=dict(type="str", default=DEFAULT_DEST),
    mode=dict(type="raw", default="0644"),
    owner=dict(type="str", default="root"),
    group=dict(type="str", default="root"),
)


def module_utils_dir():
    """This collection's ``plugins/module_utils``, found from this file."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils")


def source_files(utils_dir):
    """``{name in the zip: path on disk}`` of every ``.py`` file below ``utils_dir`` but the
    excluded packages (and ``__init__.py`` files above it, which :data:`PARENT_PACKAGES` adds)."""
    found = {}
    for here, dirs, files in os.walk(utils_dir):
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDED)
        relative = os.path.relpath(here, utils_dir)
        if relative == ".":
            continue  # module_utils itself holds no module; its __init__ is an empty one
        for name in sorted(files):
            if name.endswith(".py"):
                found["/".join([PACKAGE_ROOT, *relative.split(os.sep), name])] = os.path.join(here, name)
    return found


def _entry(name):
    info = zipfile.ZipInfo(name, date_time=DATE_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, so that external_attr is read as a mode
    info.external_attr = FILE_MODE << 16
    return info


def build_pyz(utils_dir=None):
    """The bytes of ``dpvs-cluster.pyz``: sorted entries, a fixed date and mode, deflated; the
    same tree gives the same bytes."""
    members = {name: b"" for name in PARENT_PACKAGES}
    members["__main__.py"] = MAIN.encode("utf-8")
    for name, path in source_files(utils_dir or module_utils_dir()).items():
        with open(path, "rb") as handle:
            members[name] = handle.read()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(members):
            archive.writestr(_entry(name), members[name])
    return buffer.getvalue()


def command_names():
    """The tool's commands (``cli.main.COMMANDS``)."""
    from ansible_collections.dpvs.cluster.plugins.module_utils.cli.main import COMMANDS

    return list(COMMANDS)


class ActionModule(ActionBase):
    TRANSFERS_FILES = True
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        super(ActionModule, self).run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        if not os.path.basename(args["dest"]):
            raise AnsibleActionFail(f"dest: the path of the file, not of a directory (got {args['dest']!r})")
        data = build_pyz()
        checksum = hashlib.sha1(data).hexdigest()
        local_dir = tempfile.mkdtemp(dir=C.DEFAULT_LOCAL_TMP)
        try:
            dest = args["dest"]
            # the local file carries dest's name: copy writes it into dest's directory, which
            # it creates when missing (a dest that ends with a slash)
            source = os.path.join(local_dir, os.path.basename(dest))
            with open(source, "wb") as handle:
                handle.write(data)
            new_task = self._task.copy()
            new_task.args.clear()
            new_task.args.update(
                src=source,
                dest=os.path.dirname(dest) + "/",
                mode=args["mode"],
                owner=args["owner"],
                group=args["group"],
            )
            copy_action = self._shared_loader_obj.action_loader.get(
                "ansible.builtin.copy",
                task=new_task,
                connection=self._connection,
                play_context=self._play_context,
                loader=self._loader,
                templar=self._templar,
                shared_loader_obj=self._shared_loader_obj,
            )
            result = copy_action.run(task_vars=task_vars)
        finally:
            shutil.rmtree(local_dir, ignore_errors=True)
            self._remove_tmp_path(self._connection._shell.tmpdir)
        result.update(dest=dest, checksum=checksum, commands=command_names())
        return result
