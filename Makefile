# One entry point for every check, the same on a laptop and in CI (.ci/run calls `make test`).
#   make setup        install what the checks need (Debian packages when root, a venv, collections)
#   make test         setup + lint + sanity + unit + integration + build + DPDK's source build
#                     here + the VM lab's `default` scenario (the README's test command)
#   make lint | sanity | unit | integration | bench
#   make lab-up | lab-down | lab-ssh VM=lb1 | lab-ping | lab-status    the VM lab (docs/lab.md)
#   make lab-molecule | lab-test      the molecule scenario in the lab VMs (lab-test: with a time
#                                     limit and the VMs stopped afterwards; the last tier of `make test`)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

REPO      := $(abspath .)
VENV      ?= $(REPO)/.venv
BIN       := $(VENV)/bin
PYTHON    ?= python3.11
export PATH := $(BIN):$(PATH)
# The link build/collections/ansible_collections/dpvs/cluster -> this checkout, so that
# playbooks and ansible-doc resolve dpvs.cluster.* from the working tree.
COLLECTIONS := $(REPO)/build/collections
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
# ansible-core's own files (local temp, caches) under build/, not in the user's ~/.ansible
export ANSIBLE_HOME := $(REPO)/build/ansible-home
export ANSIBLE_PYTHON_INTERPRETER := $(BIN)/python
export ANSIBLE_LOCALHOST_WARNING := False
export ANSIBLE_INVENTORY_UNPARSED_WARNING := False
APT_PACKAGES := iproute2 iptables ipvsadm rsync conntrack keepalived
# The dpdk role's build host in CI is this machine (make dpdk-build-test, then the lab's converge
# copies the result): DPDK's meson build and its tools.
APT_PACKAGES += meson ninja-build python3-pyelftools libnuma-dev pkg-config gcc xz-utils patch
# The report page (playbooks/report.yml) is opened in headless Chromium by Playwright
# (tests/integration/test_report_browser.py): Debian's browser, never Playwright's download.
APT_PACKAGES += chromium
PYTEST_ARGS ?=

.PHONY: lab-setup lab-image lab-image-start lab-image-wait lab-up lab-down lab-status lab-ssh lab-ping lab-molecule lab-test
.PHONY: dpdk-build-test demo setup apt venv collection-link lint yamllint ansible-lint changelog-lint docs-lint ruff sanity unit integration test bench build clean

setup: apt venv collection-link

