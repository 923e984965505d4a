# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one command runner of the collection.

Every external command (dpip, ipvsadm, ...) goes through :class:`Runner`:

* argv lists only, never a shell string;
* ``LANG=C``/``LC_ALL=C`` so that output is parsed in one locale;
* ``DPVS_IPC_FILE`` exported when the caller names a control socket, for
  multi-instance DPVS (``dpvs -x FILE``);
* failures raise :class:`CommandError` carrying cmd, rc, stdout and stderr;
  a DPVS daemon that is down (no socket, or a stale one) raises
  :class:`DaemonDownError`, a subclass, so callers can report it plainly;
* reads that fail with ``msg callback failed(-23)`` are retried a few times
  (a transient failure seen on a real v1.10.2 daemon under rapid commands);
* a command given stdin (``ipvsadm -R``) is fed while its stdout and stderr
  are read (:func:`subprocess_run_command`), so that no amount of output can
  block it: ``AnsibleModule.run_command`` writes all of stdin before it reads,
  and ipvsadm -R writes a line on stderr for every ``--add-laddr`` whose LIP is
  already on the NIC; some 900 such lines fill a 64 KiB pipe and both sides
  then wait for ever.

The runner keeps a log of every command it ran (``runner.log``) so that
modules can return ``commands``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

# "[dpvs_getsockopt] scoket msg connection error: No such file or directory"
# "[dpvs_setsockopt] scoket msg connection error: Connection refused"
# (sic: "scoket" is how DPVS spells it)
DAEMON_DOWN_RE = re.compile(r"scoket msg connection error: (?P<reason>[^\n]*)")

# "[sockopt_msg_recv] errcode set in socket msg#47 header: already exist(-3)"
SOCKOPT_ERR_RE = re.compile(
    r"\[sockopt_msg_recv\] errcode set in socket msg#(?P<msg>\d+) header: "
    r"(?P<text>[^\n(]*)\((?P<code>-?\d+)\)"
)

TRANSIENT_ERR_CODE = -23  # msg callback failed

C_LOCALE = {"LANG": "C", "LC_ALL": "C", "LC_MESSAGES": "C"}


class CommandError(Exception):
    """An external command failed. Carries everything needed to report it."""

    def __init__(self, cmd, rc, stdout, stderr, msg=None):
        self.cmd = list(cmd)
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.dpvs_errors = sockopt_errors(stderr)
        if msg is None:
            detail = (stderr or stdout or "").strip().splitlines()
            msg = "command {} failed with rc={}{}".format(
                " ".join(self.cmd),
                rc,
                (": " + " / ".join(detail[-3:])) if detail else "",
            )
        self.msg = msg
        super(CommandError, self).__init__(msg)

    def to_result(self):
        """Fields to merge into a module's fail_json."""
        return {
            "cmd": self.cmd,
            "rc": self.rc,
            "stdout": self.stdout,
            "stderr": self.stderr,
        }

    def has_dpvs_error(self, code):
        """True when the daemon answered with DPVS error ``code`` (e.g. -3)."""
        return any(err["code"] == code for err in self.dpvs_errors)


class DaemonDownError(CommandError):
    """The DPVS control socket is absent or refuses connections."""


def sockopt_errors(stderr):
    """Parse the ``[sockopt_msg_recv] ... header: text(code)`` lines of stderr.

    Returns a list of ``{"msg": int, "text": str, "code": int}``. This is the
    only reliable error information DPVS tools give: the trailing ``Success``
    line of ipvsadm is errno noise.
    """
    found = []
    for match in SOCKOPT_ERR_RE.finditer(stderr or ""):
        found.append(
            {
                "msg": int(match.group("msg")),
                "text": match.group("text").strip(),
                "code": int(match.group("code")),
            }
        )
    return found


def is_daemon_down(rc, stderr):
    """True when the output says the DPVS daemon cannot be reached."""
    return rc != 0 and DAEMON_DOWN_RE.search(stderr or "") is not None


def subprocess_run_command(argv, data=None, binary_data=False, environ_update=None, check_rc=False, timeout=None):
    """``AnsibleModule.run_command``'s contract (argv list, ``(rc, stdout, stderr)`` as text) over
    ``subprocess.run``, whose ``communicate()`` writes stdin while it reads stdout and stderr: a
    command that answers each line of its stdin on stderr cannot block on a full pipe, and one that
    exits before reading all of it (EPIPE) ends the write. ``binary_data`` and ``check_rc`` are
    accepted for the signature (stdin is sent as is, the caller checks rc). A program that cannot
    be started gives rc 127 and the reason on stderr, as a shell would; one that runs longer
    than ``timeout`` seconds (None: no limit) is killed and gives rc 124, as timeout(1) does.

    Used by :meth:`Runner.for_module` for commands with stdin, by the host-side entry points
    (``Runner(subprocess_run_command)``) and by benchmarks/ipvs_table.py.
    """
    env = dict(os.environ)
    env.update(environ_update or {})
    if data is not None and not isinstance(data, bytes):
        data = data.encode("utf-8")
    try:
        proc = subprocess.run(argv, input=data, capture_output=True, env=env, check=False, timeout=timeout)
    except OSError as exc:
        return 127, "", f"{argv[0]}: {exc.strerror or exc}\n"
    except subprocess.TimeoutExpired:
        return 124, "", f"{argv[0]}: no answer within {timeout:g}s (killed)\n"
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


