// netyard's page: the topology, its frames and tables, and the event list,
// over the live API (docs/live/api.md). Plain JS, no build step. Two modes
// from the same API: recorded (a finished mem run: step, rewind, play) and
// live (follow the event stream; tables from /api/v1/inspect).
(function () {
  "use strict";

  const API = "api/v1/";
  const PROTO_COLOURS = {
    bpdu: "#8e24aa", arp: "#fb8c00", icmp: "#1e88e5", tcp: "#43a047",
    udp: "#00897b", dns: "#e53935", vxlan: "#6d4c41", other: "#757575",
  };
  const CHECKPOINT = 256; // a snapshot of the fold every this many entries
  const MAX_DNS = 200; // DNS rows kept in the panel
  const MAX_PACKETS = 40; // frames animated at once
  const MAX_LIVE = 20000; // entries a live page holds

  const $ = (s) => document.querySelector(s);
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

  const ny = (window.netyard = { ready: false, cy: null, index: 0, total: 0, step: (n) => goTo(n), mode: "" });

  let world = null;
  let topo = null;
  let entries = []; // position i (from 1) is entries[i-1]
  let state = null; // the fold of entries[0..ny.index)
  let checkpoints = new Map(); // index -> a copy of the fold there
  let nodesByID = {};
  let macNames = {};
  let playing = null;
  let inspect = null; // live: the last /api/v1/inspect
  let renderQueued = false;
  let liRendered = 0;

  // --- protocol of a frame, from its summary ---
  function protocol(summary) {
    const s = summary || "";
    if (/UDP \d+ > 4789\b|UDP 4789 >/.test(s)) return "vxlan";
    if (s.includes("STP BPDU")) return "bpdu";
    if (s.includes(" ARP ")) return "arp";
    if (/ DNS\b/.test(s) || /UDP (\d+ > 53|53 >) /.test(s)) return "dns";
    if (s.includes(" TCP ")) return "tcp";
    if (s.includes(" UDP ")) return "udp";
    if (s.includes(" ICMP ")) return "icmp";
    return "other";
  }

  // --- the fold: tables as the events up to a position make them ---
  function initialState() {
    const st = { fdb: {}, stp: {}, root: {}, carrier: {}, nat: {}, dns: [], last: 0 };
    for (const n of topo.nodes) {
      if (n.kind !== "switch") continue;
      st.fdb[n.id] = {};
      if (n.stp) {
        st.stp[n.id] = {};
        for (const p of n.ports || []) st.stp[n.id][p.name] = { role: p.role || "", state: p.state || "", n: 0 };
      }
    }
    return st;
  }

  function apply(st, e) {
    st.last = e.n;
    const node = e.node;
    switch (e.kind) {
      case "learned":
      case "moved":
        (st.fdb[node] = st.fdb[node] || {})[e.src + "|" + (e.vlan || 0)] = { mac: e.src, vlan: e.vlan || 0, port: e.port, n: e.n };
        break;
      case "aged":
      case "flushed":
        if (st.fdb[node]) delete st.fdb[node][e.src + "|" + (e.vlan || 0)];
        break;
      case "stp": {
        const ports = (st.stp[node] = st.stp[node] || {});
        const p = e.port ? (ports[e.port] = ports[e.port] || { role: "", state: "", n: 0 }) : null;
        if (e.op === "role" && p) { p.role = e.role; p.n = e.n; }
        if (e.op === "state" && p) { p.state = e.state; p.n = e.n; }
        if (e.op === "root") st.root[node] = { root: e.root, cost: e.cost || 0, port: e.root_port || e.port || "", n: e.n };
        if (e.op === "claims-root") st.root[node] = { root: node, cost: 0, port: "", n: e.n };
        break;
      }
      case "state":
        if (e.port) st.carrier[node + ":" + e.port] = e.state;
        break;
      case "host":
        if (e.op === "carrier" && e.port) st.carrier[node + ":" + e.port] = e.state;
        if (e.op && e.op.startsWith("dns-")) {
          st.dns.push({ n: e.n, t: e.t, node: node, op: e.op, name: e.name || "", qtype: e.qtype || "", rcode: e.rcode || "", answers: (e.answers || []).join(", "), text: e.text });
          if (st.dns.length > MAX_DNS) st.dns.shift();
        }
        break;
      case "routed":
        if (e.nat_src || e.nat_dst) {
          const src = (e.src_ip || "") + (e.src_port ? ":" + e.src_port : "");
          const dst = (e.dst_ip || "") + (e.dst_port ? ":" + e.dst_port : "");
          const key = [node, e.proto, src, dst].join("|");
          const old = st.nat[key];
          st.nat[key] = { node: node, proto: e.proto || "", src: src, dst: dst, nsrc: e.nat_src || "", ndst: e.nat_dst || "", flow: e.nat_flow || (old ? old.flow : ""), count: (old ? old.count : 0) + 1, n: e.n };
        }
        break;
    }
  }

  function clone(st) {
    return typeof structuredClone === "function" ? structuredClone(st) : JSON.parse(JSON.stringify(st));
  }

  // foldTo returns the fold of the first n entries, from the nearest
  // checkpoint at or below n (or the current fold, if it is nearer).
  function foldTo(n) {
    let from = 0, st = null;
    if (state && ny.index <= n) { from = ny.index; st = state; }
    let best = -1;
    for (const k of checkpoints.keys()) if (k <= n && k > best) best = k;
    if (best >= 0 && (st === null || best > from)) { from = best; st = clone(checkpoints.get(best)); }
    if (st === null) { st = initialState(); from = 0; }
    for (let i = from; i < n; i++) {
      apply(st, entries[i]);
      if ((i + 1) % CHECKPOINT === 0 && !checkpoints.has(i + 1)) checkpoints.set(i + 1, clone(st));
    }
    return st;
  }

  // --- moving through the history ---
  function goTo(n) {
    n = Math.max(0, Math.min(entries.length, Math.floor(Number(n) || 0)));
    const prev = ny.index;
    if (n === prev && state) { render(); return; }
    state = foldTo(n);
    ny.index = n;
    ny.total = entries.length;
    if (n > prev && n - prev <= 50) animate(prev, n);
    updateEvents(prev, n);
    render();
  }

  // --- the graph ---
  function kindRank(n) {
    switch (n.kind) {
      case "gateway": return 1;
      case "switch": return n.network ? 2 : 0;
      case "nic": return 2;
      default: return 3;
    }
  }

  function linkLabel(l) {
    const parts = [];
    if (l.latency) parts.push(Math.round(l.latency * 1e6) / 1e3 + "ms");
    if (l.jitter) parts.push("±" + Math.round(l.jitter * 1e6) / 1e3 + "ms");
    if (l.loss) parts.push(Math.round(l.loss * 1e4) / 100 + "% loss");
    if (l.rate) parts.push(l.rate >= 1e6 ? l.rate / 1e6 + "Mbit/s" : l.rate / 1e3 + "kbit/s");
    return parts.join(" ");
  }

  function portOf(nodeID, port) {
    const n = nodesByID[nodeID];
    if (!n || !n.ports) return null;
    return n.ports.find((p) => p.name === port) || null;
  }

  function vlanLabel(l) {
    for (const end of [l.a, l.b]) {
      const p = portOf(end.node, end.port);
      if (!p) continue;
      if (p.mode === "trunk") {
        let s = "trunk " + (p.allowed && p.allowed.length ? p.allowed.join(",") : "all");
        if (p.native) s += " native " + p.native;
        return s;
      }
    }
    for (const end of [l.a, l.b]) {
      const p = portOf(end.node, end.port);
      if (p && p.vlan && p.vlan !== 1) return "vlan " + p.vlan;
    }
    return "";
  }

  function nodeLabel(n) {
    const lines = [n.label || n.id];
    if (n.kind === "switch" && n.network) lines.push("(" + n.network + ")");
    if (n.kind !== "switch") {
      for (const f of n.ifaces || []) if (f.addr) { lines.push(f.addr); break; }
    }
    for (const p of n.published || []) lines.push(p);
    return lines.join("\n");
  }

  function labelWidth(n, least) {
    const longest = Math.max(...n.data("label").split("\n").map((l) => l.length));
    return Math.max(least, 7 * longest + 14);
  }

  function buildGraph() {
    const els = [];
    for (const n of topo.nodes) {
      nodesByID[n.id] = n;
      for (const f of n.ifaces || []) if (f.mac) macNames[f.mac] = n.id;
      els.push({ group: "nodes", data: { id: n.id, kind: n.kind, label: nodeLabel(n), network: n.network || "", stp: !!n.stp }, classes: n.kind });
    }
    for (const l of topo.links) {
      const an = nodesByID[l.a.node], bn = nodesByID[l.b.node];
      const flip = an && bn && kindRank(an) > kindRank(bn);
      const s = flip ? l.b : l.a, t = flip ? l.a : l.b;
      const impair = linkLabel(l), vlan = vlanLabel(l);
      els.push({
        group: "edges",
        data: {
          id: l.id, source: s.node, target: t.node,
          a_node: l.a.node, a_port: l.a.port, b_node: l.b.node, b_port: l.b.port,
          a_state: "", b_state: "", up: l.up !== false,
          source_label: s.port, target_label: t.port,
          label: [vlan, impair].filter(Boolean).join("\n"),
          latency: l.latency || 0, loss: l.loss || 0, vlan: vlan,
        },
        classes: [impair ? "impaired" : "", vlan.startsWith("trunk") ? "trunk" : ""].filter(Boolean).join(" "),
      });
    }
    const cy = cytoscape({
      container: $("#graph"),
      elements: els,
      wheelSensitivity: 0.3,
      style: [
        { selector: "node", style: { label: "data(label)", "text-wrap": "wrap", "text-valign": "bottom", "text-margin-y": 4, "font-size": 10, "background-color": "#90a4ae", width: 28, height: 28, "border-width": 1, "border-color": "#546e7a" } },
        { selector: "node.switch", style: { shape: "round-rectangle", width: (n) => labelWidth(n, 46), height: (n) => 10 + 13 * n.data("label").split("\n").length, "background-color": "#42a5f5", "text-valign": "center", "text-margin-y": 0, color: "#fff", "font-weight": 600, "text-outline-color": "#1565c0", "text-outline-width": 1 } },
        { selector: "node.host", style: { shape: "ellipse", "background-color": "#cfd8dc" } },
        { selector: "node.container", style: { shape: "round-rectangle", "background-color": "#81c784" } },
        { selector: "node.gateway", style: { shape: "hexagon", width: 40, height: 34, "background-color": "#ffb74d", "text-valign": "center", "text-halign": "right", "text-margin-x": 8, "text-margin-y": 0, "text-justification": "left" } },
        { selector: "node.nic", style: { shape: "rectangle", width: 30, height: 18, "background-color": "#b0bec5" } },
        { selector: "node.client", style: { shape: "ellipse", "background-color": "#ce93d8" } },
        { selector: "node.node", style: { shape: "diamond", "background-color": "#ffd54f" } },
        { selector: "edge", style: { width: 3, "line-color": "#78909c", "curve-style": "bezier", label: "data(label)", "font-size": 9, "text-wrap": "wrap", "text-background-color": "#fff", "text-background-opacity": 0.8, "source-label": "data(source_label)", "target-label": "data(target_label)", "source-text-offset": 34, "target-text-offset": 34, "source-text-margin-y": -6, "target-text-margin-y": -6, color: "#37474f" } },
        { selector: "edge.trunk", style: { width: 5, "line-color": "#5c6bc0" } },
        { selector: "edge.impaired", style: { "line-color": "#ff8f00" } },
        { selector: "edge.blocked", style: { "line-style": "dashed", "line-color": "#e53935", "line-dash-pattern": [8, 5] } },
        { selector: "edge.down", style: { "line-style": "dotted", "line-color": "#bdbdbd", opacity: 0.6 } },
        { selector: "node.packet", style: { width: 11, height: 11, label: "", "background-color": "data(colour)", "border-width": 1, "border-color": "#fff", "z-index": 10 } },
      ],
      layout: { name: "dagre", rankDir: "TB", nodeSep: 70, rankSep: 100, edgeSep: 30, fit: true, padding: 30 },
    });
    ny.cy = cy;
    cy.on("tap", "node.packet", (ev) => showFrame(ev.target.data("n")));
    cy.on("tap", "edge", (ev) => {
      // the edge's last frame up to the position
      const id = ev.target.id();
      for (let i = ny.index - 1; i >= 0; i--) if (entries[i].kind === "frame" && entries[i].link === id) { showFrame(entries[i].n); return; }
    });
    const legend = Object.entries(PROTO_COLOURS).map(([k, c]) => '<span><i style="background:' + c + '"></i>' + k.toUpperCase() + "</span>").join("");
    $("#legend").innerHTML = legend + '<span style="color:#e53935">- - blocked</span><span style="color:#9e9e9e">··· down</span>';
  }

  function endState(node, port) {
    const sw = state.stp[node];
    if (!nodesByID[node] || nodesByID[node].kind !== "switch" || !sw) return "";
    const p = sw[port];
    return p ? p.state || "" : "";
  }

  function renderGraph() {
    const cy = ny.cy;
    cy.batch(() => {
      cy.edges().forEach((e) => {
        if (e.hasClass("packet")) return;
        const d = e.data();
        const as = liveSTPState(d.a_node, d.a_port) || endState(d.a_node, d.a_port);
        const bs = liveSTPState(d.b_node, d.b_port) || endState(d.b_node, d.b_port);
        e.data("a_state", as);
        e.data("b_state", bs);
        const blocked = (as !== "" && as !== "forwarding") || (bs !== "" && bs !== "forwarding");
        const down = !d.up || state.carrier[d.a_node + ":" + d.a_port] === "down" || state.carrier[d.b_node + ":" + d.b_port] === "down";
        e.toggleClass("blocked", blocked);
        e.toggleClass("down", down);
      });
    });
  }

  // animate draws the frames of entries (from, to] moving along their links.
  function animate(from, to) {
    const cy = ny.cy;
    const speed = Number($("#speed").value) || 5;
    const dur = Math.max(120, Math.min(700, 900 / speed));
    let started = cy.nodes(".packet").length;
    for (let i = from; i < to && started < MAX_PACKETS; i++) {
      const e = entries[i];
      if (e.kind !== "frame" || !e.link) continue;
      const edge = cy.getElementById(e.link);
      if (!edge || edge.empty()) continue;
      const d = edge.data();
      const fromNode = (e.port || "").split(":")[0] === d.b_node && e.port === d.b_node + ":" + d.b_port ? d.b_node : d.a_node;
      const toNode = fromNode === d.a_node ? d.b_node : d.a_node;
      const a = cy.getElementById(fromNode), b = cy.getElementById(toNode);
      if (a.empty() || b.empty()) continue;
      const dot = cy.add({ group: "nodes", data: { id: "pkt-" + e.n + "-" + Math.random().toString(36).slice(2, 7), n: e.n, colour: PROTO_COLOURS[protocol(e.summary)] }, classes: "packet", position: Object.assign({}, a.position()), selectable: false, grabbable: false });
      started++;
      dot.animate({ position: Object.assign({}, b.position()) }, { duration: dur, easing: "ease-in-out-sine", complete: () => dot.remove() });
    }
  }

  // --- the tables ---
  function liveSwitch(name) {
    if (!inspect || !atLiveEnd()) return null;
    return (inspect.switches || []).find((s) => s.name === name) || null;
  }

  function liveSTPState(node, port) {
    const s = liveSwitch(node);
    if (!s || !s.stp || !s.stp.enabled) return "";
    const p = (s.stp.ports || []).find((x) => x.name === port);
    return p ? p.state : "";
  }

  function atLiveEnd() { return world && !world.recorded && ny.index === entries.length; }

  function macLabel(mac) { return macNames[mac] ? mac + " (" + macNames[mac] + ")" : mac; }

  function renderFDB() {
    let html = "";
    for (const n of topo.nodes) {
      if (n.kind !== "switch") continue;
      let rows;
      const live = liveSwitch(n.id);
      if (live) rows = (live.fdb || []).map((r) => ({ mac: r.mac, vlan: r.vlan, port: r.port, age: r.age, fresh: false }));
      else rows = Object.values(state.fdb[n.id] || {}).map((r) => ({ mac: r.mac, vlan: r.vlan, port: r.port, fresh: r.n === state.last && r.n > 0 }));
      rows.sort((x, y) => (x.vlan - y.vlan) || (x.mac < y.mac ? -1 : x.mac > y.mac ? 1 : 0));
      html += '<table data-switch="' + esc(n.id) + '"><caption>' + esc(n.id) + "</caption><tr><th>MAC</th><th>VLAN</th><th>port</th></tr>";
      if (!rows.length) html += '<tr class="none"><td colspan="3" class="empty">nothing learned</td></tr>';
      for (const r of rows) html += '<tr data-mac="' + esc(r.mac) + '" data-vlan="' + r.vlan + '" data-port="' + esc(r.port) + '"' + (r.fresh ? ' class="fresh"' : "") + "><td>" + esc(macLabel(r.mac)) + "</td><td>" + r.vlan + "</td><td>" + esc(r.port) + "</td></tr>";
      html += "</table>";
    }
    $("#fdb").innerHTML = html || '<p class="empty">no switches</p>';
  }

  function renderSTP() {
    let html = "", any = false;
    html += "<table><tr><th>switch</th><th>port</th><th>role</th><th>state</th></tr>";
    for (const n of topo.nodes) {
      if (n.kind !== "switch" || !n.stp) continue;
      any = true;
      const live = liveSwitch(n.id);
      let ports;
      if (live && live.stp) ports = (live.stp.ports || []).map((p) => ({ port: p.name, role: p.role, state: p.state, fresh: false }));
      else ports = Object.entries(state.stp[n.id] || {}).map(([port, p]) => ({ port: port, role: p.role, state: p.state, fresh: p.n === state.last && p.n > 0 }));
      const root = state.root[n.id];
      for (const p of ports) {
        const isRootPort = root && root.port === p.port;
        html += '<tr data-switch="' + esc(n.id) + '" data-port="' + esc(p.port) + '"' + (p.fresh ? ' class="fresh"' : "") + "><td>" + esc(n.id) + "</td><td>" + esc(p.port) + (isRootPort ? " ★" : "") + '</td><td class="role">' + esc(p.role) + '</td><td class="state ' + esc(p.state) + '">' + esc(p.state) + "</td></tr>";
      }
    }
    html += "</table>";
    $("#stp").innerHTML = any ? html : '<p class="empty">no switch runs spanning tree</p>';
  }

  function renderNAT() {
    let rows = [];
    let live = false;
    if (inspect && atLiveEnd()) {
      live = true;
      for (const g of inspect.gateways || []) for (const f of g.nat || []) rows.push({ node: g.name, kind: f.kind, proto: f.proto, src: f.orig_src, dst: f.orig_dst, nsrc: f.reply_dst, ndst: f.reply_src, flow: f.state });
    } else {
      rows = Object.values(state.nat).map((r) => Object.assign({ fresh: r.n === state.last }, r));
    }
    if (!rows.length) { $("#nat").innerHTML = '<p class="empty">no translated flow' + (live ? "" : " yet") + "</p>"; return; }
    let html = "<table><tr><th>gateway</th><th>proto</th><th>packet</th><th>translated</th><th>flow</th></tr>";
    for (const r of rows) html += '<tr data-gateway="' + esc(r.node) + '" data-proto="' + esc(r.proto) + '"' + (r.fresh ? ' class="fresh"' : "") + "><td>" + esc(r.node) + "</td><td>" + esc(r.proto) + "</td><td>" + esc(r.src) + " → " + esc(r.dst) + "</td><td>" + esc(r.nsrc) + " → " + esc(r.ndst) + "</td><td>" + esc(r.flow) + (r.count > 1 ? " ×" + r.count : "") + "</td></tr>";
    $("#nat").innerHTML = html + "</table>";
  }

  function renderDNS() {
    const rows = state.dns;
    if (!rows.length) { $("#dns").innerHTML = '<p class="empty">no DNS query yet</p>'; return; }
    let html = "<table><tr><th>t</th><th>node</th><th>what</th><th>name</th><th>answer</th></tr>";
    for (let i = rows.length - 1; i >= 0; i--) {
      const r = rows[i];
      html += '<tr data-n="' + r.n + '" title="' + esc(r.text) + '"' + (r.n === state.last ? ' class="fresh"' : "") + "><td>" + Number(r.t).toFixed(3) + "</td><td>" + esc(r.node) + "</td><td>" + esc(r.op.replace(/^dns-/, "")) + "</td><td>" + esc(r.qtype + " " + r.name) + "</td><td>" + esc(r.rcode + (r.answers ? " " + r.answers : "")) + "</td></tr>";
    }
    $("#dns").innerHTML = html + "</table>";
  }

  function render() {
    if (renderQueued) return;
    renderQueued = true;
    const run = () => {
      renderQueued = false;
      renderGraph();
      renderSTP();
      renderFDB();
      renderNAT();
      renderDNS();
      $("#pos").max = String(entries.length);
      $("#pos").value = String(ny.index);
      const cur = entries[ny.index - 1];
      $("#where").textContent = ny.index + " / " + entries.length + (cur ? "  t=" + Number(cur.t).toFixed(3) + "s" : "");
    };
    // Render now (the browser test reads the page right after step(n)).
    run();
  }

  // --- the event list ---
  function appendEvents() {
    if (liRendered >= entries.length) return;
    const parts = [];
    for (let i = liRendered; i < entries.length; i++) {
      const e = entries[i];
      parts.push('<li data-n="' + e.n + '" data-i="' + (i + 1) + '" data-kind="' + esc(e.kind) + '" class="' + (e.kind === "frame" ? "frame proto-" + protocol(e.summary) : "kind-" + e.kind) + (i + 1 > ny.index ? " future" : "") + '"><span class="t">' + Number(e.t).toFixed(6) + "s</span>" + esc(e.text) + "</li>");
    }
    $("#events").insertAdjacentHTML("beforeend", parts.join(""));
    liRendered = entries.length;
  }

  function liAt(i) { return i >= 1 ? $("#events").children[i - 1] || null : null; }

  function updateEvents(prev, n) {
    const list = $("#events").children;
    const lo = Math.min(prev, n), hi = Math.max(prev, n);
    for (let i = lo; i < hi && i < list.length; i++) list[i].classList.toggle("future", i >= n);
    const old = $("#events li.current");
    if (old) old.classList.remove("current");
    const cur = liAt(n);
    if (cur) {
      cur.classList.add("current");
      const box = $("#events-wrap");
      const top = cur.offsetTop, bottom = top + cur.offsetHeight;
      if (top < box.scrollTop || bottom > box.scrollTop + box.clientHeight) box.scrollTop = top - box.clientHeight / 2;
    }
  }

  async function showFrame(n) {
    const box = $("#frame");
    box.innerHTML = '<p class="hint">decoding frame ' + n + "…</p>";
    try {
      const r = await fetch(API + "frames/" + n);
      const f = await r.json();
      if (!r.ok) { box.innerHTML = '<p class="empty">' + esc(f.error || r.statusText) + "</p>"; return; }
      box.innerHTML = '<p data-frame="' + f.n + '"><b>event ' + f.n + "</b> on " + esc(f.link) + " from " + esc(f.from) + ", " + f.len + " bytes<br>" + esc(f.summary) + '</p><p><a id="pcap" href="' + API + "frames/" + f.n + '.pcapng" download="frame-' + f.n + '.pcapng">this frame as pcapng</a></p><pre class="decode">' + esc(f.decode) + "</pre>";
      $("#frame-wrap").open = true;
    } catch (err) {
      box.innerHTML = '<p class="empty">' + esc(String(err)) + "</p>";
    }
  }

  // --- controls ---
  function stopPlay() {
    if (playing) { clearInterval(playing); playing = null; }
    $("#play").innerHTML = "&#9654;";
  }

  function startPlay() {
    stopPlay();
    if (ny.index >= entries.length && world.recorded) goTo(0);
    const speed = Number($("#speed").value) || 5;
    const tick = Math.max(16, 1000 / speed);
    const per = Math.max(1, Math.round(speed * tick / 1000));
    playing = setInterval(() => {
      if (ny.index >= entries.length) { if (world.recorded) stopPlay(); return; }
      goTo(ny.index + per);
    }, tick);
    $("#play").innerHTML = "&#10074;&#10074;";
  }

  function nextDecision() {
    for (let i = ny.index; i < entries.length; i++) if (entries[i].kind !== "frame") { goTo(i + 1); return; }
    goTo(entries.length);
  }

  function wireControls() {
    $("#back").onclick = () => { stopPlay(); goTo(ny.index - 1); };
    $("#fwd").onclick = () => { stopPlay(); goTo(ny.index + 1); };
    $("#next").onclick = () => { stopPlay(); nextDecision(); };
    $("#play").onclick = () => (playing ? stopPlay() : startPlay());
    $("#speed").onchange = () => { if (playing) startPlay(); };
    $("#pos").oninput = (ev) => { stopPlay(); goTo(Number(ev.target.value)); };
    $("#hideframes").onchange = (ev) => document.body.classList.toggle("hideframes", ev.target.checked);
    $("#events").onclick = (ev) => {
      const li = ev.target.closest("li[data-n]");
      if (!li) return;
      stopPlay();
      goTo(Number(li.dataset.i));
      if (li.dataset.kind === "frame") showFrame(li.dataset.n);
    };
    document.addEventListener("keydown", (ev) => {
      if (ev.target.tagName === "INPUT" || ev.target.tagName === "SELECT") return;
      if (ev.key === "ArrowRight") { stopPlay(); goTo(ny.index + 1); ev.preventDefault(); }
      if (ev.key === "ArrowLeft") { stopPlay(); goTo(ny.index - 1); ev.preventDefault(); }
      if (ev.key === " ") { playing ? stopPlay() : startPlay(); ev.preventDefault(); }
    });
  }

  // --- live: follow the stream ---
  let inspectTimer = null, inspectDue = false;
  function refreshInspect() {
    if (inspectTimer) { inspectDue = true; return; }
    inspectTimer = setTimeout(async () => {
      try {
        const r = await fetch(API + "inspect");
        if (r.ok) { inspect = await r.json(); render(); }
      } catch (err) { /* the world may be gone */ }
      inspectTimer = null;
      if (inspectDue) { inspectDue = false; refreshInspect(); }
    }, 1000);
  }

  function addLive(list) {
    const last = entries.length ? entries[entries.length - 1].n : 0;
    const fresh = list.filter((e) => e.n > last);
    if (!fresh.length) return;
    const following = ny.index === entries.length;
    for (const e of fresh) entries.push(e);
    if (entries.length > MAX_LIVE) {
      // Start over from the newest half: the fold restarts there, the tables come from inspect.
      const drop = entries.length - MAX_LIVE / 2;
      entries = entries.slice(drop);
      checkpoints = new Map();
      state = null;
      ny.index = following ? 0 : Math.max(0, ny.index - drop);
      $("#events").innerHTML = "";
      liRendered = 0;
    }
    ny.total = entries.length;
    appendEvents();
    if (following) goTo(entries.length); else render();
    refreshInspect();
  }

  function follow() {
    const src = new EventSource(API + "events?frames=1");
    src.addEventListener("trace", (m) => {
      try { addLive([JSON.parse(m.data)]); } catch (err) { /* a malformed line: skip it */ }
    });
    src.addEventListener("dropped", (m) => { $("#status").textContent = "the stream dropped " + JSON.parse(m.data).dropped + " events (the page was slow)"; });
    src.onopen = async () => {
      $("#status").textContent = "live";
      const last = entries.length ? entries[entries.length - 1].n : 0;
      try { const h = await (await fetch(API + "history?from=" + (last + 1))).json(); addLive(h.entries || []); } catch (err) { /* keep following */ }
    };
    src.onerror = () => { $("#status").textContent = "the world's stream is gone (retrying)"; };
  }

  // --- start ---
  async function start() {
    try {
      world = await (await fetch(API + "world")).json();
      topo = await (await fetch(API + "topology")).json();
      const h = await (await fetch(API + "history")).json();
      entries = h.entries || [];
    } catch (err) {
      $("#status").textContent = "could not load the world: " + err;
      return;
    }
    ny.mode = world.recorded ? "recorded" : "live";
    $("#name").textContent = topo.name || world.name || "netyard";
    document.title = "netyard: " + (topo.name || world.name || "");
    $("#mode").textContent = world.recorded ? "recorded " + world.backend + " run, " + Number(world.elapsed).toFixed(3) + "s" + (world.virtual ? " virtual" : "") : "live " + world.backend + " world" + (world.run ? " " + world.run : "");
    buildGraph();
    wireControls();
    state = initialState();
    ny.index = 0;
    ny.total = entries.length;
    appendEvents();
    const at = /(?:^#|&)n=(\d+)/.exec(location.hash); // #n=N: open at entry N
    if (world.recorded) {
      goTo(at ? Number(at[1]) : 0);
    } else {
      goTo(entries.length);
      follow();
      refreshInspect();
    }
    render();
    ny.ready = true;
  }

  start();
})();
