"""The dpvs.cluster VM lab: Debian 12 VMs under qemu for the collection's kernel-level tests.

Run it with the collection's Python (make lab-up, lab-down, lab-ssh call it):

    lab.py setup                  install qemu-system-x86, qemu-utils, mmdebstrap (apt-get, as root)
    lab.py image [--force] [--accel]  build the VM image, or reuse the one cached for this recipe;
                                  --accel then picks the accelerator (the KVM probe, cached)
    lab.py up [VM ...]            start VMs of the lab inventory (all by default), wait for their sshd
    lab.py down [VM ...]          stop VMs (all that run by default) and drop their disks
    lab.py status [--json]        which VMs run, their SSH ports, the accelerator
    lab.py ssh VM [COMMAND ...]   ssh into a VM as root with the lab key

The VMs are the hosts of the lab inventory (DPVS_LAB_INVENTORY, default inventories/lab) whose
host_vars file has a ``lab_vm`` mapping; docs/lab.md describes it. Big files live in DPVS_LAB_DIR
(default /var/cache/dpvs-lab), never in the repository:

    ssh/id_ed25519             the lab's SSH key (baked into the image as root's authorized key)
    images/<recipe hash>/      image.raw (ext4), grub.img (the VMs' boot loader), recipe.txt, build.log
    run/<vm>/                  disk.qcow2 (overlay on image.raw), pid, console.log, monitor.sock
    run/links/                 the unix datagram sockets of the L2 links

Other settings: DPVS_LAB_ACCEL (auto | tcg | kvm; auto boots a KVM probe VM once per image and
host kernel and uses KVM only if it reaches sshd), DPVS_LAB_MIRROR (Debian mirror),
DPVS_LAB_BOOT_TIMEOUT (seconds one boot may take to reach sshd, default 300), DPVS_LAB_BOOT_ATTEMPTS
(boots per VM before up fails, default 2), DPVS_LAB_KVM_PROBE_TIMEOUT (default 30).
"""

import argparse
import contextlib
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# The image recipe: the hash of these values and of the files below names the cached image.
SUITE = "bookworm"
IMAGE_SIZE = "6G"
RECIPE_FILES = ("packages.txt", "customize.sh", "lab_pyc_cache.py")
RECIPE_VERSION = 2  # bump to force a rebuild when the build steps themselves change

APT_PACKAGES = ("qemu-system-x86", "qemu-utils", "mmdebstrap", "openssh-client", "e2fsprogs")
NIC_MODELS = {"virtio": "virtio-net-pci", "e1000e": "e1000e", "vmxnet3": "vmxnet3"}
MGMT_SLOT = 3  # the management NIC is 0000:00:03.0 on every VM (enp0s3 on q35, ens3 on pc)
DISK_SLOT = 2
POLL_SECONDS = 1.0  # how often `up` looks for the VMs' sshd banners
PXB_FIRST_SLOT = 0x10  # expander bridges (one per NUMA-placed NIC) take slots 0x10, 0x11, ...

# 0000:00:04.0
PCI_RE = re.compile(r"^0000:([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$")
# 52:54:00:00:01:02
MAC_RE = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
SSH_OPTIONS = (
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR",
    "-o", "BatchMode=yes",
)  # fmt: skip


class LabError(Exception):
    """A failure the user can act on: printed without a traceback."""


def log(message):
    sys.stderr.write(f"lab: {message}\n")
    sys.stderr.flush()


def lab_dir():
    return os.environ.get("DPVS_LAB_DIR") or "/var/cache/dpvs-lab"


def paths():
    base = lab_dir()
    return {
        "base": base,
        "key": os.path.join(base, "ssh", "id_ed25519"),
        "images": os.path.join(base, "images"),
        "run": os.path.join(base, "run"),
        "links": os.path.join(base, "run", "links"),
    }


