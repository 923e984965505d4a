"""Fixtures of the emulator tier (the tools are in emutier.py).

Every test gets its own emulator (state file, IPC socket path and command logs in its tmp dir):
tests share nothing and are safe under pytest-xdist (``-n 2``); the bad-input cases share one
playbook run per pytest run, whichever workers they land on.
"""

import pytest
from emutier import Ansible, Emulator


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "parallel_safe: the test uses only its own emulator and tmp dir (fine under pytest-xdist)",
    )


@pytest.fixture
def emulator(tmp_path):
    """A started emulator (ports dpdk0..dpdk3 of seed 001), stopped at teardown."""
    emu = Emulator(tmp_path)
    emu.start()
    yield emu
    emu.ctl("stop", check=False)


@pytest.fixture
def ansible(emulator, tmp_path):
    return Ansible(emulator, tmp_path)


@pytest.fixture
def converged(emulator, ansible, tmp_path):
    """The seed's cluster converged by the roles, with its replay files (test_emu_safety.converge)."""
    from test_emu_safety import converge

    return converge(emulator, ansible, tmp_path)
