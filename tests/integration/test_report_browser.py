"""playbooks/report.yml's page in a real browser: headless Chromium (the Debian package, driven by
Playwright for Python; Playwright's own browsers are never downloaded).

For inventories/lab and inventories/example (the inventory alone: no host is contacted), the page
opens with no console error and no request but the file itself, and its SVG holds a visible
element per node, VIP, port and real server the inventory declares; a screenshot is written. The
page of the escaping golden case runs no script (no dialog opens, no script element exists).
NOT RUN where /usr/bin/chromium or the playwright package is missing (CI installs both: the
Makefile's APT_PACKAGES, requirements.txt).
"""

import os
import subprocess

import pytest
from emutier import REPO, ansible_playbook_bin, collections_path

pytestmark = pytest.mark.parallel_safe

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
GOLDEN = os.path.join(REPO, "tests", "unit", "golden", "report")
# what each inventory declares: nodes, VIPs, real servers, ports of the first node
EXPECTED = {
    "example": {
        "node": ["dpvs1"],
        "vip": ["10.0.96.204"],
        "rs": ["192.168.229.1"],
        "port": ["dpdk0", "dpdk1", "dpdk2", "dpdk3"],
    },
    "lab": {
        "node": ["lb1"],
        "vip": ["192.168.50.1", "192.168.100.100"],
        "rs": ["192.168.60.2", "192.168.110.2"],
        "port": ["dpdk0", "dpdk1"],
    },
}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"NOT RUN: no {CHROMIUM} (Debian package chromium; make setup installs it as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("NOT RUN: the playwright package is not installed (requirements.txt)")
    with sync_playwright() as playwright:
        # the browser's own files (crash reports, dconf) in a temp HOME, not the user's
        home = str(tmp_path_factory.mktemp("chromium-home"))
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home, XDG_CACHE_HOME=home)
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, env=env)
        yield instance
        instance.close()


def render(inventory, path, tmp_path):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_HOME=str(tmp_path / "ansible-home"))
    env.update(ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORKS="1")
    argv = [ansible_playbook_bin(), "-i", os.path.join(REPO, "inventories", inventory)]
    argv += [os.path.join(REPO, "playbooks", "report.yml"), "-e", f"dpvs_report_path={path}"]
    proc = subprocess.run(argv, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def open_page(browser, path):
    """The page at ``path``: (page, console errors, requested URLs, dialogs)."""
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors, requests, dialogs = [], [], []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("file://" + path, wait_until="load")
    return page, errors, requests, dialogs


@pytest.mark.parametrize("inventory", sorted(EXPECTED))
def test_the_inventory_report_in_chromium(browser, inventory, tmp_path):
    path = str(tmp_path / f"{inventory}.html")
    render(inventory, path, tmp_path)
    page, errors, requests, dialogs = open_page(browser, path)
    try:
        assert errors == []
        assert requests == ["file://" + path]
        assert dialogs == []
        for kind, names in EXPECTED[inventory].items():
            found = page.eval_on_selector_all(f"svg#topology g.{kind}", f"els => els.map(e => e.dataset.{kind})")
            assert found == names, kind
            for name in names:
                box = page.locator(f'svg#topology g.{kind}[data-{kind}="{name}"]').first.bounding_box()
                assert box is not None and box["width"] > 20 and box["height"] > 8, (kind, name, box)
        # every edge joins two drawn elements
        for source, target in page.eval_on_selector_all(
            "svg#topology path.edge", "els => els.map(e => [e.dataset.from, e.dataset.to])"
        ):
            assert page.locator(f'[data-vip="{source}"], [data-node="{source}"]').count() >= 1, source
            assert page.locator(f'[data-node="{target}"], [data-rs="{target}"]').count() >= 1, target
        shot = tmp_path / f"{inventory}.png"
        page.screenshot(path=str(shot), full_page=True)
        with open(shot, "rb") as handle:
            data = handle.read()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(data) > 20000, len(data)
    finally:
        page.close()


def test_markup_in_the_inventory_runs_nothing_in_chromium(browser, tmp_path):
    path = tmp_path / "script-injection.html"
    with open(os.path.join(GOLDEN, "script-injection.html.golden")) as source:
        path.write_text(source.read())
    page, errors, requests, dialogs = open_page(browser, str(path))
    try:
        assert dialogs == [] and errors == [] and requests == ["file://" + str(path)]
        assert page.locator("script, img, iframe").count() == 0
        assert page.locator("svg#topology g.node").get_attribute("data-node") == "<script>alert('node')</script>"
    finally:
        page.close()
