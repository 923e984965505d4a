# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fail when a function in the given trees is longer than --max lines (``def`` to last line,
docstring included). Ruff has complexity rules but no length rule; this is the length rule
of the lint tier (docs/decisions.md). ``--top N`` prints the N longest functions as well."""

import argparse
import ast
import pathlib
import sys


def functions(root):
    """(lines, "path:line name") of every function and method under ``root``."""
    for path in sorted(pathlib.Path(root).rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield node.end_lineno - node.lineno + 1, f"{path}:{node.lineno} {node.name}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("roots", nargs="+")
    parser.add_argument("--max", type=int, default=60)
    parser.add_argument("--top", type=int, default=0)
    args = parser.parse_args(argv)
    rows = sorted((row for root in args.roots for row in functions(root)), reverse=True)
    for length, where in rows[: args.top]:
        print(f"{length:4d} {where}")
    too_long = [(length, where) for length, where in rows if length > args.max]
    for length, where in too_long:
        print(f"{where}: {length} lines (more than {args.max})", file=sys.stderr)
    print(f"{len(rows)} functions, longest {rows[0][0] if rows else 0} lines, {len(too_long)} over {args.max}")
    return 1 if too_long else 0


if __name__ == "__main__":
    sys.exit(main())
