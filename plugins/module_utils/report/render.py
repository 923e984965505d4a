# -*- coding: utf-8 -*-
# Copyright: (c) 2026, dpvs.cluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report model (``model.build``) -> one self-contained HTML page.

No script, no external stylesheet, font or image: inline CSS and one inline SVG, and a
Content-Security-Policy that forbids every fetch, so the page opens offline and shows nothing a
network could change. Every value that comes from the inventory or a host goes through
:func:`esc` (``html.escape`` with quotes). The SVG's groups carry ``data-`` attributes
(``data-vip``, ``data-node``, ``data-port``, ``data-numa``, ``data-worker``, ``data-rs``,
``data-from``/``data-to`` on the edges) for tests and for a reader's browser tools.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import html

WIDTH = 1240
VIP_X, VIP_W = 20, 250
NODE_X, NODE_W = 340, 560
RS_X, RS_W = 970, 250
LINE = 18
WORKER_W, WORKER_H = 58, 40
COLOURS = {
    "ok": "#2e7d32",
    "up": "#2e7d32",
    "UP": "#2e7d32",
    "declared": "#546e7a",
    "not read": "#78909c",
    "missing": "#c62828",
    "down": "#c62828",
    "DOWN": "#c62828",
    "extra": "#ef6c00",
    "differs": "#ef6c00",
    "quiesced": "#f9a825",
    "inhibited": "#f9a825",
}
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'"
STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:20px;color:#263238;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:24px 0 8px}
table{border-collapse:collapse;margin:4px 0 12px}td,th{border:1px solid #cfd8dc;padding:3px 8px;text-align:left;
vertical-align:top}th{background:#eceff1}.num{text-align:right;font-variant-numeric:tabular-nums}
.state{font-weight:600}.drift{background:#ffebee;border-left:4px solid #c62828;padding:6px 12px}
.drift li{margin:2px 0}.ok{color:#2e7d32}.note{color:#546e7a}svg{border:1px solid #cfd8dc;background:#fafafa}
svg text{font:12px system-ui,sans-serif;fill:#263238}svg .title{font-weight:700;font-size:14px}
svg .small{font-size:11px}svg rect.box{fill:#fff;stroke:#90a4ae}svg rect.numa{fill:#e3f2fd;stroke:#90caf9}
svg rect.worker{fill:#fff;stroke:#42a5f5}svg rect.master{fill:#fff3e0;stroke:#ffa726}svg .edge{fill:none;stroke-width:2}
"""


def esc(value):
    """Text or attribute value, escaped (``None`` shows as an empty string)."""
    return html.escape("" if value is None else str(value), quote=True)


def colour(state):
    text = str(state or "")
    for word, value in COLOURS.items():
        if text.startswith(word):
            return value
    return "#546e7a"


def _box(x, y, width, height, state):
    style = f"stroke:{colour(state)};stroke-width:2"
    return f'<rect class="box" x="{x}" y="{y}" width="{width}" height="{height}" rx="6" style="{style}"/>'


def fit(text, width, char_px=6.6):
    """``text`` cut to what ``width`` pixels hold (an ellipsis marks the cut)."""
    text = "" if text is None else str(text)
    room = max(int(width / char_px), 4)
    return text if len(text) <= room else text[: room - 1] + "\u2026"


def _text(x, y, content, cls=None, fill=None, anchor=None, width=None):
    """An SVG text; with ``width``, cut to fit, the whole text in its ``<title>`` (a tooltip)."""
    attrs = f' x="{x}" y="{y}"'
    if cls:
        attrs += f' class="{cls}"'
    if fill:
        attrs += f' style="fill:{fill}"'
    if anchor:
        attrs += f' text-anchor="{anchor}"'
    shown = fit(content, width) if width else content
    tooltip = f"<title>{esc(content)}</title>" if shown != content else ""
    return f"<text{attrs}>{tooltip}{esc(shown)}</text>"


# ----------------------------------------------------------------------------- SVG


def _port_line(port):
    parts = [port["name"], port.get("pci"), f"NUMA {port['numa_node']}" if port.get("numa_node") is not None else None]
    parts += [port.get("driver"), port.get("role")]
    if port.get("rx_queues") is not None:
        parts.append(f"rxq {port['rx_queues']} txq {port['tx_queues']}")
    if port.get("state") is not None:
        speed = f" {port['speed_mbps']} Mb/s" if port.get("speed_mbps") else ""
        parts.append(f"link {port['state']}{speed}")
    return "  ".join(str(part) for part in parts if part not in (None, ""))


def _numa_height(numa):
    return 22 + WORKER_H + 8 if numa else 0


def _node_height(node):
    lines = len(node["ports"]) + len(node["vrrp"]) + len(node["problems"])
    lines += (1 if node["layout_note"] else 0) + (1 if node["kernel_forwarder"] else 0)
    return 32 + lines * LINE + sum(_numa_height(n) for n in node["numa"])


def _numa_svg(node_name, numa, x, y):
    """One NUMA node: a band with its master (orange) and workers (blue), each with its rx queues."""
    out = [f'<g class="numa-node" data-node="{esc(node_name)}" data-numa="{esc(numa["node"])}">']
    out.append(f'<rect class="numa" x="{x}" y="{y}" width="{NODE_W - 20}" height="{_numa_height(numa) - 6}" rx="4"/>')
    workers = numa["workers"]
    out.append(_text(x + 6, y + 15, f"NUMA node {numa['node']}: {len(workers)} worker(s)", cls="small"))
    cells = ([("master", numa["master"])] if numa["master"] else []) + [("worker", w) for w in workers]
    for index, (kind, lcore) in enumerate(cells):
        cx, cy = x + 6 + index * (WORKER_W + 4), y + 22
        if cx + WORKER_W > x + NODE_W - 20:
            out.append(_text(cx, cy + 24, f"+{len(cells) - index}", cls="small"))
            break
        out.append(f'<g class="{kind}" data-worker="{esc(lcore["cpu_id"])}" data-core="{esc(lcore["core"])}">')
        out.append(f'<rect class="{kind}" x="{cx}" y="{cy}" width="{WORKER_W}" height="{WORKER_H}" rx="3"/>')
        out.append(_text(cx + 4, cy + 14, f"cpu{lcore['cpu_id']}@{lcore['core']}", cls="small"))
        queues = "master" if kind == "master" else "q " + ",".join(str(q) for q in lcore["rx_queues"])
        out.append(_text(cx + 4, cy + 30, queues, cls="small"))
        out.append("</g>")
    out.append("</g>")
    return out


def _node_svg(node, y):
    height = _node_height(node)
    name, kinds = esc(node["name"]), esc("+".join(node["kinds"]))
    out = [f'<g class="node" id="node-{name}" data-node="{name}" data-kind="{kinds}">']
    out.append(_box(NODE_X, y, NODE_W, height, node["health"]))
    title = node["name"] + (f" ({node['address']})" if node["address"] else "")
    out.append(_text(NODE_X + 10, y + 20, title, cls="title", width=(NODE_W - 200) / 1.3))
    out.append(
        _text(
            NODE_X + NODE_W - 10,
            y + 20,
            " + ".join(node["kinds"]) + f": {node['health']}",
            fill=colour(node["health"]),
            anchor="end",
        )
    )
    row = y + 40
    for port in node["ports"]:
        fill = colour(port["state"]) if port.get("state") else None
        line = _text(NODE_X + 10, row, _port_line(port), cls="small", fill=fill, width=NODE_W - 20)
        out.append(f'<g class="port" data-port="{esc(port["name"])}">{line}</g>')
        row += LINE
    for numa in node["numa"]:
        out += _numa_svg(node["name"], numa, NODE_X + 10, row - 8)
        row += _numa_height(numa)
    lines = [
        (
            f"VRRP {v['name']} vrid {v['virtual_router_id']} prio {v['priority']} on {v['interface']}: "
            + " ".join(v["vips"]),
            None,
        )
        for v in node["vrrp"]
    ]
    if node["kernel_forwarder"]:
        kf = node["kernel_forwarder"]
        lines.append((f"kernel forwarder ({kf['mode']}) on {kf['address']}", None))
    if node["layout_note"]:
        lines.append((node["layout_note"], "#546e7a"))
    lines += [(problem, "#c62828") for problem in node["problems"]]
    for text, fill in lines:
        out.append(_text(NODE_X + 10, row, text, cls="small", fill=fill, width=NODE_W - 20))
        row += LINE
    out.append("</g>")
    return out, height


def _column(items, x, width, height):
    """Boxes of one side column, top to bottom; ``{key: centre y}``."""
    out, centres, y = [], {}, 20
    for key, lines, attrs, state in items:
        out.append(f"<g {attrs}>")
        out.append(_box(x, y, width, height, state))
        for index, line in enumerate(lines):
            cls = "title" if index == 0 else "small"
            out.append(
                _text(x + 8, y + 17 + index * 15, line, cls=cls, width=width - 16 if index else (width - 16) / 1.3)
            )
        out.append("</g>")
        centres[key] = y + height / 2
        y += height + 12
    return out, centres, y


def _edge(x1, y1, x2, y2, state, source, target):
    mid = (x1 + x2) / 2
    return (
        f'<path class="edge" data-from="{esc(source)}" data-to="{esc(target)}" '
        f'd="M{x1},{y1:.0f} C{mid},{y1:.0f} {mid},{y2:.0f} {x2},{y2:.0f}" style="stroke:{colour(state)}"/>'
    )


def _vip_state(vip, health):
    """Up when a node that serves the VIP is up, else what its first node is (declared, down, ...)."""
    states = [health[name] for name in vip["nodes"]]
    return "up" if "up" in states else (states[0] if states else "declared")


def svg(model):
    """The topology: VIPs (left) -> nodes (middle) -> real servers (right)."""
    health = {node["name"]: node["health"] for node in model["nodes"]}
    vip_items = [
        (
            v["address"],
            [v["address"], ", ".join(v["services"]) or "no service", ", ".join(v["vrrp"])],
            f'class="vip" data-vip="{esc(v["address"])}"',
            _vip_state(v, health),
        )
        for v in model["vips"]
    ]
    rs_items = [
        (
            r["ip"],
            [r["ip"], r["host"] or "not an inventory host", r["health"]],
            f'class="rs" data-rs="{esc(r["ip"])}"',
            r["health"],
        )
        for r in model["real_servers"]
    ]
    vips, vip_y, vip_end = _column(vip_items, VIP_X, VIP_W, 52)
    servers, rs_y, rs_end = _column(rs_items, RS_X, RS_W, 52)
    nodes, node_y, y = [], {}, 20
    for node in model["nodes"]:
        drawn, height = _node_svg(node, y)
        nodes += drawn
        node_y[node["name"]] = y + 20
        y += height + 16
    edges = []
    for vip in model["vips"]:
        for name in vip["nodes"]:
            y1, y2 = vip_y[vip["address"]], node_y[name]
            edges.append(_edge(VIP_X + VIP_W, y1, NODE_X, y2, health[name], vip["address"], name))
    seen = set()
    for row in model["services"]:
        for rs in row["real_servers"]:
            if (row["node"], rs["ip"]) not in seen:
                seen.add((row["node"], rs["ip"]))
                edges.append(
                    _edge(
                        NODE_X + NODE_W, node_y[row["node"]], RS_X, rs_y[rs["ip"]], rs["state"], row["node"], rs["ip"]
                    )
                )
    height = max(vip_end, rs_end, y, 60) + 10
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="topology" width="{WIDTH}" height="{height:.0f}" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-label="cluster topology">'
    )
    return "\n".join([head, *edges, *vips, *nodes, *servers, "</svg>"])


# ----------------------------------------------------------------------------- tables


def _table(headers, rows, cls):
    out = [f'<table class="{cls}"><tr>' + "".join(f"<th>{esc(h)}</th>" for h in headers) + "</tr>"]
    for row in rows:
        cells = []
        for cell in row:
            if isinstance(cell, tuple):  # (value, state): coloured
                cells.append(f'<td class="state" style="color:{colour(cell[1])}">{esc(cell[0])}</td>')
            elif isinstance(cell, int) and not isinstance(cell, bool):
                cells.append(f'<td class="num">{cell}</td>')
            else:
                cells.append(f"<td>{esc(cell)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _services_table(model):
    rows = []
    for svc in model["services"]:
        laddrs = " ".join(svc["laddrs"])
        if svc.get("laddrs_live") is not None and svc["laddrs_live"] != svc["laddrs"]:
            laddrs += " (live: " + (" ".join(svc["laddrs_live"]) or "none") + ")"
        for index, rs in enumerate(svc["real_servers"] or [{}]):
            head = [svc["node"], svc["label"], svc["scheduler"], svc["owner"], laddrs, (svc["state"], svc["state"])]
            rows.append(
                (head if index == 0 else [""] * 6)
                + [
                    f"{rs['ip']}:{rs['port']}" if rs else "",
                    rs.get("forward"),
                    rs.get("weight"),
                    (rs.get("state"), rs.get("state")),
                ]
            )
    headers = ["node", "service", "scheduler", "owner", "local addresses", "service state"]
    return _table([*headers, "real server", "forward", "weight", "state"], rows, "services")


def _counters_table(model):
    rows = []
    for svc in (row for row in model["services"] if row["state"] != "declared"):
        entries = [(svc["label"], svc)] + [(f"  -> {rs['ip']}:{rs['port']}", rs) for rs in svc["real_servers"]]
        for label, entry in entries:
            stats = entry.get("stats") or {}
            rows.append(
                [svc["node"], label, entry.get("active_conns"), entry.get("inactive_conns")]
                + [stats.get(k) for k in ("conns", "inpkts", "outpkts", "inbytes", "outbytes")]
            )
    headers = [
        "node",
        "service / real server",
        "active",
        "inactive",
        "conns",
        "in pkts",
        "out pkts",
        "in bytes",
        "out bytes",
    ]
    return _table(headers, rows, "counters")


def _nodes_table(model):
    rows = []
    for node in model["nodes"]:
        workers = sum(len(n["workers"]) for n in node["numa"])
        ports = ", ".join(p["name"] for p in node["ports"])
        vrrp = ", ".join(v["name"] for v in node["vrrp"])
        rows.append(
            [
                node["name"],
                node["address"],
                "+".join(node["kinds"]),
                (node["health"], node["health"]),
                ports,
                workers if node["numa"] else "",
                vrrp,
            ]
        )
    return _table(["node", "address", "role", "health", "ports", "workers", "VRRP"], rows, "nodes")


def _drift_block(model):
    if not model["live"]:
        return (
            '<p class="note">Inventory alone: nothing was read from the hosts (dpvs_report_live=true reads DPVS).</p>'
        )
    if not model["drift"]:
        return '<p class="ok" id="drift">No drift: every DPVS node answers and serves what the inventory declares.</p>'
    items = "".join(f"<li>{esc(line)}</li>" for line in model["drift"])
    head = f"Live state differs from the inventory ({len(model['drift'])})"
    return f'<div class="drift" id="drift"><strong>{head}</strong><ul>{items}</ul></div>'


def page(model, title="DPVS cluster", generated=""):
    """The whole page: summary, drift, topology, tables."""
    summary = (
        f"{len(model['nodes'])} node(s), {len(model['vips'])} VIP(s), {len(model['services'])} service(s), "
        f"{len(model['real_servers'])} real server(s); "
        + ("live state read from DPVS" if model["live"] else "from the inventory alone")
    )
    others = "; ".join(f"{group}: {', '.join(names)}" for group, names in sorted(model["hosts"].items()) if names)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f'<p id="summary">{esc(summary)}' + (f"<br>generated {esc(generated)}" if generated else "") + "</p>",
        _drift_block(model),
        "<h2>Topology</h2>",
        svg(model),
        "<h2>Nodes</h2>",
        _nodes_table(model),
        "<h2>Services and real servers</h2>",
        _services_table(model),
    ]
    if model["live"]:
        parts += ["<h2>Counters</h2>", _counters_table(model)]
    problems = [(node["name"], problem) for node in model["nodes"] for problem in node["problems"]]
    if problems:
        items = "".join(f"<li>{esc(name)}: {esc(problem)}</li>" for name, problem in problems)
        parts += ["<h2>Inventory problems</h2>", f'<ul class="problems" id="problems">{items}</ul>']
    if others:
        parts.append(f'<p class="note">Other inventory hosts: {esc(others)}</p>')
    parts.append("</body></html>\n")
    return "\n".join(parts)
