"""A stand-in for DPVS's source tree, for the dpvs role's source build and its patches.

DPVS's source cannot be downloaded here and is not copied into this repository. The stand-in has
the shape the role relies on: a top Makefile that includes config.mk (its ``export CONFIG_*``
lines reach the sub-makes) and loops over ``SUBDIRS = src tools``; src/Makefile adds its flags
with ``CFLAGS +=`` as DPVS's does and records the CFLAGS it compiled with; tools/Makefile records
the CFLAGS its environment carries (DPVS's keepalived configure would take them); ``make install
INSDIR=...``; ``bin/dpvs -v`` prints on stderr as v1.10.2 does. src/main.c holds only the context
lines of the shipped patch (roles/dpvs/files/patches/1.10.2/0001-...) and lines of its own.
"""

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PATCH_DIR = REPO / "roles" / "dpvs" / "files" / "patches"
RTE_SRAND_PATCH = PATCH_DIR / "1.10.2" / "0001-main-seed-rte_srand-after-rte_eal_init.patch"

RTE_SRAND = "    rte_srand((uint64_t)(tv.tv_sec ^ tv.tv_usec ^ getpid()));\n"

# The two hunks' context lines (DPVS v1.10.2 src/main.c around lines 312 and 329) and, between
# and around them, lines of this stand-in (never compiled).
MAIN_C = (
    "/* stand-in for DPVS's src/main.c: the patch's context lines, nothing else of DPVS */\n"
    "int main(int argc, char *argv[])\n"
    "{\n"
    "    struct timeval tv;\n"
    "    int err;\n"
    "\n"
    "    gettimeofday(&tv, NULL);\n"
    "    srandom(tv.tv_sec ^ tv.tv_usec ^ getpid());\n"
    "    srand48(tv.tv_sec ^ tv.tv_usec ^ getpid());\n" + RTE_SRAND + "    sys_start_time();\n"
    "\n"
    "    if (get_numa_nodes() > DPVS_MAX_SOCKET) {\n"
    "        return 1;\n"
    "    }\n"
    "\n"
    "    err = rte_eal_init(argc, argv);\n"
    "    if (err < 0)\n"
    '        rte_exit(EXIT_FAILURE, "Invalid EAL parameters\\n");\n'
    "\n"
    '    RTE_LOG(INFO, DPVS, "dpvs version: %s, build on %s\\n", DPVS_VERSION, DPVS_BUILD_DATE);\n'
    '    RTE_LOG(INFO, DPVS, "dpvs-conf-file: %s\\n", dpvs_conf_file);\n'
    '    RTE_LOG(INFO, DPVS, "dpvs-pid-file: %s\\n", dpvs_pid_file);\n'
    "    return 0;\n"
    "}\n"
)

# The same file where DPVS would have changed the line the patch removes: it must not apply.
MAIN_C_OTHER = MAIN_C.replace(RTE_SRAND, "    rte_srand(rte_rdtsc());\n")

TOP_MAKEFILE = """\
SUBDIRS = src tools
INSDIR  = $(PWD)/bin
export INSDIR
include $(CURDIR)/config.mk
all:
\tfor i in $(SUBDIRS); do $(MAKE) -C $$i || exit 1; done
install: all
\t-mkdir -p $(INSDIR)
\tfor i in $(SUBDIRS); do $(MAKE) -C $$i install || exit 1; done
"""

CONFIG_MK = "# configs\nexport CONFIG_DPVS_MAX_SOCKET=2\nexport CONFIG_DPVS_MAX_LCORE=64\nexport CONFIG_PDUMP=y\n"

SRC_MAKEFILE = """\
CFLAGS += -D DPVS_MAX_SOCKET=$(CONFIG_DPVS_MAX_SOCKET)
CFLAGS += -Wall -Werror
all: dpvs
dpvs: main.c
\tprintf '#!/bin/sh\\necho "dpvs version: 1.10-2, build on stand-in" >&2\\n' > dpvs
\techo "$(CFLAGS)" > cflags
\techo "$(CONFIG_DPVS_MAX_SOCKET) $$PKG_CONFIG_PATH" > built-with
install:
\tinstall -m 0755 dpvs $(INSDIR)/
\tcp cflags built-with $(INSDIR)/
"""

TOOLS_MAKEFILE = """\
all:
\tfor t in dpip ipvsadm keepalived; do printf '#!/bin/sh\\n' > $$t; done
\techo "$$CFLAGS" > cflags-env
install:
\tinstall -m 0755 dpip ipvsadm keepalived $(INSDIR)/
\tcp cflags-env $(INSDIR)/tools-cflags-env
"""

# A src/Makefile that fails as gcc does, between many lines of noise.
FAILING_SRC_MAKEFILE = """\
all:
\t@for i in $$(seq 1 60); do echo "  noise $$i.o"; done
\t@echo "In file included from src/ipvs/ip_vs_synproxy.c:20:"
\t@echo "In function 'rte_mov15_or_less',"
\t@echo "    inlined from 'syn_proxy_cookie' at src/ipvs/ip_vs_synproxy.c:216:5:"
\t@echo "src/ipvs/ip_vs_synproxy.c:216:5: error: 'MD5' is deprecated: Since OpenSSL 3.0 [-Werror=deprecated-...]"
\t@for i in $$(seq 1 60); do echo "  more $$i.o"; done
\t@echo "src/ipvs/ip_vs_synproxy.c:293:5: error: 'MD5' is deprecated: the second error"
\t@echo "the last line of the stand-in's output"
\t@exit 2
"""


def write_tree(root, main_c=MAIN_C, src_makefile=SRC_MAKEFILE):
    """The stand-in tree in ``root`` (created)."""
    root = Path(root)
    (root / "src").mkdir(parents=True)
    (root / "tools").mkdir()
    (root / "Makefile").write_text(TOP_MAKEFILE)
    (root / "config.mk").write_text(CONFIG_MK)
    (root / "src" / "Makefile").write_text(src_makefile)
    (root / "src" / "main.c").write_text(main_c)
    (root / "tools" / "Makefile").write_text(TOOLS_MAKEFILE)
    return root


def tarball(tmp_path, name="dpvs-1.10.2", **tree):
    """The stand-in tree packed as DPVS's release tarballs are (one top directory)."""
    write_tree(Path(tmp_path) / name, **tree)
    out = Path(tmp_path) / f"{name}.tar.gz"
    subprocess.run(["tar", "-C", str(tmp_path), "-czf", str(out), name], check=True)
    return out


def srand_after_eal_init(text):
    """Whether the one rte_srand() call of ``text`` comes after the rte_eal_init() call (comment
    lines do not count)."""
    lines = [line for line in text.splitlines() if not line.strip().startswith(("/*", "*", "//"))]
    srand = [i for i, line in enumerate(lines) if "rte_srand(" in line]
    eal = [i for i, line in enumerate(lines) if "rte_eal_init(" in line]
    return len(srand) == 1 and len(eal) == 1 and srand[0] > eal[0]