def run(argv, **kwargs):
    """Run a command, raise LabError with its output when it fails."""
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    if proc.returncode != 0:
        raise LabError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


# ---------------------------------------------------------------------------------------------
# Topology: the lab inventory


def load_topology(inventory=None):
    """Return {vm name: lab_vm mapping plus ``ssh_port``}, validated, from the lab inventory."""
    inventory = inventory or os.environ.get("DPVS_LAB_INVENTORY") or os.path.join(REPO, "inventories", "lab")
    host_vars = os.path.join(inventory, "host_vars")
    if not os.path.isdir(host_vars):
        raise LabError(f"{host_vars}: no such directory (set DPVS_LAB_INVENTORY)")
    vms = {}
    for entry in sorted(os.listdir(host_vars)):
        name, ext = os.path.splitext(entry)
        if ext not in (".yml", ".yaml"):
            continue
        with open(os.path.join(host_vars, entry), encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        if "lab_vm" in data:
            vm = dict(data["lab_vm"])
            vm["ssh_port"] = data.get("ansible_port")
            vms[name] = vm
    if not vms:
        raise LabError(f"{host_vars}: no host has lab_vm")
    validate_topology(vms)
    return vms


def _check(condition, where, problem):
    if not condition:
        raise LabError(f"{where}: {problem}")


def validate_topology(vms):
    """Reject a topology qemu would refuse or that would not give the documented guest view."""
    ports, macs, ends = {}, {}, {}
    for name, vm in sorted(vms.items()):
        where = f"host_vars/{name}.yml lab_vm"
        _check(vm.get("machine") in ("q35", "pc"), f"{where}.machine", "must be q35 or pc")
        _check(isinstance(vm.get("ssh_port"), int), f"host_vars/{name}.yml ansible_port", "must be an integer")
        _check(
            vm["ssh_port"] not in ports,
            f"host_vars/{name}.yml ansible_port",
            f"also used by {ports.get(vm['ssh_port'])}",
        )
        ports[vm["ssh_port"]] = name
        cpus, memory, nodes = vm.get("cpus", 1), vm.get("memory_mb", 1024), vm.get("numa_nodes", 1)
        for key, value in (("cpus", cpus), ("memory_mb", memory), ("numa_nodes", nodes)):
            _check(isinstance(value, int) and value >= 1, f"{where}.{key}", "must be an integer >= 1")
        _check(cpus % nodes == 0, f"{where}.cpus", f"{cpus} CPUs do not split evenly over {nodes} NUMA nodes")
        _check(memory % nodes == 0, f"{where}.memory_mb", f"{memory} MiB does not split evenly over {nodes} NUMA nodes")
        _check(not vm.get("iommu") or vm["machine"] == "q35", f"{where}.iommu", "the emulated IOMMU needs machine q35")
        _check(
            isinstance(vm.get("mgmt_mac"), str) and MAC_RE.match(vm["mgmt_mac"]), f"{where}.mgmt_mac", "must be a MAC"
        )
        macs[vm["mgmt_mac"]] = name
        slots = {DISK_SLOT, MGMT_SLOT}
        for index, nic in enumerate(vm.get("nics") or []):
            nwhere = f"{where}.nics[{index}]"
            _check(nic.get("model") in NIC_MODELS, f"{nwhere}.model", f"must be one of {', '.join(NIC_MODELS)}")
            mac = nic.get("mac")
            _check(isinstance(mac, str) and MAC_RE.match(mac), f"{nwhere}.mac", "must be a lower-case MAC")
            _check(mac not in macs, f"{nwhere}.mac", f"{mac} also used by {macs.get(mac)}")
            macs[mac] = name
            match = PCI_RE.match(str(nic.get("pci")))
            _check(match, f"{nwhere}.pci", "must look like 0000:00:04.0")
            bus, slot, function = (int(part, 16) for part in match.groups())
            node = nic.get("numa_node")
            if node is None:
                _check(
                    bus == 0 and function == 0, f"{nwhere}.pci", "without numa_node a NIC sits on bus 00, function 0"
                )
                _check(slot not in slots and 4 <= slot < PXB_FIRST_SLOT, f"{nwhere}.pci", "slot taken or outside 04-0f")
                slots.add(slot)
            else:
                _check(vm["machine"] == "q35", f"{nwhere}.numa_node", "NUMA-placed NICs need machine q35 (pxb-pcie)")
                _check(isinstance(node, int) and 0 <= node < nodes, f"{nwhere}.numa_node", f"must be 0..{nodes - 1}")
                _check(
                    bus >= 2 and slot == 0 and function == 0,
                    f"{nwhere}.pci",
                    "a NUMA-placed NIC is 0000:BB:00.0, BB >= 02",
                )
            _check(
                isinstance(nic.get("link"), str) and re.match(r"^[a-z0-9-]+$", nic["link"]),
                f"{nwhere}.link",
                "must be a name",
            )
            ends.setdefault(nic["link"], []).append(f"{name}.nics[{index}]")
    for link, members in sorted(ends.items()):
        _check(len(members) == 2, f"link {link}", f"joins exactly two NICs, not {members}")


# ---------------------------------------------------------------------------------------------
# Setup and image


def cmd_setup(_args):
    missing = [
        pkg for pkg in APT_PACKAGES if subprocess.run(["dpkg", "-s", pkg], capture_output=True, check=False).returncode
    ]
    if not missing:
        log("setup: all present")
        return 0
    if os.geteuid() != 0:
        raise LabError(f"setup: missing {' '.join(missing)}; run as root or install them")
    log(f"setup: installing {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", *missing], env=env)
    return 0