# Debian packages the tests use for real (iptables, network namespaces). Skipped when not root
# (a laptop user installs them by hand) or when they are all present already.
apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "apt: all present"; \
	elif [ "$$(id -u)" = 0 ]; then echo "apt: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "apt: missing$$missing (run as root or install them)"; fi

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (ansible-core 2.19 needs Python >= 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

collection-link:
	@mkdir -p $(COLLECTIONS)/ansible_collections/dpvs
	@ln -sfn $(REPO) $(COLLECTIONS)/ansible_collections/dpvs/cluster

lint: yamllint ruff ansible-lint changelog-lint docs-lint

yamllint:
	$(BIN)/yamllint --strict .

# Product code also under the complexity rules (limits in pyproject.toml) and no function over
# 60 lines (tools/function_length.py).
ruff:
	$(BIN)/ruff check plugins tests benchmarks tools molecule
	$(BIN)/ruff check --extend-select C901,PLR0912,PLR0915 plugins tools
	$(BIN)/python tools/function_length.py --max 60 plugins tools
	$(BIN)/ruff format --check plugins tools molecule

# the changelog fragments as antsibull-changelog (which writes CHANGELOG.rst at a release) reads them
changelog-lint:
	$(BIN)/antsibull-changelog lint

# the plugins' documentation as antsibull-docs (docs.ansible.com's builder) reads it: markup
# (O(), M(), L()), references between modules, the schema of every DOCUMENTATION block
docs-lint: collection-link
	@# HOME under build/: antsibull writes antsibull.log there
	@mkdir -p $(SANITY_HOME)
	cd $(COLLECTIONS)/ansible_collections/dpvs/cluster && HOME=$(SANITY_HOME) $(BIN)/antsibull-docs lint-collection-docs --plugin-docs .

ansible-lint: collection-link
	@# offline, with ANSIBLE_HOME under build/: the collection is found through ANSIBLE_COLLECTIONS_PATH
	@# (build/collections), nothing is installed, nothing is left in ~/.ansible
	$(BIN)/ansible-lint --profile production --strict --offline

# ansible-test needs the collection under ansible_collections/<namespace>/<name>: copy the
# tracked files there (a copy, not a link: ansible-test refuses symlinked roots). ansible-test keeps
# its cache and virtualenvs in $HOME/.ansible/test: HOME is build/home for it, not the user's.
SANITY_ROOT := $(REPO)/build/sanity/ansible_collections/dpvs/cluster
SANITY_HOME := $(REPO)/build/home
sanity:
	rm -rf $(REPO)/build/sanity && mkdir -p $(SANITY_ROOT)
	git ls-files -co --exclude-standard | rsync -a --files-from=- ./ $(SANITY_ROOT)/
	cd $(SANITY_ROOT) && git init -q && git add -A
	@pipver=$$($(BIN)/python -c 'import re,ansible_test,os; p=os.path.join(os.path.dirname(ansible_test.__file__),"_internal","python_requirements.py"); print(re.search(r"pip=.([0-9.]+).", open(p).read()).group(1))'); \
	  cache=$(SANITY_HOME)/.ansible/test/cache/get_pip_$${pipver//./_}.py; mkdir -p $$(dirname $$cache); \
	  [ -s $$cache ] || cp .ci/get_pip_shim.py $$cache
	cd $(SANITY_ROOT) && HOME=$(SANITY_HOME) $(BIN)/ansible-test sanity --color no --python 3.11

unit:
	$(BIN)/pytest -q -p no:cacheprovider tests/unit $(PYTEST_ARGS)

integration:
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --durations=15 tests/integration $(PYTEST_ARGS)

# Tiers that run Ansible on this machine only (local connections): its "remote" temp under build/
# too. Not the lab: there the remote temp is on the VMs.
unit integration demo dpdk-build-test: export ANSIBLE_REMOTE_TEMP := $(REPO)/build/ansible-home/remote-tmp
# and the async jobs' status files (a DPDK or DPVS build): by default ~/.ansible_async, which the
# job and async_status can resolve differently when HOME is not the user's passwd home
unit integration demo dpdk-build-test: export ANSIBLE_ASYNC_DIR := $(REPO)/build/ansible-home/async

# The lab image (about 7 min cold: mmdebstrap on this machine, no VM) is built in the background
# while the tiers before the lab run; `lab-image-wait` then waits for it (and fails with its log).
test: setup lab-setup
	@$(MAKE) --no-print-directory lab-image-start
	@.ci/timed lint        $(MAKE) --no-print-directory lint
	@.ci/timed sanity      $(MAKE) --no-print-directory sanity
	@.ci/timed unit        $(MAKE) --no-print-directory unit
	@.ci/timed integration $(MAKE) --no-print-directory integration
	@.ci/timed build       $(MAKE) --no-print-directory build
	@.ci/timed dpdk        $(MAKE) --no-print-directory dpdk-build-test DPDK_LAB=0
	@.ci/timed lab-image   $(MAKE) --no-print-directory lab-image-wait
	@.ci/timed lab         $(MAKE) --no-print-directory lab-test

# The VM tier, last and under its own time limit (LAB_TIMEOUT): molecule's `default` scenario on
# the three VMs (lb1's host preparation, the DPDK prefix the dpdk tier built copied to lb1 and
# rs1, DKMS on rs1, the kernel IPVS path client1 -> lb1 -> rs1 with NIC tuning; check, converge,
# idempotence, verify, reboot, verify, a NIC removal, a second kernel booted; docs/lab.md).
# LAB_SCENARIO=host runs lb1's host preparation alone (quicker). The VMs are stopped afterwards.
LAB_TIMEOUT ?= 75m
LAB_SCENARIO ?= default
lab-test: lab-setup venv collection-link
	@rc=0; timeout --foreground --kill-after=60 $(LAB_TIMEOUT) $(BIN)/molecule test -s $(LAB_SCENARIO) || rc=$$?; \
	  [ $$rc = 124 ] && echo "lab: molecule test did not finish within $(LAB_TIMEOUT)"; \
	  $(LAB) down >/dev/null 2>&1 || true; exit $$rc

build:
	mkdir -p build/dist
	$(BIN)/ansible-galaxy collection build --force --output-path build/dist .

bench:
	$(BIN)/python benchmarks/ipvs_table.py $(BENCH_ARGS)

clean:
	rm -rf build .pytest_cache .ruff_cache

# The main job as a user sees it (seed 001's FullNAT example on the DPVS emulator): site.yml on a
# bare DPVS, site.yml again (it must change nothing), DPVS's tables, then verify.yml. Only changed
# tasks are printed, each run ends with dpvs.cluster.summary; DEMO_DIFF=1 adds the file diffs.
DEMO := $(REPO)/build/demo
DEMO_DIFF ?=
demo: setup collection-link
	@rm -rf $(DEMO) && mkdir -p $(DEMO)
	@export PATH=$(REPO)/tests/emulator/bin:$$PATH DPVS_EMULATOR_STATE=$(DEMO)/state.json DPVS_IPC_FILE=$(DEMO)/dpvs.ipc \
	  ANSIBLE_DISPLAY_OK_HOSTS=false ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ANSIBLE_CALLBACKS_ENABLED=dpvs.cluster.summary \
	  ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_PATTERN_MISMATCH=ignore PYTHONWARNINGS=ignore::DeprecationWarning,ignore::UserWarning; play="$(BIN)/ansible-playbook -i inventories/emulator"; \
	  dpvs-emulator start tests/emulator/ports-seed001.json >/dev/null; trap 'dpvs-emulator stop >/dev/null' EXIT; \
	  echo "=== 1/3 site.yml on a bare DPVS (only changed tasks are shown$(if $(DEMO_DIFF),,; DEMO_DIFF=1 shows the diffs))"; \
	  $$play playbooks/site.yml $(if $(DEMO_DIFF),--diff) | grep -v '^$$' | tee $(DEMO)/first-run.txt; \
	  echo; echo "=== 2/3 site.yml again: it must change nothing"; \
	  $$play playbooks/site.yml | grep -v '^$$' | tee $(DEMO)/second-run.txt; \
	  if grep -Eq 'changed=[1-9]|failed=[1-9]|unreachable=[1-9]' $(DEMO)/second-run.txt; then \
	    echo "demo: FAILED, the second run changed something"; exit 1; fi; \
	  echo "demo: second run changed=0 on every host"; \
	  echo; echo "=== DPVS now: dpip addr show"; dpip addr show; \
	  echo "=== dpip route show"; dpip route show; \
	  echo "=== ipvsadm -ln"; ipvsadm -ln; \
	  echo "=== ipvsadm -G (FullNAT local addresses)"; ipvsadm -G; \
	  echo; echo "=== 3/3 verify.yml: the live tables and replay files are the inventory's"; \
	  $$play playbooks/verify.yml | grep -v '^$$' | tee $(DEMO)/verify.txt; \
	  echo "demo: verify passed"

# The VM lab (docs/lab.md): Debian 12 VMs under qemu, described by inventories/lab. Big files go
# to DPVS_LAB_DIR (default /var/cache/dpvs-lab). VMS="lb1 rs1" starts a subset.
LAB := $(BIN)/python tools/lab/lab.py
VMS ?=
lab-setup:
	$(LAB) setup

lab-image: lab-setup venv
	$(LAB) image

# lab-image in the background (its output in build/lab-image.log, its exit code in
# build/lab-image.rc when it ends); lab-image-wait blocks until then and shows the log.
LAB_IMAGE_LOG := $(REPO)/build/lab-image.log
lab-image-start: lab-setup venv
	@mkdir -p build && rm -f $(LAB_IMAGE_LOG) build/lab-image.rc
	@( $(LAB) image --accel > $(LAB_IMAGE_LOG) 2>&1; echo $$? > build/lab-image.rc ) </dev/null >/dev/null 2>&1 & \
	  echo $$! > build/lab-image.pid
	@echo "lab-image: building in the background (build/lab-image.log)"

lab-image-wait:
	@test -e $(LAB_IMAGE_LOG) || { echo "lab-image-wait: no background build (make lab-image-start)"; exit 2; }
	@while [ ! -s build/lab-image.rc ] && kill -0 $$(cat build/lab-image.pid) 2>/dev/null; do sleep 5; done; \
	  cat $(LAB_IMAGE_LOG); [ -s build/lab-image.rc ] || { echo "lab-image: the background build died"; exit 1; }; \
	  exit $$(cat build/lab-image.rc)

lab-up: lab-setup venv collection-link
	$(LAB) up $(VMS)

lab-down:
	$(LAB) down $(VMS)

lab-status:
	$(LAB) status

lab-ssh:
	@test -n "$(VM)" || { echo "usage: make lab-ssh VM=lb1 [CMD='ip -br link']"; exit 2; }
	$(LAB) ssh $(VM) $(CMD)

lab-ping: collection-link
	$(BIN)/ansible -i inventories/lab all -m ansible.builtin.ping

lab-molecule: lab-setup venv collection-link
	$(BIN)/molecule test

# The dpdk role's source build for real (tests/integration/test_dpdk_build.py): a targeted DPDK
# build on this machine (the build host: meson, ninja-build, python3-pyelftools, libnuma-dev,
# pkg-config, gcc), its re-run that must build nothing, and (DPDK_LAB=1, the lab up) the copy to
# lb1 and rs1 with a dpdk-testpmd smoke there. DPDK_TEST_TARBALL/_SHA256/_VERSION pick the source.
DPDK_LAB ?= 1
dpdk-build-test: venv collection-link
	DPVS_DPDK_BUILD_TEST=1 DPVS_DPDK_LAB_TEST=$(DPDK_LAB) \
	  $(BIN)/pytest -q -p no:cacheprovider -rs -s tests/integration/test_dpdk_build.py $(PYTEST_ARGS)
