# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A pure parser of ``iptables-save`` output, and the rules in it that carry a given comment.

``parse_save`` splits the text into tables, chain policies and ``-A`` rule argv lists.
``rule_fields`` turns one rule's argv into the option names of ``ansible.builtin.iptables``
(``chain``, ``protocol``, ``source``, ``destination``, ``source_port``, ``destination_port``,
``ctstate``, ``jump``, ``to_destination``, ``to_source``, ``comment``) so that a rule read
from the kernel can be compared with a desired one and deleted with the same module. Any
option outside that set (an interface, a negation, another match) is reported in
``unknown``: such a rule cannot be rebuilt for ``iptables -D`` from these fields.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import shlex

# "*nat"
TABLE_RE = re.compile(r"^\*(?P<table>\S+)$")
# ":PREROUTING ACCEPT [0:0]"  /  ":MYCHAIN - [0:0]"
CHAIN_RE = re.compile(r"^:(?P<chain>\S+) (?P<policy>\S+)(?: \[\d+:\d+\])?$")
# "-A PREROUTING -s 10.200.1.2/32 -p udp -m udp --dport 7890 -j DNAT --to-destination 10.200.2.2"
RULE_RE = re.compile(r"^(?:\[\d+:\d+\] )?-A (?P<chain>\S+)(?: (?P<spec>.*))?$")

# option -> field; a value-taking option each
VALUE_OPTIONS = {
    "-p": "protocol",
    "--protocol": "protocol",
    "-s": "source",
    "--source": "source",
    "-d": "destination",
    "--destination": "destination",
    "--sport": "source_port",
    "--source-port": "source_port",
    "--dport": "destination_port",
    "--destination-port": "destination_port",
    "--ctstate": "ctstate",
    "--comment": "comment",
    "-j": "jump",
    "--jump": "jump",
    "--to-destination": "to_destination",
    "--to-source": "to_source",
}
# matches that the fields above imply (iptables-save prints "-m udp" after "-p udp")
KNOWN_MATCHES = ("udp", "tcp", "conntrack", "comment")
FIELDS = (
    "chain",
    "protocol",
    "source",
    "destination",
    "source_port",
    "destination_port",
    "ctstate",
    "jump",
    "to_destination",
    "to_source",
    "comment",
)


class SaveFormatError(ValueError):
    """iptables-save output that does not parse (line number in the message)."""


def parse_save(text):
    """``iptables-save`` text -> ``{table: {"chains": {chain: policy}, "rules": [(chain, argv)]}}``.

    ``argv`` is the rule after ``-A CHAIN``, split as a shell would (comments are quoted).
    Counters (``[12:345]`` prefixes, from ``iptables-save -c``) are ignored.
    """
    tables = {}
    current = None
    lines = text.splitlines() if isinstance(text, str) else list(text or [])
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line == "COMMIT":
            current = None
            continue
        match = TABLE_RE.match(line)
        if match:
            current = tables.setdefault(match.group("table"), {"chains": {}, "rules": []})
            continue
        if current is None:
            raise SaveFormatError(f"line {number}: outside of a table: {line!r}")
        match = CHAIN_RE.match(line)
        if match:
            current["chains"][match.group("chain")] = match.group("policy")
            continue
        match = RULE_RE.match(line)
        if match:
            try:
                argv = shlex.split(match.group("spec") or "")
            except ValueError as exc:
                raise SaveFormatError(f"line {number}: {exc}: {line!r}") from None
            current["rules"].append((match.group("chain"), argv))
            continue
        raise SaveFormatError(f"line {number}: not a table, chain or -A line: {line!r}")
    return tables


def rule_fields(chain, argv):
    """One rule's argv -> ``{field: value}`` (absent fields: None) plus ``unknown`` (a list)."""
    fields = dict.fromkeys(FIELDS)
    fields["chain"] = chain
    unknown = []
    index = 0
    while index < len(argv):
        option = argv[index]
        if option in ("-m", "--match") and index + 1 < len(argv):
            if argv[index + 1] not in KNOWN_MATCHES:
                unknown.extend(argv[index : index + 2])
            index += 2
            continue
        if option in VALUE_OPTIONS and index + 1 < len(argv):
            value = argv[index + 1]
            name = VALUE_OPTIONS[option]
            if name == "ctstate":
                value = sorted(value.split(","))
            fields[name] = value
            index += 2
            continue
        unknown.append(option)
        index += 1
    fields["unknown"] = unknown
    return fields


def tagged_rules(text, table, comment_prefix):
    """The rules of ``table`` whose comment starts with ``comment_prefix``, as fields."""
    parsed = parse_save(text).get(table, {"rules": []})
    found = []
    for chain, argv in parsed["rules"]:
        fields = rule_fields(chain, argv)
        if (fields["comment"] or "").startswith(comment_prefix):
            found.append(fields)
    return found
