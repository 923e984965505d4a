"""Lab VMs only: keep the bytecode of what Python compiles for Ansible's modules.

Ansible sends every module as an AnsiballZ zip that Python imports with zipimport, which compiles
every source file it loads at every task, and dataclasses compiles the methods it generates for
each class. Under qemu's software emulation that was a third of a task: ansible.builtin.ping took
3.4 s in rs1 (Python's own start: 0.3 s), 2.1 s with this hook. A .pth file that
tools/lab/customize.sh installs in the image loads it; it keeps each compiled code object under
CACHE_DIR, keyed by a hash of the interpreter, the file's path inside the zip and its source, so
the next task that imports the same source unmarshals it. The code that runs is compiled from the
source the controller sent; only the compiling is saved. Production hosts do not have this file.
"""

import marshal
import os
import sys
import zipimport

try:
    from _sha256 import sha256  # built in: cheaper to import than hashlib, and this runs in every Python
except ImportError:  # pragma: no cover
    from hashlib import sha256

CACHE_DIR = "/var/cache/lab-pyc"
_compile = zipimport._compile_source


def _with_filename(code, filename):
    consts = tuple(_with_filename(c, filename) if isinstance(c, type(code)) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def _load(source, filename, compile_source):
    key = sha256(sys.version.encode() + b"\0" + filename.encode() + b"\0" + source).hexdigest()
    path = os.path.join(CACHE_DIR, key)
    try:
        with open(path, "rb") as handle:
            return marshal.load(handle)
    except (OSError, EOFError, ValueError, TypeError):
        pass
    code = compile_source()
    try:
        os.makedirs(CACHE_DIR, mode=0o700, exist_ok=True)
        tmp = f"{path}.{os.getpid()}"
        with open(tmp, "wb") as handle:
            marshal.dump(code, handle)
        os.replace(tmp, path)
    except OSError:
        pass
    return code


def _cached_exec(source, globals=None, locals=None):
    """dataclasses builds each class's __init__, __eq__ ... by exec of generated source."""
    if isinstance(source, str):
        source = _load(source.encode(), "<string>", lambda: compile(source, "<string>", "exec"))
    return exec(source, globals, locals)


def _cached_compile(pathname, source):
    if "dataclasses" not in _patched:
        _patched.add("dataclasses")
        import dataclasses

        dataclasses.exec = _cached_exec
    # The key leaves the payload's temporary directory out; the code gets this run's file name back.
    inner = pathname.split(".zip/", 1)[-1]
    code = _load(source, inner, lambda: _compile(pathname, source))
    return _with_filename(code, pathname)


_patched = set()
zipimport._compile_source = _cached_compile
