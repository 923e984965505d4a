"""``dpvs-cluster hugepage-files`` (plugins/module_utils/host/hugepage_files.py, dpvs.service's
ExecStopPost) on a fake tree: a /proc with mounts, maps, fd links and comm files, and hugetlbfs
mount points that are plain directories. Only the given prefix's ``<prefix>map_<N>`` files go,
and only those no process has open, mapped or locked. The run on a real hugetlbfs under systemd
is tests/integration/test_dpvs_unit_systemd.py."""

import fcntl
import io
import os
import sys

import pytest
from ansible_collections.dpvs.cluster.plugins.module_utils.host import hugepage_files as H

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_host_tool import build_tool, run_tool

MiB = 1024 * 1024


def _write(path, text="", size=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)
        if size is not None:
            handle.truncate(size)


def make_tree(root):
    """``root/proc`` and two hugetlbfs mounts (one with a blank in its path) holding rte's files
    0-3 and 10, another prefix's, and look-alikes; pid 100 (dpvs) maps rtemap_1, pid 101 (pdump)
    has rtemap_2 open."""
    root = str(root)
    mnt2m, mnt1g = os.path.join(root, "dev", "hugepages"), os.path.join(root, "mnt", "huge 1g")
    proc = os.path.join(root, "proc")
    _write(
        os.path.join(proc, "mounts"),
        "proc /proc proc rw,nosuid 0 0\n"
        f"hugetlbfs {mnt2m} hugetlbfs rw,relatime,pagesize=2M 0 0\n"
        f"none {mnt1g.replace(' ', chr(92) + '040')} hugetlbfs rw,pagesize=1024M 0 0\n"
        f"tmpfs {root}/run tmpfs rw 0 0\n",
    )
    for n in (0, 1, 2, 3, 10):
        _write(os.path.join(mnt2m, f"rtemap_{n}"), size=2 * MiB)
    for name in ("dpvsmap_0", "rtemap_x", "rte_config", "xrtemap_0"):
        _write(os.path.join(mnt2m, name), size=2 * MiB)
    _write(os.path.join(mnt1g, "rtemap_0"), size=1024 * MiB)
    _write(os.path.join(proc, "100", "comm"), "dpvs\n")
    _write(
        os.path.join(proc, "100", "maps"),
        "55d0c000-55d0d000 r-xp 00000000 fd:01 1234    /usr/local/bin/dpvs\n"
        f"7f0000000000-7f0000200000 rw-s 00000000 00:2f 55     {mnt2m}/rtemap_1\n"
        "7ffd0000-7ffd1000 rw-p 00000000 00:00 0      [stack]\n",
    )
    _write(os.path.join(proc, "101", "comm"), "dpdk-pdump\n")
    _write(os.path.join(proc, "101", "maps"), "")
    os.makedirs(os.path.join(proc, "101", "fd"))
    os.symlink(os.path.join(mnt2m, "rtemap_2"), os.path.join(proc, "101", "fd", "7"))
    os.symlink("/dev/null", os.path.join(proc, "101", "fd", "0"))
    os.makedirs(os.path.join(proc, "102"))  # a process that ended while we read
    return proc, mnt2m, mnt1g


def test_mounts_and_names(tmp_path):
    proc, mnt2m, mnt1g = make_tree(tmp_path)
    assert H.hugetlbfs_mounts(proc) == [mnt2m, mnt1g]
    assert [os.path.basename(p) for p in H.map_files(mnt2m, "rte")] == [
        "rtemap_0",
        "rtemap_1",
        "rtemap_2",
        "rtemap_3",
        "rtemap_10",
    ]
    assert [os.path.basename(p) for p in H.map_files(mnt2m, "dpvs")] == ["dpvsmap_0"]
    assert H.map_files(os.path.join(str(tmp_path), "nowhere"), "rte") == []
    assert H.is_map_file("rtemap_7", "rte") and not H.is_map_file("rtemap_", "rte")
    assert not H.is_map_file("rtemap_map_0", "rte")  # prefix "rtemap_": another prefix's file
    files = H.map_files(mnt2m, "rte")
    assert H.users(files, proc) == {
        f"{mnt2m}/rtemap_1": ["100 (dpvs)"],
        f"{mnt2m}/rtemap_2": ["101 (dpdk-pdump)"],
    }


def test_without_clean_nothing_is_removed(tmp_path):
    proc, mnt2m, _mnt1g = make_tree(tmp_path)
    before = sorted(os.listdir(mnt2m))
    out = io.StringIO()
    assert H.main(["--proc", proc], out=out) == 0
    assert sorted(os.listdir(mnt2m)) == before
    text = out.getvalue()
    assert f"{mnt2m}: unused (--clean removes them) 3 rtemap_* file(s) (rtemap_0 .. rtemap_10), 6 MiB" in text
    assert f"{mnt2m}/rtemap_1: kept, in use by 100 (dpvs)" in text
    assert f"{mnt2m}/rtemap_2: kept, in use by 101 (dpdk-pdump)" in text


