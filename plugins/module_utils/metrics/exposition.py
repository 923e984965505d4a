# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Metric families and the Prometheus text exposition format (version 0.0.4), stdlib only.

A family has a name, a type (``counter`` or ``gauge``), a help text and samples (labels,
value). Counter names end in ``_total``; the ``# TYPE`` line carries the full name, as
node_exporter writes its own. :func:`write_atomic` writes the file node_exporter's textfile
collector reads: a temporary file in the same directory, then ``os.replace``, so a scrape
never sees half a file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import tempfile

NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
TYPES = ("counter", "gauge")


class Family:
    """One metric family: ``add(value, **labels)`` appends a sample."""

    def __init__(self, name, kind, help_text):
        if not NAME_RE.match(name) or kind not in TYPES:
            raise ValueError(f"bad metric family {name!r} ({kind})")
        if (kind == "counter") != name.endswith("_total"):
            raise ValueError(f"{name}: a counter's name, and only a counter's, ends in _total")
        self.name = name
        self.kind = kind
        self.help = help_text
        self.samples = []

    def add(self, value, **labels):
        for label in labels:
            if not LABEL_RE.match(label) or label.startswith("__"):
                raise ValueError(f"{self.name}: bad label name {label!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{self.name}: value {value!r} is not a number")
        if self.kind == "counter" and value < 0:
            raise ValueError(f"{self.name}: a counter cannot be negative ({value})")
        self.samples.append((dict(labels), value))
        return self


def escape_label(value):
    """A label value as the text format quotes it: backslash, double quote and newline escaped."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text):
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value):
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def render(families):
    """The text of ``families`` (families without samples are left out); names must be unique."""
    lines, seen = [], set()
    for family in families:
        if family.name in seen:
            raise ValueError(f"metric family {family.name} given twice")
        seen.add(family.name)
        if not family.samples:
            continue
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for labels, value in family.samples:
            text = ",".join(f'{key}="{escape_label(val)}"' for key, val in labels.items())
            lines.append(f"{family.name}{{{text}}} {_number(value)}" if text else f"{family.name} {_number(value)}")
    return "\n".join(lines) + "\n" if lines else ""


def write_atomic(path, text, mode=0o644):
    """Write ``text`` to ``path`` through a temporary file in its directory and ``os.replace``.

    The temporary name starts with a dot and does not end in ``.prom``: node_exporter reads only
    ``*.prom`` files, so it never reads one half written.
    """
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
