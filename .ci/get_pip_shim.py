"""Stand-in for ansible-test's pip bootstrap script (get-pip.py).

ansible-test creates its sanity-test virtual environments without pip and downloads
get-pip.py from a host that is not reachable from CI (only the package registries are).
Its own error message says the script may be saved by hand to
~/.ansible/test/cache/get_pip_<version>.py; `make sanity` puts this file there instead.
It does what get-pip.py does with the same arguments: bootstrap pip (here from Python's
bundled ensurepip) and install the requested packages (pip==X) from the package index.
"""

import ensurepip
import os
import subprocess
import sys

GET_PIP_ONLY_FLAGS = ("--no-setuptools", "--no-wheel")

args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_FLAGS]
saved_config = os.environ.get("PIP_CONFIG_FILE")
ensurepip.bootstrap(upgrade=True)
# ensurepip points PIP_CONFIG_FILE at /dev/null for its own run: give pip its configuration
# (index, certificates) back for the real install.
if saved_config is None:
    os.environ.pop("PIP_CONFIG_FILE", None)
else:
    os.environ["PIP_CONFIG_FILE"] = saved_config
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--upgrade", *args]))