def ensure_key():
    key = paths()["key"]
    if not os.path.exists(key):
        os.makedirs(os.path.dirname(key), mode=0o700, exist_ok=True)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "dpvs-lab", "-f", key])
    with open(key + ".pub", encoding="utf-8") as handle:
        return handle.read().strip()


def mirror():
    return os.environ.get("DPVS_LAB_MIRROR") or "http://deb.debian.org/debian"


def packages():
    with open(os.path.join(HERE, "packages.txt"), encoding="utf-8") as handle:
        return [line.split("#")[0].strip() for line in handle if line.split("#")[0].strip()]


def recipe_text(pubkey):
    """Everything that decides the image's content, as text (hashed to name the cache entry)."""
    parts = [f"version={RECIPE_VERSION}", f"suite={SUITE}", f"size={IMAGE_SIZE}", f"mirror={mirror()}", f"key={pubkey}"]
    for name in RECIPE_FILES:
        with open(os.path.join(HERE, name), encoding="utf-8") as handle:
            parts.append(f"--- {name}\n{handle.read()}")
    return "\n".join(parts) + "\n"


def image_dir(pubkey=None):
    pubkey = pubkey or ensure_key()
    digest = hashlib.sha256(recipe_text(pubkey).encode()).hexdigest()[:16]
    return os.path.join(paths()["images"], digest)


def cmd_image(args):
    build_image(args.force)
    if getattr(args, "accel", False):  # the KVM probe now, so that `up` finds its answer cached
        log(f"image: accelerator {choose_accel(image_dir())}")
    return 0


