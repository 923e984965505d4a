"""pytest set-up shared by every test tier.

Makes ``ansible_collections.dpvs.cluster`` importable from this checkout: a link
``build/collections/ansible_collections/dpvs/cluster`` -> the repository root,
and ``build/collections`` on ``sys.path``. Integration tests point
``ANSIBLE_COLLECTIONS_PATH`` at the same folder.
"""

import contextlib
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, "build", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "dpvs", "cluster")
# The DPVS v1.10.2 ground truth (real dpip/ipvsadm/dpvs output) the tests replay: the copy in
# this repository. The project's shared copy (DPVS_SHARED, else ../shared beside the checkout),
# when present, is only compared with it (tests/unit/test_transcripts_copy.py).
GROUND_TRUTH = os.path.join(REPO, "tests", "dpvs-transcripts")
TRANSCRIPTS = os.path.join(GROUND_TRUTH, "v1.10.2")
SHARED = os.environ.get("DPVS_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
EMULATOR_BIN = os.path.join(REPO, "tests", "emulator", "bin")


def _ensure_link():
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    if not os.path.islink(LINK):
        with contextlib.suppress(FileExistsError):
            os.symlink(REPO, LINK)


_ensure_link()
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
