"""The runner's stdin path (issue 14): a command that answers each stdin line on stderr, as
ipvsadm -R does for a LIP already on the NIC, must not block on a full pipe."""

import sys

from ansible_collections.dpvs.cluster.plugins.module_utils.common.runner import Runner, subprocess_run_command

# Reads stdin line by line and writes 200 bytes on stderr for each line before reading the next:
# 20,000 lines are 4 MB of stderr, far beyond a 64 KiB pipe.
ECHO_ON_STDERR = (
    "import sys\n"
    "n = 0\n"
    "for line in sys.stdin:\n"
    "    n += 1\n"
    "    sys.stderr.write('x' * 199 + '\\n')\n"
    "    sys.stderr.flush()\n"
    "print(n)\n"
)


def test_stdin_is_fed_while_stderr_is_drained():
    data = "".join(f"-A -t 10.0.0.{i % 250}:{i} -s rr\n" for i in range(20000))
    rc, out, err = subprocess_run_command([sys.executable, "-c", ECHO_ON_STDERR], data=data)
    assert rc == 0
    assert out == "20000\n"
    assert len(err.splitlines()) == 20000


def test_a_command_that_exits_before_reading_all_stdin_ends_the_write():
    data = "line\n" * 200000  # about 1 MB, the child reads none of it
    rc, out, _err = subprocess_run_command([sys.executable, "-c", "import sys; sys.exit(3)"], data=data)
    assert (rc, out) == (3, "")


def test_a_program_that_cannot_start_is_rc_127_with_the_reason():
    rc, out, err = subprocess_run_command(["/nonexistent/ipvsadm", "-R"], data="-C\n")
    assert rc == 127 and out == ""
    assert err.startswith("/nonexistent/ipvsadm: ") and "No such file" in err


class FakeModule:
    def __init__(self):
        self.calls = []

    def run_command(self, argv, **kwargs):
        self.calls.append(argv)
        return 0, "read\n", ""


def test_for_module_sends_only_commands_with_stdin_past_run_command():
    module = FakeModule()
    runner = Runner.for_module(module)
    assert runner.run(["ipvsadm", "-ln"], read_only=True) == (0, "read\n", "")
    rc, out, _err = runner.run([sys.executable, "-c", "import sys; print(len(sys.stdin.read()))"], data="abc\n")
    assert (rc, out) == (0, "4\n")
    assert module.calls == [["ipvsadm", "-ln"]]
    assert runner.log[-1]["stdin"] == "abc\n"