def build_image(force):
    start = time.monotonic()
    pubkey = ensure_key()
    target = image_dir(pubkey)
    if os.path.exists(os.path.join(target, "image.raw")) and not force:
        log(f"image: cached {target}")
        return
    for tool in ("mmdebstrap", "mkfs.ext4", "qemu-img"):
        if not shutil.which(tool):
            raise LabError(f"image: {tool} not found (make lab-setup)")
    if os.geteuid() != 0:
        raise LabError("image: mmdebstrap --mode=root needs root")
    tmp = target + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    rootfs = os.path.join(tmp, "rootfs")
    os.makedirs(tmp)
    with open(os.path.join(tmp, "recipe.txt"), "w", encoding="utf-8") as handle:
        handle.write(recipe_text(pubkey))
    argv = [
        "mmdebstrap", "--mode=root", "--variant=apt", "--format=directory",
        "--aptopt=APT::Install-Recommends \"false\"",
        "--include=" + ",".join(packages()),
        "--customize-hook=" + os.path.join(HERE, "customize.sh") + ' "$1"',
        SUITE, rootfs, mirror(),
    ]  # fmt: skip
    log(f"image: mmdebstrap {SUITE} with {len(packages())} packages into {rootfs}")
    with open(os.path.join(tmp, "build.log"), "w", encoding="utf-8") as build_log:
        proc = subprocess.run(
            argv,
            stdout=build_log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, LAB_AUTHORIZED_KEYS=pubkey, LAB_MIRROR=mirror()),
            check=False,
        )
    if proc.returncode != 0:
        raise LabError(f"image: mmdebstrap failed ({proc.returncode}), see {tmp}/build.log")
    log(f"image: rootfs ready after {time.monotonic() - start:.0f} s")
    # GRUB as qemu loads it (-kernel): it boots the kernel that the VM's own /boot/grub/grub.cfg names.
    shutil.copyfile(os.path.join(rootfs, "boot", "grub", "lab-grub.img"), os.path.join(tmp, "grub.img"))
    raw = os.path.join(tmp, "image.raw")
    run(["truncate", "-s", IMAGE_SIZE, raw])
    run(["mkfs.ext4", "-q", "-F", "-L", "root", "-d", rootfs, raw])
    shutil.rmtree(rootfs)
    shutil.rmtree(target, ignore_errors=True)
    os.rename(tmp, target)
    # One image at a time: drop the ones older recipes left behind.
    for entry in os.listdir(paths()["images"]):
        old = os.path.join(paths()["images"], entry)
        if old != target and os.path.isdir(old):
            shutil.rmtree(old, ignore_errors=True)
    log(f"image: built {target} in {time.monotonic() - start:.0f} s")


# ---------------------------------------------------------------------------------------------
# Starting and stopping VMs


def vm_paths(name):
    base = os.path.join(paths()["run"], name)
    return {
        "dir": base,
        "disk": os.path.join(base, "disk.qcow2"),
        "pid": os.path.join(base, "pid"),
        "console": os.path.join(base, "console.log"),
        "monitor": os.path.join(base, "monitor.sock"),
        "info": os.path.join(base, "info.json"),
    }


def link_socket(link, vm):
    return os.path.join(paths()["links"], f"{link}-{vm}.sock")


def link_peers(vms):
    """{(vm, link): peer vm} for every L2 link."""
    ends = {}
    for name, vm in vms.items():
        for nic in vm.get("nics") or []:
            ends.setdefault(nic["link"], []).append(name)
    peers = {}
    for link, (first, second) in ends.items():
        peers[(first, link)] = second
        peers[(second, link)] = first
    return peers


def vm_kernel_args(name, vm):
    """The kernel arguments that make one VM differ from another (lab_vm), for GRUB's $lab_vm_cmdline.

    The shared ones (root=, console=ttyS0, mitigations=off, quiet) are in the image's
    /etc/default/grub, where the VM can change them with update-grub like any server.
    """
    args = [f"systemd.hostname={name}"]
    if vm.get("iommu"):
        args.append("intel_iommu=on")
    return " ".join(args)


def cpu_accel_args(accel):
    if accel == "kvm":
        return ["-accel", "kvm", "-cpu", "host"]
    return ["-accel", "tcg,thread=multi", "-cpu", "max"]