def test_clean_removes_only_the_prefix_s_unused_files_in_every_mount(tmp_path):
    proc, mnt2m, mnt1g = make_tree(tmp_path)
    out = io.StringIO()
    assert H.main(["--proc", proc, "--prefix", "rte", "--clean"], out=out) == 0
    assert sorted(os.listdir(mnt2m)) == ["dpvsmap_0", "rte_config", "rtemap_1", "rtemap_2", "rtemap_x", "xrtemap_0"]
    assert os.listdir(mnt1g) == []
    text = out.getvalue()
    assert f"{mnt2m}: removed 3 rtemap_* file(s) (rtemap_0 .. rtemap_10), 6 MiB" in text
    assert f"{mnt1g}: removed 1 rtemap_* file(s) (rtemap_0), 1024 MiB" in text
    assert "kept, in use by 100 (dpvs)" in text
    # again: what is left is in use or another prefix's
    out = io.StringIO()
    assert H.main(["--proc", proc, "--clean"], out=out) == 0
    assert f"{mnt1g}: no rtemap_* files" in out.getvalue()
    assert "removed" not in out.getvalue()
    # the other prefix
    out = io.StringIO()
    assert H.main(["--proc", proc, "--prefix", "dpvs", "--clean"], out=out) == 0
    assert f"{mnt2m}: removed 1 dpvsmap_* file(s) (dpvsmap_0), 2 MiB" in out.getvalue()
    assert "rtemap_1" in os.listdir(mnt2m)


def test_a_file_a_dpdk_process_holds_locked_is_kept(tmp_path):
    """DPDK holds a shared flock on each of its hugepage files: a process we cannot see in /proc
    (another pid namespace) is still respected."""
    proc, mnt2m, _mnt1g = make_tree(tmp_path)
    path = os.path.join(mnt2m, "rtemap_3")
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        result = H.clean_mount(mnt2m, "rte", proc, remove=True)
        assert (path, "locked by a DPDK process") in result.kept
        assert os.path.exists(path)
    finally:
        os.close(fd)
    assert sorted(os.path.basename(p) for p, _size in result.removed) == ["rtemap_0", "rtemap_10"]


def test_a_held_directory_lock_leaves_the_mount_alone(tmp_path):
    """A starting DPDK holds the mount's directory lock while it sets its files up."""
    proc, mnt2m, _mnt1g = make_tree(tmp_path)
    fd = os.open(mnt2m, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        result = H.clean_mount(mnt2m, "rte", proc, remove=True, lock_timeout=0.3)
    finally:
        os.close(fd)
    assert result.removed == [] and "rtemap_0" in os.listdir(mnt2m)
    assert result.failed == [(mnt2m, "its directory lock is held (a DPDK process is starting) for 0.3s")]


def test_a_file_that_cannot_be_removed_is_1(tmp_path, monkeypatch):
    proc, mnt2m, _mnt1g = make_tree(tmp_path)

    def refuse(path):
        raise PermissionError(1, "Operation not permitted", path)

    monkeypatch.setattr(H.os, "unlink", refuse)
    out = io.StringIO()
    assert H.main(["--proc", proc, "--clean"], out=out) == 1
    assert f"{mnt2m}/rtemap_0: not removed: Operation not permitted" in out.getvalue()


def test_no_mount_no_proc_and_bad_prefixes(tmp_path, capsys):
    proc = os.path.join(str(tmp_path), "proc")
    _write(os.path.join(proc, "mounts"), "proc /proc proc rw 0 0\n")
    out = io.StringIO()
    assert H.main(["--proc", proc, "--clean"], out=out) == 0
    assert out.getvalue() == f"dpvs-cluster hugepage-files: no hugetlbfs mount in {proc}/mounts\n"
    out = io.StringIO()
    assert H.main(["--proc", os.path.join(str(tmp_path), "none")], out=out) == 1
    assert "No such file or directory" in out.getvalue()
    for prefix in ("", "a/b", ".."):
        with pytest.raises(SystemExit) as exc:
            H.main(["--proc", proc, "--prefix", prefix])
        assert exc.value.code == 2
    assert "a DPDK file prefix is a non-empty file name" in capsys.readouterr().err


def test_the_command_runs_from_the_zip(tmp_path):
    proc, mnt2m, _mnt1g = make_tree(tmp_path / "tree")
    pyz = build_tool(tmp_path)
    run = run_tool(pyz, "hugepage-files", "--proc", proc, "--clean", cwd=str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert f"{mnt2m}: removed 3 rtemap_* file(s)" in run.stdout
    assert sorted(os.listdir(mnt2m))[:3] == ["dpvsmap_0", "rte_config", "rtemap_1"]
