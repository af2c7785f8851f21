# Copyright (c) convox.rack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Sphinx configuration of the collection's documentation site (make docs; tools/docs_site.py): the plugin, role and
# inventory pages antsibull-docs writes, and the guide pages of docs/ (Markdown, through MyST).  Offline: no
# intersphinx inventories are fetched; a reference to ansible-core's own docs is an external link.

project = "convox.rack"
copyright = "convox.rack contributors"
title = "convox.rack collection documentation"
html_short_title = "convox.rack"
html_title = "convox.rack collection documentation"

extensions = ["sphinx_antsibull_ext", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_heading_anchors = 3                # [text](guide.md#a-heading) links, as GitHub renders them

pygments_style = "ansible"
highlight_language = "YAML+Jinja"
html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
display_version = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False
html_theme_options = {"collapse_navigation": False}

default_role = "any"
nitpicky = True

# Ansible's own documentation, linked from the generated pages (labels antsibull-docs writes for its intersphinx
# inventory): external links here, so the build needs no network and every other reference must resolve.
ANSIBLE_DOCS = "https://docs.ansible.com/ansible/latest/"
ANSIBLE_LABELS = {
    "action_plugins": "plugins/action.html",
    "common_return_values": "reference_appendices/common_return_values.html",
    "ansible_configuration_settings": "reference_appendices/config.html",
}


def ansible_docs_url(domain, reftype, target):
    """The docs.ansible.com page of a reference this site cannot resolve, or None (then Sphinx warns: an error)."""
    if reftype == "envvar" and target.startswith("ANSIBLE_"):
        return ANSIBLE_DOCS + "reference_appendices/config.html#envvar-" + target
    if reftype != "ref":
        return None
    if target in ANSIBLE_LABELS:
        return ANSIBLE_DOCS + ANSIBLE_LABELS[target]
    parts = target.split(".")
    if len(parts) == 4 and parts[0] == "ansible_collections" and (parts[1], parts[2]) != ("convox", "rack"):
        return ANSIBLE_DOCS + "collections/%s/%s/%s.html" % tuple(parts[1:])
    return None


def external_ansible_reference(app, env, node, contnode):
    from docutils import nodes
    url = ansible_docs_url(node.get("refdomain"), node.get("reftype"), node.get("reftarget", ""))
    if url is None:
        return None
    reference = nodes.reference("", "", internal=False, refuri=url)
    reference += contnode
    return reference


def setup(app):
    app.connect("missing-reference", external_ansible_reference)