def qemu_argv(name, vm, image, accel, peers):
    """The qemu command line of one VM (see docs/lab.md for the guest's view of it)."""
    vp = vm_paths(name)
    cpus, memory, nodes = vm.get("cpus", 1), vm.get("memory_mb", 1024), vm.get("numa_nodes", 1)
    argv = ["qemu-system-x86_64", "-name", f"{name},process=dpvs-lab-{name}", "-nodefaults", "-machine", vm["machine"]]
    argv += cpu_accel_args(accel)
    argv += ["-m", str(memory), "-smp", f"{cpus},sockets={nodes},cores={cpus // nodes},threads=1"]
    if nodes > 1:
        per_cpu = cpus // nodes
        for node in range(nodes):
            first, last = node * per_cpu, (node + 1) * per_cpu - 1
            argv += ["-object", f"memory-backend-ram,id=mem{node},size={memory // nodes}M"]
            argv += ["-numa", f"node,nodeid={node},cpus={first}-{last},memdev=mem{node}"]
    if vm.get("iommu"):
        argv += ["-device", "intel-iommu"]  # before the PCI devices it translates for
    # qemu loads GRUB, which boots what the disk's /boot/grub/grub.cfg says (again after a guest
    # reboot: no -no-reboot); GRUB reads the per-VM arguments from this SMBIOS OEM string (type 11).
    argv += ["-kernel", os.path.join(image, "grub.img")]
    argv += ["-smbios", "type=11,value=" + vm_kernel_args(name, vm).replace(",", ",,")]
    argv += ["-drive", f"file={vp['disk']},if=none,id=root,format=qcow2,cache=unsafe"]
    root_bus = "pcie.0" if vm["machine"] == "q35" else "pci.0"  # explicit: qemu would pick an expander bus
    argv += ["-device", f"virtio-blk-pci,drive=root,bus={root_bus},addr={DISK_SLOT:#x}"]
    argv += ["-netdev", f"user,id=mgmt,hostfwd=tcp:127.0.0.1:{vm['ssh_port']}-:22"]
    argv += ["-device", f"virtio-net-pci,netdev=mgmt,bus={root_bus},addr={MGMT_SLOT:#x},mac={vm['mgmt_mac']}"]
    pxb_slot = PXB_FIRST_SLOT
    for index, nic in enumerate(vm.get("nics") or []):
        netdev = f"nic{index}"
        peer = peers[(name, nic["link"])]
        argv += [
            "-netdev",
            f"dgram,id={netdev},local.type=unix,local.path={link_socket(nic['link'], name)},"
            f"remote.type=unix,remote.path={link_socket(nic['link'], peer)}",
        ]
        device = f"{NIC_MODELS[nic['model']]},netdev={netdev},mac={nic['mac']}"
        if nic["model"] == "virtio" and vm.get("iommu"):
            # Modern virtio with DMA through the IOMMU, or vfio-pci would hand the NIC addresses
            # the device cannot translate.
            device += ",disable-legacy=on,iommu_platform=on"
        bus, slot, _function = (int(part, 16) for part in PCI_RE.match(nic["pci"]).groups())
        if nic.get("numa_node") is None:
            argv += ["-device", f"{device},bus={root_bus},addr={slot:#x}"]
        else:
            # A PCIe expander bridge on the NIC's NUMA node: root bus BB-1, root port BB-1:00.0,
            # the NIC behind it at BB:00.0.
            argv += [
                "-device",
                f"pxb-pcie,id=pxb{index},bus_nr={bus - 1},numa_node={nic['numa_node']},bus=pcie.0,addr={pxb_slot:#x}",
            ]
            argv += ["-device", f"pcie-root-port,id=rp{index},bus=pxb{index},chassis={index + 1},addr=0x0"]
            argv += ["-device", f"{device},bus=rp{index},addr=0x0"]
            pxb_slot += 1
    argv += ["-display", "none", "-serial", f"file:{vp['console']}"]
    argv += ["-monitor", f"unix:{vp['monitor']},server=on,wait=off"]
    argv += ["-daemonize", "-pidfile", vp["pid"]]
    return argv


