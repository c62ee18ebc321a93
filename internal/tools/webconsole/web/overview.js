// overview.js: the overview page (#/): the cluster at a glance from
// GET /api/overview, refreshed every 5 seconds (rates are measured between
// two refreshes). A figure the console cannot know is "–", and the notes
// under the cards say why.
"use strict";

(() => {
  const { h, fmtInt, fmtBytes } = Console;
  const refreshMs = 5000;

  // rate(v, bytes): a per-second figure.
  function rate(v, bytes) {
    if (v === null || v === undefined) return "–";
    if (!bytes) return fmtInt(Math.round(v)) + "/s";
    return (v < 1024 ? Math.round(v) + " B" : fmtBytes(v)) + "/s";
  }

  function card(id, label, value, title) {
    return h("div", { class: "card", dataset: { figure: id }, title },
      h("div", { class: "label", text: label }),
      h("div", { class: "value", text: value }));
  }

  function view(o) {
    const cards = h("div", { class: "cards", id: "overview-cards" },
      card("brokers", "Brokers", fmtInt(o.brokers.length)),
      card("topics", "Topics", fmtInt(o.topics), o.internal_topics ? o.internal_topics + " internal" : undefined),
      card("partitions", "Partitions", fmtInt(o.partitions)),
      card("bytes-in", "Bytes in", rate(o.bytes_in_per_sec, true)),
      card("bytes-out", "Bytes out", rate(o.bytes_out_per_sec, true)),
      card("records-in", "Records in", rate(o.records_in_per_sec, false)),
      card("records-out", "Records out", rate(o.records_out_per_sec, false)),
      card("disk", "Disk used", o.disk_bytes === null || o.disk_bytes === undefined ? "–" : fmtBytes(o.disk_bytes)),
      card("version", "Courier version", o.version || "–"));
    const brokers = h("table", { id: "brokers" },
      h("thead", {}, h("tr", {}, h("th", { text: "Broker" }), h("th", { text: "Address" }), h("th", { text: "Rack" }), h("th", { text: "" }))),
      h("tbody", {}, o.brokers.map((b) => h("tr", { class: "broker-row", dataset: { broker: String(b.id) } },
        h("td", { class: "num", text: String(b.id) }),
        h("td", { class: "mono", text: b.host + ":" + b.port }),
        h("td", { text: b.rack || "–" }),
        h("td", {}, b.controller ? h("span", { class: "badge", text: "controller" }) : null)))));
    const parts = [
      h("h1", { text: "Overview" }),
      h("p", { class: "muted" }, "Cluster ", h("span", { class: "mono", id: "cluster-id", text: o.cluster_id || "–" }),
        " · figures from ", o.source === "metrics" ? "the broker's metrics (as /metrics)" : "the Kafka protocol",
        " · ", h("span", { id: "sampled-at", text: Console.fmtTime(Date.parse(o.sampled_at)) })),
      cards,
      h("h2", { text: "Brokers" }), brokers,
    ];
    const listeners = Object.entries(o.listeners || {}).sort();
    if (listeners.length) {
      parts.push(h("h2", { text: "Listeners" }), h("table", { id: "listeners" },
        h("thead", {}, h("tr", {}, h("th", { text: "Listener" }), h("th", { text: "Address" }))),
        h("tbody", {}, listeners.map(([name, addr]) => h("tr", {}, h("td", { text: name }), h("td", { class: "mono", text: addr }))))));
    }
    if (o.notes && o.notes.length) {
      parts.push(h("ul", { class: "notes muted", id: "overview-notes" }, o.notes.map((n) => h("li", { text: n }))));
    }
    return parts;
  }

  Console.route("/", async (params, main) => {
    const box = h("div", { id: "overview" });
    main.append(box);
    let stopped = false;
    let timer = null;
    Console.onLeave(() => { stopped = true; clearTimeout(timer); });
    async function load() {
      try {
        const o = await Console.api("GET", "/api/overview");
        if (stopped) return;
        box.replaceChildren(...view(o));
      } catch (e) {
        if (stopped) return;
        box.replaceChildren(h("h1", { text: "Overview" }), Console.errorBox(e));
      }
      if (!stopped) timer = setTimeout(load, refreshMs);
    }
    await load();
  });
})();
