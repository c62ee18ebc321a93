// groups.js: the consumer groups pages.
//   #/groups        every group the user may describe (classic, consumer,
//                   share), searchable and sortable by id, type, state,
//                   members and lag;
//   #/groups/NAME   a group: members and assignments, offsets and lag per
//                   partition in records and in time, the lag history chart
//                   (hand-written SVG), offset reset with a preview, delete.
// Group names, client ids and hosts come from Kafka and may be hostile: the
// DOM is built with Console.h (textContent, setAttribute) and the chart with
// svg() below, the same way; never markup.
"use strict";

(() => {
  const { h, api, fmtInt, fmtDuration, fmtTime } = Console;

  // groupPath is a group's name in a path: every character escaped, dots
  // too (a group may be called "..", which a browser would resolve away).
  function groupPath(name) { return encodeURIComponent(name).replace(/\./g, "%2E"); }
  function groupURL(name) { return "/api/groups/" + groupPath(name); }

  function stateBadge(state) {
    const cls = state === "Stable" ? "badge ok" : state === "Empty" ? "badge" : state === "Dead" ? "badge bad" : "badge warn";
    return h("span", { class: cls }, state || "–");
  }

  // ---------------------------------------------------------------- list

  const columns = [
    { key: "group", label: "Group" },
    { key: "type", label: "Type" },
    { key: "state", label: "State" },
    { key: "members", label: "Members", num: true },
    { key: "lag", label: "Lag (records)", num: true },
  ];

  function compare(key) {
    return (a, b) => {
      const x = a[key], y = b[key];
      if (x === y) return a.group < b.group ? -1 : a.group > b.group ? 1 : 0;
      if (x === null || x === undefined) return 1; // unknown last
      if (y === null || y === undefined) return -1;
      if (typeof x === "number") return x - y;
      return String(x) < String(y) ? -1 : 1;
    };
  }

  Console.route("/groups", async (params, main) => {
    const started = performance.now();
    const search = h("input", { type: "search", id: "groups-search", placeholder: "Search groups", "aria-label": "Search groups", value: params.query.get("q") || "" });
    const status = h("span", { class: "muted", id: "groups-status" }, "Loading…");
    const tbody = h("tbody");
    const heads = {};
    let sortKey = params.query.get("sort") || "group";
    let sortDir = params.query.get("dir") === "desc" ? -1 : 1;
    const table = h("table", { id: "groups-table", class: "groups" },
      h("thead", null, h("tr", null, columns.map((c) => {
        heads[c.key] = h("th", { class: "sortable" + (c.num ? " num" : ""), dataset: { sort: c.key }, onclick: () => {
          sortDir = sortKey === c.key ? -sortDir : (c.num ? -1 : 1);
          sortKey = c.key;
          draw();
        } }, c.label);
        return heads[c.key];
      }))),
      tbody);
    main.append(h("h1", null, "Consumer groups"), h("div", { class: "toolbar" }, search, status), table);

    const data = await api("GET", "/api/groups");
    const all = data.groups || [];
    if (data.partial) main.insertBefore(h("p", { class: "error" }, "The listing may be incomplete: " + data.partial), table);

    function row(g) {
      return h("tr", { dataset: { group: g.group } },
        h("td", null, h("a", { href: "#/groups/" + groupPath(g.group), class: "group-link" }, g.group)),
        h("td", null, g.type),
        h("td", null, stateBadge(g.state)),
        h("td", { class: "num" }, fmtInt(g.members)),
        h("td", { class: "num", title: g.error || null }, fmtInt(g.lag), g.error ? h("span", { class: "badge bad", title: g.error }, "!") : null));
    }
    function draw() {
      const t0 = performance.now();
      const q = search.value.trim().toLowerCase();
      const shown = all.filter((g) => !q || g.group.toLowerCase().includes(q)).sort(compare(sortKey));
      if (sortDir < 0) shown.reverse();
      tbody.replaceChildren(...shown.map(row));
      if (shown.length === 0) tbody.append(h("tr", null, h("td", { colspan: columns.length, class: "muted" }, all.length ? "No group matches." : "No groups.")));
      for (const c of columns) {
        heads[c.key].classList.toggle("sorted", c.key === sortKey);
        heads[c.key].dataset.dir = c.key === sortKey ? (sortDir > 0 ? "asc" : "desc") : "";
      }
      const drawn = Math.round(performance.now() - t0);
      status.textContent = `${fmtInt(shown.length)} of ${fmtInt(all.length)} groups · the cluster answered in ${fmtInt(data.took_ms)} ms, drawn in ${drawn} ms`;
      table.dataset.renderMs = String(Math.round(performance.now() - started));
    }
    search.addEventListener("input", draw);
    draw();
  });

  // --------------------------------------------------------------- group

  Console.route("/groups/:name", async (params, main) => {
    const name = params.name;
    const summary = h("div", { class: "cards", id: "group-summary" });
    const members = h("div", { id: "group-members" });
    const partitions = h("div", { id: "group-partitions" });
    const history = h("div", { id: "group-history" });
    const deleteBox = h("div", { id: "delete-box" });
    const title = h("h1", null, "Group ", h("span", { class: "mono group-name" }, name));
    main.append(
      h("p", null, h("a", { href: "#/groups" }, "← Consumer groups")),
      title,
      h("div", { class: "toolbar" },
        h("button", { type: "button", class: "secondary", id: "group-refresh", onclick: () => load().catch(showError) }, "Refresh"),
        h("button", { type: "button", class: "danger", id: "group-delete", onclick: () => askDelete() }, "Delete group…")),
      deleteBox, summary,
      h("h2", null, "Members"), members,
      h("h2", null, "Offsets and lag"), partitions,
      h("h2", null, "Lag history (24 h)"), history,
      h("h2", null, "Reset offsets"));
    const reset = resetForm(name, () => load());
    main.append(reset.form);

    function showError(e) { summary.replaceChildren(Console.errorBox(e)); }

    let detail = null;
    async function load() {
      detail = await api("GET", groupURL(name));
      drawSummary(summary, detail);
      drawMembers(members, detail);
      drawPartitions(partitions, detail);
      reset.setTopics([...new Set(detail.partitions.map((p) => p.topic))]);
    }
    await load();

    // The chart follows the samples as they come.
    let timer = null;
    async function loadHistory() {
      try {
        const hist = await api("GET", groupURL(name) + "/lag-history");
        drawHistory(history, hist);
        clearTimeout(timer);
        timer = setTimeout(loadHistory, Math.max(hist.interval_ms || 60000, 2000));
      } catch (e) {
        history.replaceChildren(Console.errorBox(e));
      }
    }
    Console.onLeave(() => clearTimeout(timer));
    loadHistory();

    function askDelete() {
      const error = h("div");
      deleteBox.replaceChildren(h("div", { class: "card group-confirm", id: "delete-confirm", role: "alertdialog" },
        h("p", null, "Delete group ", h("strong", { class: "mono" }, name), " and its committed offsets? Kafka refuses to delete a group that has members."),
        h("div", { class: "toolbar" },
          h("button", { type: "button", class: "danger", id: "group-delete-confirm", onclick: async () => {
            try {
              await api("DELETE", groupURL(name));
              Console.toast("Group " + name + " deleted");
              Console.go("#/groups");
            } catch (e) {
              error.replaceChildren(Console.errorBox(e));
            }
          } }, "Delete " + name),
          h("button", { type: "button", class: "secondary", id: "group-delete-cancel", onclick: () => deleteBox.replaceChildren() }, "Cancel")),
        error));
    }
  });

  function card(label, value, id) {
    return h("div", { class: "card", id: id || null }, h("div", { class: "label" }, label), h("div", { class: "value" }, value));
  }

  function drawSummary(el, d) {
    el.replaceChildren(...[
      card("Type", d.type + (d.protocol_type && d.protocol_type !== d.type ? " (" + d.protocol_type + ")" : "")),
      card("State", stateBadge(d.state), "group-state"),
      card("Members", fmtInt(d.members.length), "group-member-count"),
      card("Lag (records)", fmtInt(d.total_lag), "group-total-lag"),
      card("Lag (time)", d.max_time_lag_ms === null ? "–" : fmtDuration(d.max_time_lag_ms), "group-time-lag"),
      card("Assignor", d.protocol || "–"),
      card("Coordinator", d.coordinator || "–"),
      d.epoch >= 0 ? card("Group epoch", fmtInt(d.epoch) + (d.assignment_epoch >= 0 && d.assignment_epoch !== d.epoch ? " (assignment " + fmtInt(d.assignment_epoch) + ")" : "")) : null,
    ].filter(Boolean));
    if (d.offsets_error) el.append(h("div", { class: "error" }, d.offsets_error));
  }

  function assignment(parts) {
    if (!parts || parts.length === 0) return "–";
    return parts.map((tp) => h("div", null, h("span", { class: "mono" }, tp.topic), ": ", tp.partitions.join(", ")));
  }

  function drawMembers(el, d) {
    if (d.members.length === 0) {
      el.replaceChildren(h("p", { class: "muted" }, "No members: the group is " + (d.state || "empty") + "."));
      return;
    }
    const consumer = d.type === "consumer";
    el.replaceChildren(h("table", { id: "members-table" },
      h("thead", null, h("tr", null, h("th", null, "Client id"), h("th", null, "Host"), h("th", null, "Instance id"),
        h("th", null, "Member id"), h("th", null, "Assigned"), consumer ? h("th", null, "Target") : null, h("th", null, "Subscribed"))),
      h("tbody", null, d.members.map((m) => h("tr", null,
        h("td", null, m.client_id),
        h("td", null, m.host),
        h("td", null, m.instance_id || "–"),
        h("td", { class: "mono" }, m.member_id),
        h("td", null, assignment(m.assigned)),
        consumer ? h("td", null, assignment(m.target)) : null,
        h("td", null, m.regex ? h("span", { class: "mono" }, m.regex) : (m.subscribed || []).join(", ") || "–"))))));
  }

  function timeLag(p) {
    if (p.lag === 0) return "–";
    if (p.time_lag_error) return h("span", { class: "badge bad", title: p.time_lag_error }, "?");
    return p.time_lag_ms === null ? "–" : fmtDuration(p.time_lag_ms);
  }

  function drawPartitions(el, d) {
    if (d.partitions.length === 0) {
      el.replaceChildren(h("p", { class: "muted" }, "No committed offsets and no assigned partitions."));
      return;
    }
    const share = d.type === "share";
    el.replaceChildren(h("table", { id: "partitions-table" },
      h("thead", null, h("tr", null, h("th", null, "Topic"), h("th", { class: "num" }, "Partition"),
        h("th", { class: "num" }, share ? "Start offset" : "Committed"), h("th", { class: "num" }, "End"),
        h("th", { class: "num" }, "Lag (records)"), h("th", { class: "num" }, "Lag (time)"), h("th", null, "Oldest unconsumed"),
        h("th", null, share ? "Members" : "Member"))),
      h("tbody", null, d.partitions.map((p) => {
        const at = share ? p.start : p.committed;
        return h("tr", { dataset: { topic: p.topic, partition: String(p.partition) } },
          h("td", { class: "mono" }, p.topic),
          h("td", { class: "num" }, String(p.partition)),
          h("td", { class: "num committed" }, at === null || at === undefined || at < 0 ? "–" : fmtInt(at)),
          h("td", { class: "num" }, p.end < 0 ? "–" : fmtInt(p.end)),
          h("td", { class: "num lag", title: p.error || null }, fmtInt(p.lag)),
          h("td", { class: "num time-lag" }, timeLag(p)),
          h("td", null, p.oldest_ms === null ? "–" : fmtTime(p.oldest_ms)),
          h("td", null, share ? String((p.members || []).length) : (p.client_id || "–")));
      }))));
  }

  // --------------------------------------------------------------- chart

  const SVG = "http://www.w3.org/2000/svg";

  // svg(tag, attrs, ...children): an SVG element, attributes set with
  // setAttribute and text with text nodes, as Console.h does for HTML.
  function svg(tag, attrs, ...children) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null) el.setAttribute(k, String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  // niceTicks returns about n round values from 0 to at least max.
  function niceTicks(max, n) {
    if (!(max > 0)) return [0, 1];
    const raw = max / n;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
    const ticks = [];
    for (let v = 0; v < max + step * 0.999; v += step) ticks.push(v);
    return ticks;
  }

  // timeTicks returns about n round durations (ms) from 0 to at least max.
  function timeTicks(max, n) {
    const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800].map((s) => s * 1000);
    const raw = Math.max(max, 1000) / n;
    const step = steps.find((s) => s >= raw) || Math.ceil(raw / 604800000) * 604800000;
    const ticks = [];
    for (let v = 0; v < Math.max(max, 1000) + step * 0.999; v += step) ticks.push(v);
    return ticks;
  }

  function compact(n) {
    if (n >= 1e9) return (n / 1e9).toFixed(n % 1e9 ? 1 : 0) + "G";
    if (n >= 1e6) return (n / 1e6).toFixed(n % 1e6 ? 1 : 0) + "M";
    if (n >= 1e3) return (n / 1e3).toFixed(n % 1e3 ? 1 : 0) + "k";
    return String(n);
  }
  function shortDuration(ms) {
    const s = ms / 1000;
    if (s < 60) return s + "s";
    if (s < 3600) return (s / 60) + "m";
    if (s < 86400) return (s / 3600).toFixed(s % 3600 ? 1 : 0) + "h";
    return (s / 86400).toFixed(s % 86400 ? 1 : 0) + "d";
  }
  function clock(ms, seconds) {
    const d = new Date(ms);
    const two = (v) => String(v).padStart(2, "0");
    return two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + (seconds ? ":" + two(d.getUTCSeconds()) : "");
  }

  // lagChart draws the samples: lag in records (left axis, solid) and in
  // time (right axis, dashed) over the window from the first sample (at
  // most 24 h ago) to now.
  function lagChart(hist) {
    const W = 960, H = 300, L = 72, R = 72, T = 34, B = 46;
    const pw = W - L - R, ph = H - T - B;
    const s = hist.samples;
    const x0 = Math.max(hist.from_ms, s[0].t - Math.max(hist.interval_ms, 1000)), x1 = Math.max(hist.now_ms, s[s.length - 1].t);
    const maxLag = Math.max(0, ...s.map((p) => p.lag || 0));
    const maxTime = Math.max(0, ...s.map((p) => p.time_lag_ms || 0));
    const lagTicks = niceTicks(maxLag, 4), tTicks = timeTicks(maxTime, 4);
    const yLagMax = lagTicks[lagTicks.length - 1] || 1, yTimeMax = tTicks[tTicks.length - 1] || 1;
    const x = (t) => L + (x1 === x0 ? pw : ((t - x0) / (x1 - x0)) * pw);
    const yL = (v) => T + ph - (v / yLagMax) * ph;
    const yT = (v) => T + ph - (v / yTimeMax) * ph;

    const g = svg("g");
    // Grid and the left axis (records).
    for (const v of lagTicks) {
      g.append(svg("line", { class: "grid", x1: L, x2: L + pw, y1: yL(v), y2: yL(v) }),
        svg("text", { class: "tick records", x: L - 8, y: yL(v) + 4, "text-anchor": "end" }, compact(v)));
    }
    // The right axis (time).
    for (const v of tTicks) {
      g.append(svg("text", { class: "tick time", x: L + pw + 8, y: yT(v) + 4, "text-anchor": "start" }, shortDuration(v)));
    }
    // The time axis.
    const span = x1 - x0, withSeconds = span < 10 * 60 * 1000;
    const step = [1e3, 2e3, 5e3, 10e3, 30e3, 60e3, 300e3, 600e3, 1800e3, 3600e3, 7200e3, 10800e3, 21600e3].find((st) => span / st <= 8) || 21600e3;
    for (let t = Math.ceil(x0 / step) * step; t <= x1; t += step) {
      g.append(svg("line", { class: "grid vertical", x1: x(t), x2: x(t), y1: T, y2: T + ph }),
        svg("text", { class: "tick", x: x(t), y: T + ph + 16, "text-anchor": "middle" }, clock(t, withSeconds || step < 60e3)));
    }
    g.append(svg("line", { class: "axis", x1: L, x2: L, y1: T, y2: T + ph }),
      svg("line", { class: "axis", x1: L + pw, x2: L + pw, y1: T, y2: T + ph }),
      svg("line", { class: "axis", x1: L, x2: L + pw, y1: T + ph, y2: T + ph }),
      svg("text", { class: "axis-title records", x: 14, y: T + ph / 2, transform: `rotate(-90 14 ${T + ph / 2})`, "text-anchor": "middle" }, "Lag (records)"),
      svg("text", { class: "axis-title time", x: W - 10, y: T + ph / 2, transform: `rotate(90 ${W - 10} ${T + ph / 2})`, "text-anchor": "middle" }, "Lag (time)"),
      svg("text", { class: "axis-title", x: L + pw / 2, y: H - 6, "text-anchor": "middle" }, "Time (UTC)"));
    // The series: a line per run of known values; dots when few.
    const series = (key, y, cls) => {
      let run = [];
      const flush = () => {
        if (run.length > 1) g.append(svg("polyline", { class: "series " + cls, points: run.join(" ") }));
        run = [];
      };
      for (const p of s) {
        const v = p[key];
        if (v === null || v === undefined) { flush(); continue; }
        run.push(x(p.t).toFixed(1) + "," + y(v).toFixed(1));
        if (s.length <= 120) g.append(svg("circle", { class: "dot " + cls, cx: x(p.t).toFixed(1), cy: y(v).toFixed(1), r: 2.5 },
          svg("title", null, clock(p.t, true) + " UTC: " + (key === "lag" ? fmtInt(v) + " records" : fmtDuration(v)))));
      }
      flush();
    };
    series("lag", yL, "records");
    series("time_lag_ms", yT, "time");
    const legend = svg("g", { class: "legend", transform: `translate(${L},${T - 26})` },
      svg("line", { class: "series records", x1: 0, x2: 18, y1: 6, y2: 6 }), svg("text", { x: 24, y: 10 }, "records"),
      svg("line", { class: "series time", x1: 96, x2: 114, y1: 6, y2: 6 }), svg("text", { x: 120, y: 10 }, "time"));
    return svg("svg", { class: "chart lag-chart", id: "lag-chart", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-label": "Lag history" },
      svg("title", null, "Lag history: " + s.length + " samples"), g, legend);
  }

  function drawHistory(el, hist) {
    const parts = [];
    if (!hist.available) {
      el.replaceChildren(h("p", { class: "muted", id: "history-reason" }, hist.reason));
      return;
    }
    if (hist.note) parts.push(h("p", { class: "muted", id: "history-note" }, hist.note));
    if (hist.samples.length === 0) {
      parts.push(h("p", { class: "muted", id: "history-empty" }, "No samples yet: the console samples every " + fmtDuration(hist.interval_ms) + "."));
    } else {
      parts.push(lagChart(hist), h("p", { class: "muted" }, hist.samples.length + " samples, one every " + fmtDuration(hist.interval_ms) + "; kept 24 h."));
    }
    el.replaceChildren(...parts);
  }

  // --------------------------------------------------------------- reset

  // resetForm builds the reset form of group name: a preview first, then
  // apply (enabled only after a preview of the same settings); after an
  // apply, reload() redraws the group.
  function resetForm(name, reload) {
    const mode = h("select", { id: "reset-mode", name: "mode" },
      h("option", { value: "earliest" }, "Earliest (log start)"), h("option", { value: "latest" }, "Latest (end)"),
      h("option", { value: "timestamp" }, "Timestamp"), h("option", { value: "offset" }, "Offset"));
    const ts = h("input", { id: "reset-timestamp", name: "timestamp", type: "text", placeholder: "2025-06-01T08:00:00Z or Unix ms" });
    const off = h("input", { id: "reset-offset", name: "offset", type: "number", min: "0", step: "1", placeholder: "offset" });
    const topic = h("select", { id: "reset-topic", name: "topic" }, h("option", { value: "" }, "All partitions of the group"));
    const tsLabel = h("label", { class: "reset-timestamp" }, "Time ", ts);
    const offLabel = h("label", { class: "reset-offset" }, "Offset ", off);
    const result = h("div", { id: "reset-result" });
    const preview = h("button", { type: "button", id: "reset-preview", class: "secondary" }, "Preview");
    const apply = h("button", { type: "button", id: "reset-apply", class: "danger", disabled: true }, "Apply");
    const form = h("form", { id: "reset", class: "reset" },
      h("p", { class: "muted" }, "Kafka moves the offsets only of a group without members: stop its consumers first. Preview the change, then apply it."),
      h("div", { class: "toolbar" }, h("label", null, "To ", mode), tsLabel, offLabel, h("label", null, "On ", topic), preview, apply),
      result);
    let previewed = null; // the body of the last preview

    function showFields() {
      tsLabel.hidden = mode.value !== "timestamp";
      offLabel.hidden = mode.value !== "offset";
    }
    function body() {
      const b = { mode: mode.value };
      if (mode.value === "timestamp") {
        const v = ts.value.trim();
        b.timestamp = /^\d+$/.test(v) ? Number(v) : v;
      }
      if (mode.value === "offset") b.offset = off.value.trim() === "" ? null : Number(off.value);
      if (topic.value) b.topics = [topic.value];
      return b;
    }
    function changed() {
      previewed = null;
      apply.disabled = true;
      showFields();
    }
    for (const el of [mode, ts, off, topic]) {
      el.addEventListener("change", changed);
      el.addEventListener("input", changed);
    }
    form.addEventListener("submit", (e) => e.preventDefault());
    showFields();

    function table(res) {
      return h("table", { id: res.applied ? "reset-applied-table" : "reset-preview-table" },
        h("thead", null, h("tr", null, h("th", null, "Topic"), h("th", { class: "num" }, "Partition"), h("th", { class: "num" }, "Current"),
          h("th", null, ""), h("th", { class: "num" }, "New"), h("th", { class: "num" }, "Lag after"), h("th", null, "Note"))),
        h("tbody", null, res.partitions.map((p) => h("tr", { dataset: { topic: p.topic, partition: String(p.partition) } },
          h("td", { class: "mono" }, p.topic), h("td", { class: "num" }, String(p.partition)),
          h("td", { class: "num current" }, p.current < 0 ? "–" : fmtInt(p.current)), h("td", null, "→"),
          h("td", { class: "num new" }, p.new < 0 ? "–" : fmtInt(p.new)),
          h("td", { class: "num lag-after" }, fmtInt(p.lag_after)),
          h("td", null, p.error ? h("span", { class: "error-text" }, p.error) : (p.note || ""))))));
    }

    preview.addEventListener("click", async () => {
      const b = body();
      result.replaceChildren(h("p", { class: "muted" }, "Computing…"));
      try {
        const res = await api("POST", groupURL(name) + "/offsets:reset", Object.assign({ preview: true }, b));
        result.replaceChildren(h("p", null, "Preview: nothing is changed until you apply."), table(res));
        if (res.error) result.append(h("div", { class: "error" }, res.error));
        previewed = b;
        apply.disabled = false;
      } catch (e) {
        result.replaceChildren(Console.errorBox(e));
      }
    });
    apply.addEventListener("click", async () => {
      if (!previewed) return;
      apply.disabled = true;
      try {
        const res = await api("POST", groupURL(name) + "/offsets:reset", previewed);
        result.replaceChildren(h("p", { id: "reset-done" }, "Offsets reset to " + res.to + "."), table(res));
        if (res.error) result.append(h("div", { class: "error" }, res.error));
        Console.toast("Offsets of " + name + " reset");
        previewed = null;
        await reload();
      } catch (e) {
        result.append(Console.errorBox(e));
      }
    });
    return {
      form,
      setTopics(topics) {
        const keep = topic.value;
        topic.replaceChildren(h("option", { value: "" }, "All partitions of the group"),
          topics.sort().map((t) => h("option", { value: t }, t)));
        topic.value = topics.includes(keep) ? keep : "";
      },
    };
  }
})();