def read_pid(name):
    """The pid of the VM's qemu if it still runs, else None (a stale pid file is not trusted)."""
    try:
        with open(vm_paths(name)["pid"], encoding="ascii") as handle:
            pid = int(handle.read().strip())
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmdline = handle.read().split(b"\0")
    except (OSError, ValueError):
        return None
    if (
        cmdline
        and os.path.basename(cmdline[0]).startswith(b"qemu-system")
        and f"{name},process=dpvs-lab-{name}".encode() in cmdline
    ):
        return pid
    return None


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # as qemu's forward does: connections of a VM just stopped (TIME_WAIT) do not hold the port
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def ssh_banner(port, timeout=5.0):
    """True when something on 127.0.0.1:port speaks SSH (qemu's forward accepts before the guest does)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            return sock.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def console_tail(name, lines=15):
    try:
        with open(vm_paths(name)["console"], encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return "(no console log)"


def boot_settings():
    """(seconds one boot may take, boots per VM): a boot that outlives the first is started again."""
    attempt = float(os.environ.get("DPVS_LAB_BOOT_TIMEOUT", "300"))
    attempts = int(os.environ.get("DPVS_LAB_BOOT_ATTEMPTS", "2"))
    if attempt <= 0 or attempts < 1:
        raise LabError(f"DPVS_LAB_BOOT_TIMEOUT={attempt:g} / DPVS_LAB_BOOT_ATTEMPTS={attempts}: must be > 0 and >= 1")
    return attempt, attempts


def save_failed_console(name, attempt):
    """Keep the console of a boot that never reached sshd (run/<vm>-boot-<n>.log) before the restart drops it."""
    kept = os.path.join(paths()["run"], f"{name}-boot-{attempt}.log")
    with contextlib.suppress(OSError):
        shutil.copyfile(vm_paths(name)["console"], kept)
    return kept


def boot_again(name, boot, restart, settings):
    """A VM past one boot's time: keep its console, start it again, or fail when it may not be."""
    attempt_timeout, attempts = settings
    tail = console_tail(name)
    kept = save_failed_console(name, boot["boot"])
    if boot["boot"] >= attempts or not restart(name):
        raise LabError(
            f"up: no sshd on {name} after {boot['boot']} boot(s) of {attempt_timeout:g} s "
            f"(console kept in {kept}):\n{tail}"
        )
    log(f"up: {name}: no sshd after {attempt_timeout:g} s, started it again (console kept in {kept}):\n{tail}")
    boot.update(since=time.monotonic(), boot=boot["boot"] + 1)


def wait_for_ssh(names, ports, restart, settings):
    """Wait until every VM's sshd sends its banner; return {name: seconds since the wait began}.

    A VM whose sshd does not answer within one boot's time is stopped and started again with a
    fresh disk (restart(name)), up to the number of boots allowed: a guest that hangs early in boot
    under qemu's emulation is rare, but it used to cost a whole CI run.
    """
    start = time.monotonic()
    pending = {name: {"since": start, "boot": 1} for name in names}
    ready = {}
    while pending:
        for name, boot in list(pending.items()):
            if read_pid(name) is None:
                raise LabError(f"{name}: qemu exited while booting; console:\n{console_tail(name)}")
            if ssh_banner(ports[name]):
                ready[name] = time.monotonic() - start
                del pending[name]
                log(
                    f"up: {name} sshd answers on 127.0.0.1:{ports[name]} after {ready[name]:.0f} s, boot {boot['boot']}"
                )
            elif time.monotonic() - boot["since"] > settings[0]:
                boot_again(name, boot, restart, settings)
        if pending:
            time.sleep(POLL_SECONDS)
    return ready


