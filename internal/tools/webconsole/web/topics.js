// topics.js: the topic list (#/topics: search, sort by every column, a
// pager so that 10,000 topics render at once, create with configs after a
// validation) and a topic's page (#/topics/NAME: partitions, configs with
// defaults vs overrides, edit and reset, add partitions, delete with a
// typed confirmation, and the messages tab of messages.js). Every name and
// value comes from Kafka: built with Console.h only.
"use strict";

const Topics = (() => {
  const { h, api, fmtInt, fmtBytes } = Console;
  const PAGE = 200;           // rows rendered at a time
  const REFRESH_MS = 10000;   // the list's refresh (rates need two samples)
  let clusterId = null;

  // cluster() is the cluster's id, for REST Proxy v3 paths.
  async function cluster() {
    if (!clusterId) {
      const list = await api("GET", "/v3/clusters");
      clusterId = list.data[0].cluster_id;
    }
    return clusterId;
  }
  const enc = encodeURIComponent;
  async function v3(method, path, body) {
    return api(method, "/v3/clusters/" + enc(await cluster()) + path, body);
  }

  function fmtRate(v, bytes) {
    if (v === null || v === undefined) return "–";
    return bytes ? fmtBytes(Math.round(v)) + "/s" : (v < 10 ? v.toFixed(1) : fmtInt(Math.round(v))) + "/s";
  }

  // The list's columns: key in the row, label, numeric.
  const COLUMNS = [
    ["name", "Topic", false], ["partitions", "Partitions", true], ["replication_factor", "Replicas", true],
    ["records", "Records", true], ["bytes", "Size", true], ["records_per_sec", "Records/s", true],
    ["bytes_per_sec", "Bytes/s", true], ["internal", "Internal", false],
  ];

  function cell(t, key) {
    switch (key) {
      case "name": return h("td", {}, h("a", { href: "#/topics/" + enc(t.name), class: "topic-link", text: t.name }));
      case "records": return h("td", { class: "num", text: fmtInt(t.records) });
      case "bytes": return h("td", { class: "num", text: fmtBytes(t.bytes) });
      case "records_per_sec": return h("td", { class: "num", text: fmtRate(t.records_per_sec, false) });
      case "bytes_per_sec": return h("td", { class: "num", text: fmtRate(t.bytes_per_sec, true) });
      case "internal": return h("td", {}, t.internal ? h("span", { class: "badge", text: "internal" }) : "");
      default: return h("td", { class: "num", text: fmtInt(t[key]) });
    }
  }

  // compare orders rows by key; unknown numbers (null) sort last.
  function compare(key, dir) {
    return (a, b) => {
      const x = a[key], y = b[key];
      if (x === y) return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * dir;
    };
  }

  async function listPage(params, main) {
    const state = { topics: [], search: params.query.get("q") || "", sort: "name", dir: 1, shown: PAGE, internal: true };
    const search = h("input", { id: "topic-search", type: "search", placeholder: "Search topics", value: state.search,
      oninput: () => { state.search = search.value; state.shown = PAGE; draw(); } });
    const internal = h("input", { id: "topic-internal", type: "checkbox", checked: true,
      onchange: () => { state.internal = internal.checked; state.shown = PAGE; draw(); } });
    const count = h("span", { id: "topic-count", class: "muted" });
    const note = h("div", { id: "topic-note", class: "muted" });
    const head = h("tr", {}, COLUMNS.map(([key, label, num]) => h("th", {
      class: "sortable" + (num ? " num" : ""), dataset: { sort: key },
      onclick: () => { state.dir = state.sort === key ? -state.dir : (num ? -1 : 1); state.sort = key; draw(); },
    }, label)));
    const body = h("tbody");
    const more = h("button", { id: "topics-more", class: "secondary", onclick: () => { state.shown += PAGE * 5; draw(); } }, "Show more");
    const form = createForm(() => load());
    main.append(
      h("h1", {}, "Topics"),
      h("div", { class: "toolbar" }, search, h("label", {}, internal, " internal topics"), count,
        h("button", { id: "topic-create-open", onclick: () => { form.hidden = !form.hidden; } }, "Create topic")),
      form, note,
      h("table", { id: "topics" }, h("thead", {}, head), body),
      h("div", { class: "toolbar" }, more));

    function draw() {
      const t0 = performance.now();
      const q = state.search.toLowerCase();
      const rows = state.topics.filter((t) => (state.internal || !t.internal) && (!q || t.name.toLowerCase().includes(q)));
      rows.sort(compare(state.sort, state.dir));
      head.querySelectorAll("th").forEach((th) => {
        th.classList.toggle("sorted", th.dataset.sort === state.sort);
        th.classList.toggle("desc", th.dataset.sort === state.sort && state.dir < 0);
      });
      const show = rows.slice(0, state.shown);
      body.replaceChildren(...show.map((t) => h("tr", { class: "topic-row", dataset: { topic: t.name } },
        COLUMNS.map(([key]) => cell(t, key)))));
      if (!show.length) body.append(h("tr", {}, h("td", { colspan: COLUMNS.length, class: "muted", text: state.topics.length ? "No topic matches." : "No topics you may see." })));
      count.textContent = (rows.length === state.topics.length ? fmtInt(rows.length) : fmtInt(rows.length) + " of " + fmtInt(state.topics.length)) +
        " topics" + (rows.length > show.length ? ", showing " + fmtInt(show.length) : "");
      more.hidden = rows.length <= show.length;
      main.dataset.renderMs = String(Math.round(performance.now() - t0));
    }

    async function load() {
      try {
        const data = await api("GET", "/api/topics");
        state.topics = data.topics;
        note.textContent = data.size_error ? "Sizes unknown: " + data.size_error : "";
        draw();
      } catch (e) {
        note.replaceChildren(Console.errorBox(e));
      }
    }
    await load();
    const timer = setInterval(() => { if (!document.hidden) load(); }, REFRESH_MS);
    Console.onLeave(() => clearInterval(timer));
  }

  // configLines parses "name=value" lines into REST Proxy's configs.
  function configLines(text) {
    const out = [];
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (!line || line.startsWith("#")) continue;
      const i = line.indexOf("=");
      if (i <= 0) throw new Error("config line without name=value: " + line);
      out.push({ name: line.slice(0, i).trim(), value: line.slice(i + 1).trim() });
    }
    return out;
  }

  // createForm: name, partitions, replication factor, configs; Validate
  // asks the cluster (validate_only) before Create.
  function createForm(onCreated) {
    const name = h("input", { id: "create-name", required: true, placeholder: "orders" });
    const parts = h("input", { id: "create-partitions", type: "number", min: 1, placeholder: "cluster default" });
    const rf = h("input", { id: "create-rf", type: "number", min: 1, placeholder: "cluster default" });
    const configs = h("textarea", { id: "create-configs", rows: 3, placeholder: "retention.ms=86400000\ncleanup.policy=compact" });
    const result = h("div", { id: "create-result" });
    async function send(validateOnly) {
      result.replaceChildren();
      try {
        const body = { topic_name: name.value.trim(), configs: configLines(configs.value), validate_only: validateOnly };
        if (parts.value) body.partitions_count = Number(parts.value);
        if (rf.value) body.replication_factor = Number(rf.value);
        const t = await v3("POST", "/topics", body);
        if (validateOnly) {
          result.append(h("div", { class: "ok-box", text: "Valid: " + t.topic_name + " with " + t.partitions_count + " partitions, replication factor " + t.replication_factor + "." }));
        } else {
          Console.toast("Topic " + t.topic_name + " created");
          form.hidden = true;
          onCreated();
        }
      } catch (e) {
        result.append(Console.errorBox(e));
      }
    }
    const form = h("form", { id: "topic-create", class: "stack card", hidden: true, onsubmit: (e) => { e.preventDefault(); send(false); } },
      h("h2", {}, "Create a topic"),
      h("label", {}, "Name", name), h("label", {}, "Partitions", parts), h("label", {}, "Replication factor", rf),
      h("label", {}, "Configs (name=value, one a line)", configs),
      h("div", { class: "toolbar" },
        h("button", { id: "create-validate", type: "button", class: "secondary", onclick: () => send(true) }, "Validate"),
        h("button", { id: "create-submit", type: "submit" }, "Create")),
      result);
    return form;
  }

  async function topicPage(params, main) {
    const name = params.name;
    const title = h("h1", {}, "Topic ", h("span", { id: "topic-name", class: "mono-title", text: name }));
    main.append(h("p", {}, h("a", { href: "#/topics" }, "← Topics")), title);
    const info = await api("GET", "/api/topics/" + enc(name));
    if (info.internal) title.append(" ", h("span", { class: "badge", text: "internal" }));
    const tabs = ["messages", "partitions", "configs"];
    const panels = {};
    const bar = h("div", { class: "tabs" });
    const tab = params.query.get("tab") || "messages";
    for (const t of tabs) {
      panels[t] = h("section", { id: "tab-" + t, hidden: t !== tab });
      bar.append(h("button", { class: "tab" + (t === tab ? " active" : ""), dataset: { tab: t }, onclick: (e) => {
        bar.querySelectorAll(".tab").forEach((b) => b.classList.toggle("active", b === e.currentTarget));
        for (const k of tabs) panels[k].hidden = k !== t;
      } }, t[0].toUpperCase() + t.slice(1)));
    }
    main.append(h("div", { class: "toolbar" }, bar, h("span", { class: "spacer" }), deleteBox(name)), ...tabs.map((t) => panels[t]));
    drawPartitions(panels.partitions, info);
    drawConfigs(panels.configs, name).catch((e) => panels.configs.append(Console.errorBox(e)));
    Messages.render(panels.messages, name, info.partitions.map((p) => p.partition));
  }

  function drawPartitions(panel, info) {
    const count = h("input", { id: "add-partitions-count", type: "number", min: info.partitions.length + 1, value: info.partitions.length + 1 });
    const result = h("div");
    const add = h("form", { id: "add-partitions", class: "toolbar", onsubmit: async (e) => {
      e.preventDefault();
      result.replaceChildren();
      try {
        await api("POST", "/api/topics/" + enc(info.name) + "/partitions", { partitions_count: Number(count.value) });
        Console.toast("Topic " + info.name + " has " + count.value + " partitions");
        Console.render();
      } catch (err) { result.append(Console.errorBox(err)); }
    } }, "Partitions in all:", count, h("button", { id: "add-partitions-submit", type: "submit" }, "Add partitions"));
    const rows = info.partitions.map((p) => h("tr", { class: "partition-row", dataset: { partition: p.partition } },
      h("td", { class: "num", text: p.partition }), h("td", { class: "num", text: p.leader }),
      h("td", { text: p.replicas.join(", ") }), h("td", { text: (p.isr || []).join(", ") }),
      h("td", { class: "num", text: fmtInt(p.start_offset) }), h("td", { class: "num", text: fmtInt(p.end_offset) }),
      h("td", { class: "num", text: p.start_offset === null || p.end_offset === null ? "–" : fmtInt(p.end_offset - p.start_offset) }),
      h("td", { class: "num", text: fmtBytes(p.bytes) }), h("td", { class: "muted", text: p.error || "" })));
    panel.append(
      h("table", { id: "partitions" }, h("thead", {}, h("tr", {}, ["Partition", "Leader", "Replicas", "In sync", "Start offset", "End offset", "Records", "Size", ""].map((l, i) =>
        h("th", { class: i === 0 || (i > 3 && i < 8) || i === 1 ? "num" : "" }, l)))), h("tbody", {}, rows)),
      h("p", { class: "muted", text: info.size_error ? "Sizes unknown: " + info.size_error : "" }),
      h("h2", {}, "Add partitions"), add, result);
  }

  async function drawConfigs(panel, name) {
    const list = await v3("GET", "/topics/" + enc(name) + "/configs");
    const path = (c) => "/topics/" + enc(name) + "/configs/" + enc(c.name);
    const rows = list.data.map((c) => {
      const value = h("td", { class: "mono config-value", text: c.is_sensitive ? "(sensitive)" : (c.value === null ? "null" : c.value) });
      const actions = h("td", { class: "actions" });
      const row = h("tr", { class: "config-row", dataset: { config: c.name } },
        h("td", { class: "mono", text: c.name }, c.documentation ? h("div", { class: "muted small", text: c.documentation }) : null),
        value,
        h("td", {}, h("span", { class: c.is_default ? "badge" : "badge ok", text: c.is_default ? "default" : "override" })),
        h("td", { class: "muted", text: c.source }), actions);
      if (!c.is_read_only) {
        actions.append(h("button", { class: "secondary config-edit", onclick: () => {
          const input = h("input", { class: "config-input", value: c.value || "" });
          const err = h("div");
          value.replaceChildren(input, " ",
            h("button", { class: "config-save", onclick: async () => {
              try { await v3("PUT", path(c), { value: input.value }); Console.toast(c.name + " set"); await redraw(); } catch (e) { err.replaceChildren(Console.errorBox(e)); }
            } }, "Save"), " ",
            h("button", { class: "secondary", onclick: () => redraw() }, "Cancel"), err);
          input.focus();
        } }, "Edit"));
        if (!c.is_default) {
          actions.append(" ", h("button", { class: "secondary config-reset", onclick: async () => {
            try { await v3("DELETE", path(c)); Console.toast(c.name + " reset to its default"); await redraw(); } catch (e) { panel.prepend(Console.errorBox(e)); }
          } }, "Reset to default"));
        }
      }
      return row;
    });
    async function redraw() { panel.replaceChildren(); await drawConfigs(panel, name).catch((e) => panel.append(Console.errorBox(e))); }
    panel.append(h("table", { id: "configs" }, h("thead", {}, h("tr", {}, ["Config", "Value", "", "Source", ""].map((l) => h("th", {}, l)))), h("tbody", {}, rows)));
  }

  // deleteBox: Delete opens a confirmation that needs the topic's name
  // typed in full.
  function deleteBox(name) {
    const input = h("input", { id: "delete-confirm", placeholder: name, autocomplete: "off" });
    const submit = h("button", { id: "delete-submit", class: "danger", disabled: true, onclick: async () => {
      try {
        await v3("DELETE", "/topics/" + enc(name));
        Console.toast("Topic " + name + " deleted");
        Console.go("#/topics");
      } catch (e) { box.append(Console.errorBox(e)); }
    } }, "Delete for good");
    input.addEventListener("input", () => { submit.disabled = input.value !== name; });
    const box = h("div", { id: "delete-box", class: "card confirm", hidden: true },
      h("p", {}, "This deletes topic ", h("strong", { text: name }), " and all its records. Type its name to confirm:"),
      input, " ", submit, " ", h("button", { class: "secondary", onclick: () => { box.hidden = true; } }, "Cancel"));
    const open = h("button", { id: "topic-delete", class: "danger", onclick: () => { box.hidden = false; input.focus(); } }, "Delete topic");
    return h("span", { class: "delete-wrap" }, open, box);
  }

  Console.route("/topics", listPage);
  Console.route("/topics/:name", topicPage);
  return { cluster, v3 };
})();
