#!/bin/sh
# DPVS's make and make install, run by the dpvs role (tasks/build.yml: async, under nice) with its
# inputs as arguments, never as shell text:
#   build.sh SOURCE_DIR INSTALL_BIN_DIR JOBS [CFLAG ...]
# PKG_CONFIG_PATH comes from the environment; everything goes to build.log next to this script.
#
# The CFLAGs are extra compiler flags for DPVS itself (src/). src/Makefile adds its own flags to
# CFLAGS with `CFLAGS += ...`, which appends to a CFLAGS taken from the environment, so these
# come first and DPVS's (-Wall -Werror ... -O3) follow: a -Wno-error=X still holds after -Werror,
# a flag DPVS sets itself (-O3) wins over one given here. A CFLAGS=... on make's command line
# would instead replace every CFLAGS += of DPVS's Makefiles. The tools are built by a second make
# without them: tools/keepalived's configure would take an environment CFLAGS instead of its
# default -g -O2 (dpip's and ipvsadm's Makefiles set CFLAGS with = and ignore it anyway).
set -eu
src=$1
insdir=$2
jobs=$3
shift 3
cd "$(dirname "$0")"
exec > build.log 2>&1
# nothing inherited from a make that runs Ansible (its job server, -w/-s flags)
unset CFLAGS MAKEFLAGS MFLAGS MAKELEVEL
echo "dpvs-build: source $src, install into $insdir, make -j $jobs, CFLAGS for src/: $*, PKG_CONFIG_PATH=${PKG_CONFIG_PATH:-}"
start=$(date +%s)
# 1. DPVS (src/) alone, with the flags: the top Makefile loops over SUBDIRS (src tools) and
#    exports the CONFIG_* options of config.mk to the sub-make.
CFLAGS="$*" make -C "$src" -j "$jobs" SUBDIRS=src
compiled=$(date +%s)
# 2. The tools (src/ is up to date), then make install into the prefix.
make -C "$src" -j "$jobs"
make -C "$src" install INSDIR="$insdir"
done=$(date +%s)
echo "dpvs-build: src/ $((compiled - start)) s, tools and install $((done - compiled)) s, total $((done - start)) s"