def start_vm(name, vm, image, accel, peers):
    vp = vm_paths(name)
    shutil.rmtree(vp["dir"], ignore_errors=True)
    os.makedirs(vp["dir"])
    os.makedirs(paths()["links"], exist_ok=True)
    for nic in vm.get("nics") or []:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(link_socket(nic["link"], name))
    run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", os.path.join(image, "image.raw"), "-F", "raw", vp["disk"]])
    argv = qemu_argv(name, vm, image, accel, peers)
    with open(vp["info"], "w", encoding="utf-8") as handle:
        json.dump(
            {"name": name, "port": vm["ssh_port"], "accel": accel, "image": image, "argv": argv}, handle, indent=1
        )
    run(argv)


def stop_vm(name, timeout=15):
    """Stop one VM's qemu (SIGTERM, then SIGKILL) and remove its run directory."""
    pid = read_pid(name)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while read_pid(name) is not None and time.monotonic() < deadline:
            time.sleep(0.2)
        if read_pid(name) is not None:
            os.kill(pid, signal.SIGKILL)
            while read_pid(name) is not None:
                time.sleep(0.2)
        log(f"down: {name} stopped (pid {pid})")
    shutil.rmtree(vm_paths(name)["dir"], ignore_errors=True)
    links = paths()["links"]
    if os.path.isdir(links):
        for entry in os.listdir(links):
            if entry.endswith(f"-{name}.sock"):
                os.unlink(os.path.join(links, entry))


def probe_kvm(image):
    """Boot a throwaway VM with KVM; True only if its sshd answers within the probe timeout."""
    timeout = float(os.environ.get("DPVS_LAB_KVM_PROBE_TIMEOUT", "30"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    name = "kvm-probe"
    vm = {"machine": "pc", "cpus": 1, "memory_mb": 512, "ssh_port": port, "mgmt_mac": "52:54:00:00:ff:01", "nics": []}
    start = time.monotonic()
    try:
        start_vm(name, vm, image, "kvm", {})
    except LabError as exc:
        log(f"kvm probe: qemu refused KVM: {exc}")
        stop_vm(name)
        return False
    try:
        while time.monotonic() - start < timeout:
            if read_pid(name) is None:
                log(f"kvm probe: qemu exited; console:\n{console_tail(name, 5)}")
                return False
            if ssh_banner(port, timeout=2):
                log(f"kvm probe: sshd answered after {time.monotonic() - start:.0f} s: using KVM")
                return True
            time.sleep(1)
        log(f"kvm probe: no sshd after {timeout:.0f} s (a KVM that cannot boot Debian's kernel): using TCG")
        return False
    finally:
        stop_vm(name)


def choose_accel(image):
    wanted = os.environ.get("DPVS_LAB_ACCEL", "auto")
    if wanted in ("tcg", "kvm"):
        return wanted
    if wanted != "auto":
        raise LabError(f"DPVS_LAB_ACCEL={wanted}: must be auto, tcg or kvm")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    qemu = run(["qemu-system-x86_64", "--version"]).splitlines()[0]
    key = hashlib.sha256(f"{os.path.basename(image)} {os.uname().release} {qemu}".encode()).hexdigest()[:16]
    cache = os.path.join(paths()["base"], f"accel-{key}")
    if os.path.exists(cache):
        with open(cache, encoding="ascii") as handle:
            return handle.read().strip()
    accel = "kvm" if probe_kvm(image) else "tcg"
    with open(cache, "w", encoding="ascii") as handle:
        handle.write(accel + "\n")
    return accel


def selected(vms, names):
    unknown = sorted(set(names) - set(vms))
    if unknown:
        raise LabError(f"unknown VM(s) {', '.join(unknown)}; the lab has {', '.join(sorted(vms))}")
    return list(names) or sorted(vms)


def cmd_up(args):
    start = time.monotonic()
    settings = boot_settings()
    vms = load_topology()
    names = selected(vms, args.vms)
    build_image(force=False)
    image = image_dir()
    accel = choose_accel(image)
    peers = link_peers(vms)
    to_start = []
    for name in names:
        if read_pid(name) is not None:
            log(f"up: {name} already runs (make lab-down first for a fresh disk)")
        elif not port_free(vms[name]["ssh_port"]):  # checked for all before any VM starts
            raise LabError(f"{name}: 127.0.0.1:{vms[name]['ssh_port']} is taken by another process")
        else:
            to_start.append(name)
    started = []
    for name in to_start:
        for stale in glob.glob(os.path.join(paths()["run"], f"{name}-boot-*.log")):
            os.unlink(stale)  # the consoles of an earlier `up`'s failed boots
        start_vm(name, vms[name], image, accel, peers)
        started.append(name)
    log(f"up: started {', '.join(started) or 'nothing'} with {accel}")

    def restart(name):
        """Start a VM of this call again; one that already ran before `up` is the user's, left alone."""
        if name not in started:
            return False
        stop_vm(name)
        start_vm(name, vms[name], image, accel, peers)
        return True

    wait_for_ssh(names, {name: vms[name]["ssh_port"] for name in names}, restart, settings)
    log(f"up: {len(names)} VM(s) answer SSH, {time.monotonic() - start:.0f} s in all")
    return 0


def running_vms():
    run_dir = paths()["run"]
    if not os.path.isdir(run_dir):
        return []
    return sorted(
        entry for entry in os.listdir(run_dir) if entry != "links" and os.path.isdir(os.path.join(run_dir, entry))
    )


def cmd_down(args):
    names = args.vms or running_vms()
    for name in names:
        stop_vm(name)
    return 0


def status():
    result = []
    for name in running_vms():
        try:
            with open(vm_paths(name)["info"], encoding="utf-8") as handle:
                info = json.load(handle)
        except (OSError, ValueError):
            info = {}
        result.append(
            {
                "name": name,
                "running": read_pid(name) is not None,
                "pid": read_pid(name),
                "port": info.get("port"),
                "accel": info.get("accel"),
                "identity_file": paths()["key"],
            }
        )
    return result


def cmd_status(args):
    rows = status()
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=1) + "\n")
        return 0
    for row in rows:
        state = f"running pid {row['pid']}" if row["running"] else "stopped"
        sys.stdout.write(f"{row['name']:10} {state:20} ssh 127.0.0.1:{row['port']} accel {row['accel']}\n")
    if not rows:
        sys.stdout.write("no lab VM\n")
    return 0


