# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the collection's documentation site (``make docs``): antsibull-docs writes a page per module, plugin, role
and the inventory plugin from the collection as installed (``--use-current``), the guide pages of docs/ join them
(Markdown, through MyST), and Sphinx builds the HTML with every warning an error.  A link of a guide page that leaves
docs/ (``../tools/...``) points at the repository (galaxy.yml ``repository``), since the site does not hold it.

    python tools/docs_site.py [--out .tmp/docs-site]      # the site: <out>/html/index.html
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(REPO, "docs")
SITE = os.path.join(DOCS, "site")
# the guide pages of the site, in docs/ (docs/README.md is the repository's index of them)
GUIDE = ["guide.md", "releases.md", "stack-states.md", "reliability.md", "performance.md", "developing.md"]
# what the guide pages link to or show, beside them in docs/
GUIDE_FILES = ["iam-policy.json", "publisher-policy.json", "operator-with-service-role-policy.json", "service-role-policy.json",
               "service-role-trust.json"]
GUIDE_DIRS = ["images", "examples"]
OUTSIDE_LINK = re.compile(r"(!?)\[([^\]]*)\]\(\.\./([^)\s]+)\)")
IMAGE = (".png", ".svg", ".jpg", ".gif")
LINK = re.compile(r"\]\(([^)\s#:]+)\)")


def repository_url():
    with open(os.path.join(REPO, "galaxy.yml"), encoding="utf-8") as f:
        return yaml.safe_load(f)["repository"].rstrip("/")


def guide_page(text, repository, guide):
    """A guide page as the site holds it: an image from outside docs/ is copied in (the site loads nothing from
    elsewhere); other links that leave docs/, or name a folder of it, point at the repository."""
    def outside(m):
        bang, label, target = m.groups()
        if bang and target.endswith(IMAGE):
            copy = os.path.join(guide, "repository", target)
            os.makedirs(os.path.dirname(copy), exist_ok=True)
            shutil.copy(os.path.join(REPO, target), copy)
            return "![%s](repository/%s)" % (label, target)
        return "%s[%s](%s/blob/main/%s)" % (bang, label, repository, target)
    text = OUTSIDE_LINK.sub(outside, text)

    def folder(m):
        target = m.group(1)
        if os.path.isdir(os.path.join(DOCS, target)):
            return "](%s/tree/main/docs/%s)" % (repository, target.rstrip("/"))
        return m.group(0)
    return LINK.sub(folder, text)


def environment():
    """ansible-doc and the collection as make setup installs them (amazon.aws from the ansible package); git is not
    asked about the virtualenv inside the work tree (antsibull-docs would copy a dependency found there as an empty
    git checkout)."""
    bindir = os.path.dirname(sys.executable)
    venv = os.path.dirname(bindir)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="true",
               GIT_CEILING_DIRECTORIES=venv, ANSIBLE_NOCOLOR="1")
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.join(venv, "collections"))
    return env


def run(cmd, cwd):
    proc = subprocess.run(cmd, cwd=cwd, check=False, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode:
        sys.stderr.write(proc.stdout)
        raise SystemExit("%s failed (exit %d)" % (" ".join(cmd[:2]), proc.returncode))
    return proc.stdout


def build(out):
    src = os.path.join(out, "src")
    html = os.path.join(out, "html")
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(SITE, src)
    rst = os.path.join(src, "rst")
    os.makedirs(rst, mode=0o755)
    bindir = os.path.dirname(sys.executable)
    run([os.path.join(bindir, "antsibull-docs"), "--config-file", os.path.join(src, "antsibull-docs.cfg"),
         "collection", "--use-current", "--dest-dir", rst, "convox.rack"], cwd=src)
    shutil.move(os.path.join(src, "index.rst"), os.path.join(rst, "index.rst"))
    shutil.copy(os.path.join(REPO, "CHANGELOG.rst"), os.path.join(rst, "changelog.rst"))
    guide = os.path.join(rst, "guide")
    os.makedirs(guide)
    repository = repository_url()
    for name in GUIDE:
        with open(os.path.join(DOCS, name), encoding="utf-8") as f:
            text = guide_page(f.read(), repository, guide)
        with open(os.path.join(guide, name), "w", encoding="utf-8") as f:
            f.write(text)
    for name in GUIDE_FILES:
        shutil.copy(os.path.join(DOCS, name), guide)
    for name in GUIDE_DIRS:
        shutil.copytree(os.path.join(DOCS, name), os.path.join(guide, name))
    run([os.path.join(bindir, "sphinx-build"), "-b", "html", "-c", src, "-W", "--keep-going", "-q", "-j", "2",
         rst, html], cwd=src)
    return os.path.join(html, "index.html")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--out", default=os.path.join(REPO, ".tmp", "docs-site"))
    args = parser.parse_args(argv)
    print("documentation site: %s" % build(os.path.abspath(args.out)))


if __name__ == "__main__":
    main()
