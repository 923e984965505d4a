"""The DPVS ground truth the tests replay lives in this repository (tests/dpvs-transcripts: real
dpip/ipvsadm/dpvs v1.10.2 output, the dpvs.conf that daemon ran with, their README), so that a
fresh clone tests without anything beside it. Where the project's shared copy is present
(DPVS_SHARED, else ../shared), the two must be the same, byte for byte, file for file, but for
the Unicode quotes ansible-test sanity forbids (no-smart-quotes: one gcc message quoted in the
README), which the copy has as ASCII quotes."""

import os

import pytest
from conftest import GROUND_TRUTH, SHARED, TRANSCRIPTS

SHARED_TRUTH = os.path.join(SHARED, "dpvs-transcripts")
SMART_QUOTES = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'}


def _files(root):
    found = (os.path.join(base, name) for base, _dirs, names in os.walk(root) for name in names)
    return sorted(os.path.relpath(path, root) for path in found)


def _sanity_safe(data):
    """The bytes as the copy holds them: Unicode quotes as ASCII ones."""
    for smart, plain in SMART_QUOTES.items():
        data = data.replace(smart.encode(), plain.encode())
    return data


def _same(name):
    with open(os.path.join(GROUND_TRUTH, name), "rb") as ours, open(os.path.join(SHARED_TRUTH, name), "rb") as theirs:
        return ours.read() == _sanity_safe(theirs.read())


def test_the_copy_in_the_repository_is_complete_enough_to_test_with():
    names = os.listdir(TRANSCRIPTS)
    assert "SEQUENCE.tsv" in names and len(names) > 200
    assert os.path.isfile(os.path.join(GROUND_TRUTH, "README.md"))
    assert os.path.isfile(os.path.join(GROUND_TRUTH, "dpvs.conf.lab-v1.10.2"))


def test_the_copy_has_no_quote_that_ansible_test_sanity_refuses():
    for name in _files(GROUND_TRUTH):
        with open(os.path.join(GROUND_TRUTH, name), "rb") as handle:
            data = handle.read()
        assert _sanity_safe(data) == data, name


@pytest.mark.skipif(
    not os.path.isdir(SHARED_TRUTH),
    reason=f"NOT RUN: no shared copy at {SHARED_TRUTH} to compare with (set DPVS_SHARED); a skip is not a pass",
)
def test_the_copy_is_the_shared_ground_truth_byte_for_byte():
    ours, theirs = _files(GROUND_TRUTH), _files(SHARED_TRUTH)
    assert ours == theirs, f"only here: {set(ours) - set(theirs)}; only shared: {set(theirs) - set(ours)}"
    differ = [name for name in ours if not _same(name)]
    assert differ == [], f"differ from the shared copy: {differ} (copy the shared ground truth again)"
