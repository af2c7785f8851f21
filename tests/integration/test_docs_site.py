# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The documentation site (make docs: tools/docs_site.py) as a reader gets it: every page the collection documents is
there, every internal link and anchor of every page resolves, and the site opens in Debian's chromium with nothing it
loads failing."""

from __future__ import annotations

import html.parser
import os
import shutil
import subprocess
import sys
import urllib.parse

import pytest
from conftest import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PAGES = ["index.html", "changelog.html", "guide/guide.html", "guide/releases.html", "guide/stack-states.html", "guide/reliability.html",
         "guide/performance.html"] + ["collections/convox/rack/%s.html" % name for name in (
             "index", "rack_module", "rack_app_module", "rack_batch_module", "rack_batch_preflight_module",
             "rack_batch_bake_module", "rack_batch_result_module", "rack_info_module", "rack_release_module",
             "rack_release_info_module", "racks_inventory", "rack_role", "fleet_table_filter",
             "fleet_batch_label_filter")]


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ("href", "src"):
            if attrs.get(key) and tag in ("a", "link", "script", "img"):
                self.links.append(attrs[key])


def _parse(path, cache):
    if path not in cache:
        page = _Page()
        with open(path, encoding="utf-8") as f:
            page.feed(f.read())
        cache[path] = page
    return cache[path]


def broken_links(root):
    """Every internal link of every page under ``root`` whose file or anchor is missing: (page, link)."""
    cache, broken = {}, []
    for folder, dummy, files in os.walk(root):
        for name in files:
            if not name.endswith(".html"):
                continue
            path = os.path.join(folder, name)
            for link in _parse(path, cache).links:
                parts = urllib.parse.urlsplit(link)
                if parts.scheme or parts.netloc:
                    continue                       # external: docs.ansible.com, the repository
                target = os.path.normpath(os.path.join(folder, urllib.parse.unquote(parts.path))) if parts.path else path
                if not os.path.exists(target):
                    broken.append((os.path.relpath(path, root), link))
                elif parts.fragment and target.endswith(".html") and parts.fragment not in _parse(target, cache).ids:
                    broken.append((os.path.relpath(path, root), link))
    return sorted(broken)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs-site")
    proc = subprocess.run([sys.executable, os.path.join(REPO, "tools", "docs_site.py"), "--out", str(out)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stdout[-6000:]
    return str(out / "html")


def test_every_page_is_built_and_every_internal_link_resolves(site):
    missing = [p for p in PAGES if not os.path.isfile(os.path.join(site, p))]
    assert missing == []
    assert broken_links(site) == []
    with open(os.path.join(site, "collections/convox/rack/rack_module.html"), encoding="utf-8") as f:
        text = f.read()
    assert "expect_fingerprint" in text and "fingerprint_of" in text       # options and return values documented


def test_the_link_check_finds_a_broken_link_and_anchor(tmp_path):
    (tmp_path / "a.html").write_text('<a id="top" href="b.html#nowhere">b</a><a href="gone.html">x</a>'
                                     '<a href="#top">top</a><a href="https://example.org/x">out</a>')
    (tmp_path / "b.html").write_text('<h1 id="here">b</h1>')
    assert broken_links(str(tmp_path)) == [("a.html", "b.html#nowhere"), ("a.html", "gone.html")]


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (Debian package chromium); "
                                             "make test installs it where it can")
def test_the_site_opens_in_chromium_and_every_page_loads_what_it_links(site):
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright (requirements-dev.txt) not installed")
    failed, requested, visited = [], set(), []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page()
            page.on("request", lambda r: requested.add(r.url))
            # a favicon request cut short by the next navigation is aborted, not broken: what was asked for is
            # checked on disk below
            page.on("requestfailed", lambda r: None if r.failure == "net::ERR_ABORTED" else failed.append(
                "%s (%s)" % (r.url, r.failure)))
            page.on("pageerror", lambda e: failed.append("script error: %s" % e))
            page.goto("file://" + os.path.join(site, "index.html"))
            assert page.title().startswith("convox.rack")
            # every page of the site the navigation reaches, opened as a reader would
            queue = sorted({u.split("#")[0] for u in page.eval_on_selector_all("a", "as => as.map(a => a.href)")
                            if u.startswith("file://") and u.split("#")[0].endswith(".html")})
            for url in queue:
                response = page.goto(url)
                visited.append(os.path.relpath(urllib.parse.urlsplit(url).path, site))
                assert response is None or response.ok, url
                assert page.locator("h1").count() >= 1, url
        finally:
            browser.close()
    assert failed == []
    assert [u for u in sorted(requested) if not u.startswith("file://")] == []          # the site is self-contained
    assert [u for u in sorted(requested) if not os.path.exists(urllib.parse.unquote(urllib.parse.urlsplit(u).path))] \
        == []
    assert set(PAGES) - {"index.html"} <= set(visited), sorted(set(PAGES) - set(visited))
