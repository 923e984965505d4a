"""The variables table of each role's README, generated from its meta/argument_specs.yml.

Each roles/<role>/README.md holds a hand-written introduction and example, and between the two
markers below a table of the role's variables (its ``main`` entry point) that this tool writes:
name, type, default and description, as ``ansible-doc -t role`` shows them. ``--check`` changes
nothing and exits 1 when a README's table differs from its spec (tests/unit/test_role_readmes.py
runs the same check).

    python tools/role_readme.py            # rewrite the tables
    python tools/role_readme.py --check    # 1 when one is out of date
"""

import json
import os
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROLES = os.path.join(REPO, "roles")
BEGIN = "<!-- BEGIN variables: generated from meta/argument_specs.yml by tools/role_readme.py, do not edit -->"
END = "<!-- END variables -->"


def _text(value):
    if isinstance(value, list):
        value = " ".join(str(item) for item in value)
    return " ".join(str(value).split()).replace("|", "\\|")


def _kind(spec):
    kind = spec.get("type", "str")
    if kind == "list" and spec.get("elements"):
        kind = f"list of {spec['elements']}"
    if spec.get("choices"):
        kind += " (" + ", ".join(str(choice) for choice in spec["choices"]) + ")"
    return kind


def _default(spec):
    if spec.get("required"):
        return "**required**"
    if "default" not in spec:
        return ""
    text = json.dumps(spec["default"]) if not isinstance(spec["default"], str) else spec["default"]
    return f"`{_text(text)}`" if text != "" else '`""`'


def table(role):
    """The generated section of ``role``'s README."""
    with open(os.path.join(ROLES, role, "meta", "argument_specs.yml")) as handle:
        main = yaml.safe_load(handle)["argument_specs"]["main"]
    rows = ["| variable | type | default | description |", "|---|---|---|---|"]
    rows += _rows(main.get("options") or {}, "", sort=True)
    return "\n".join([BEGIN, "## Variables", "", *rows, END])


def _rows(options, indent, sort=False):
    """One row per option (the role's variables sorted, suboptions in their spec's order)."""
    rows = []
    for name, spec in sorted(options.items()) if sort else options.items():
        rows.append(f"| {indent}`{name}` | {_kind(spec)} | {_default(spec)} | {_text(spec.get('description', ''))} |")
        rows += _rows(spec.get("options") or {}, indent + "&nbsp;&nbsp;")
    return rows


def updated(text, role):
    """``text`` (a README) with its generated section replaced, or appended when it has none."""
    section = table(role)
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        return head + section + rest.split(END, 1)[1]
    return text.rstrip("\n") + "\n\n" + section + "\n"


def main(argv):
    check = "--check" in argv
    stale = []
    for role in sorted(os.listdir(ROLES)):
        path = os.path.join(ROLES, role, "README.md")
        with open(path) as handle:
            text = handle.read()
        new = updated(text, role)
        if new != text:
            stale.append(role)
            if not check:
                with open(path, "w") as handle:
                    handle.write(new)
    if stale:
        print(("out of date: " if check else "rewritten: ") + ", ".join(stale))
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