class Runner:
    """Run external commands for a module.

    ``run_command`` is a callable with the signature of
    ``AnsibleModule.run_command`` (tests pass their own). ``environ`` is
    merged into the environment of every command.
    """

    def __init__(self, run_command, ipc_file=None, environ=None, retries=3, retry_delay=0.2):
        self._run_command = run_command
        self.environ = dict(C_LOCALE)
        if environ:
            self.environ.update(environ)
        if ipc_file:
            self.environ["DPVS_IPC_FILE"] = ipc_file
        self.retries = retries
        self.retry_delay = retry_delay
        self.not_installed = None  # find_tool(): the DPVS tool that is missing
        self.log = []
        self._prefetched = {}  # prefetch(): tuple(argv) -> the future of its run

    @classmethod
    def for_module(cls, module, ipc_file=None):
        """Commands without stdin through ``module.run_command``, commands with stdin through
        :func:`subprocess_run_command` (``run_command`` would deadlock on a full stderr pipe)."""

        def run_command(argv, data=None, **kwargs):
            if data is None:
                return module.run_command(argv, **kwargs)
            return subprocess_run_command(argv, data=data, **kwargs)

        return cls(run_command, ipc_file=ipc_file)

    def run(self, argv, data=None, check_rc=True, read_only=False, record=True):
        """Run ``argv`` (a list); return ``(rc, stdout, stderr)``.

        ``read_only`` commands are retried on the transient DPVS error
        ``msg callback failed(-23)``. With ``check_rc`` a non-zero exit raises
        :class:`CommandError` (or :class:`DaemonDownError`).
        ``record`` puts the command into ``self.log`` (modules return reads
        and writes separately; writes are recorded by the caller's plan).
        """
        argv = [str(arg) for arg in argv]
        if self.not_installed:
            raise DaemonDownError(argv, 127, "", "", msg=f"DPVS is not installed yet ({self.not_installed} not found)")
        if read_only and data is None and not record:
            early = self._early(argv)
            if early is not None:
                return early
        elif not read_only:
            self.forget_prefetched()  # a write makes every listing taken before it stale
        return self._run(argv, data, check_rc, read_only, record)

    def _run(self, argv, data=None, check_rc=True, read_only=False, record=True):
        attempts = self.retries if read_only else 1
        for attempt in range(attempts):
            rc, out, err = self._run_command(
                argv,
                data=data,
                binary_data=data is not None,
                environ_update=self.environ,
                check_rc=False,
            )
            transient = any(e["code"] == TRANSIENT_ERR_CODE for e in sockopt_errors(err))
            if rc != 0 and read_only and attempt + 1 < attempts and transient:
                time.sleep(self.retry_delay * (attempt + 1))
                continue
            break
        if record:
            entry = {"cmd": argv, "rc": rc}
            if data is not None:
                entry["stdin"] = data
            self.log.append(entry)
        if is_daemon_down(rc, err):
            reason = DAEMON_DOWN_RE.search(err).group("reason")
            raise DaemonDownError(
                argv,
                rc,
                out,
                err,
                msg="DPVS daemon is not reachable ({}): is dpvs running, and is "
                "DPVS_IPC_FILE/ipc_file right? Command: {}".format(reason, " ".join(argv)),
            )
        if rc != 0 and check_rc:
            raise CommandError(argv, rc, out, err)
        return rc, out, err

    def reads(self, argvs):
        """Run the read-only commands ``argvs`` at the same time; their stdouts, in order. Each is
        :meth:`run` with ``read_only`` (retried, not logged); the first failure raises once all
        have ended. For listings of big tables, where the time is the tools' (and the daemon's)
        rather than the module's."""
        if len(argvs) < 2:
            return [self.run(argv, read_only=True, record=False)[1] for argv in argvs]
        with ThreadPoolExecutor(max_workers=len(argvs)) as pool:
            futures = [pool.submit(self.run, argv, read_only=True, record=False) for argv in argvs]
        return [future.result()[1] for future in futures]

    def prefetch(self, argvs):
        """Start the read-only commands ``argvs`` now, in the background, and answer the first
        later :meth:`run` (or :meth:`reads`) of each from it: a module starts the listings of a
        big table before it validates its input, so that DPVS lists while the module checks.
        A prefetched read that failed is run again when asked for (its error then is the
        caller's); prefetched answers are forgotten at the first write and when the caller says
        so (:meth:`forget_prefetched`), and one never asked for is only waited for at exit."""
        argvs = [[str(arg) for arg in argv] for argv in argvs]
        if not argvs:
            return
        pool = ThreadPoolExecutor(max_workers=len(argvs))
        for argv in argvs:
            self._prefetched[tuple(argv)] = pool.submit(self._run, argv, read_only=True, record=False)
        pool.shutdown(wait=False)

    def forget_prefetched(self):
        """Answer no later read from the prefetch: the first read of the table has been made
        (a later one must see the table as it is then), or a command was written."""
        self._prefetched = {}

    def _early(self, argv):
        """The prefetched ``(rc, stdout, stderr)`` of ``argv``, once; None when it was not
        prefetched or failed."""
        future = self._prefetched.pop(tuple(argv), None)
        if future is None:
            return None
        try:
            return future.result()
        except CommandError:
            return None


def find_tool(module, runner, name, absent_is_down):
    """The path of DPVS tool ``name`` (``dpip``, ``ipvsadm`` or a path). When it is missing and
    ``absent_is_down`` (check mode with ``plan_fresh_when_down``: the dpvs role installs DPVS
    later in the same run), ``runner`` answers every command as a DPVS that is down, so that the
    converge core plans from a freshly started DPVS; otherwise a missing tool fails the module."""
    path = module.get_bin_path(name, required=not absent_is_down)
    if path is None:
        runner.not_installed = name
        return name
    return path