def cmd_ssh(args):
    vms = load_topology()
    selected(vms, [args.vm])
    argv = [
        "ssh",
        *SSH_OPTIONS,
        "-i",
        paths()["key"],
        "-p",
        str(vms[args.vm]["ssh_port"]),
        "root@127.0.0.1",
        *args.command,
    ]
    os.execvp("ssh", argv)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="lab.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup", help="install qemu and mmdebstrap").set_defaults(func=cmd_setup)
    image = sub.add_parser("image", help="build or reuse the VM image")
    image.add_argument("--force", action="store_true", help="rebuild even if cached")
    image.add_argument("--accel", action="store_true", help="then choose the accelerator (the KVM probe)")
    image.set_defaults(func=cmd_image)
    up = sub.add_parser("up", help="start VMs and wait for sshd")
    up.add_argument("vms", nargs="*")
    up.set_defaults(func=cmd_up)
    down = sub.add_parser("down", help="stop VMs")
    down.add_argument("vms", nargs="*")
    down.set_defaults(func=cmd_down)
    stat = sub.add_parser("status", help="list the lab VMs")
    stat.add_argument("--json", action="store_true")
    stat.set_defaults(func=cmd_status)
    ssh = sub.add_parser("ssh", help="ssh into a VM")
    ssh.add_argument("vm")
    ssh.add_argument("command", nargs=argparse.REMAINDER)
    ssh.set_defaults(func=cmd_ssh)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except LabError as exc:
        log(str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main())
