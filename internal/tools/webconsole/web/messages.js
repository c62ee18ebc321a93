// messages.js: a topic's messages tab. Browse a partition (or all) from the
// oldest or newest record, an offset or a timestamp, a page at a time, next
// and previous; search with key, value (substring or RE2) and header
// filters, where every call says how much it scanned of how much and
// Continue goes on; a live tail (Server-Sent Events); export what is shown
// as JSON or CSV; produce a message. Keys, values and headers are attacker
// data: JSON is highlighted with spans built by Console.h, never markup.
"use strict";

const Messages = (() => {
  const { h, api, fmtInt, fmtTime } = Console;
  const enc = encodeURIComponent;
  const MAX_SHOWN = 2000;     // records kept on the page (tail and Continue add)
  const PRETTY_MAX = 65536;   // larger JSON is shown as text

  // bytesOf(data) are a key's or value's bytes (data from the API).
  function bytesOf(d) {
    if (d.encoding === "text") return new TextEncoder().encode(d.data);
    const bin = atob(d.data);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function hex(bytes) {
    const parts = [];
    for (const b of bytes) parts.push(b.toString(16).padStart(2, "0"));
    return parts.join(" ");
  }

  // jsonNodes(v): v pretty-printed as text nodes and highlighting spans.
  function jsonNodes(v) {
    const out = [];
    const pad = (n) => " ".repeat(n);
    (function walk(x, ind) {
      if (x === null || typeof x === "boolean") out.push(h("span", { class: "json-literal", text: String(x) }));
      else if (typeof x === "number") out.push(h("span", { class: "json-number", text: String(x) }));
      else if (typeof x === "string") out.push(h("span", { class: "json-string", text: JSON.stringify(x) }));
      else if (Array.isArray(x)) {
        if (!x.length) { out.push("[]"); return; }
        out.push("[\n");
        x.forEach((y, i) => { out.push(pad(ind + 2)); walk(y, ind + 2); out.push(i < x.length - 1 ? ",\n" : "\n"); });
        out.push(pad(ind) + "]");
      } else {
        const keys = Object.keys(x);
        if (!keys.length) { out.push("{}"); return; }
        out.push("{\n");
        keys.forEach((k, i) => {
          out.push(pad(ind + 2), h("span", { class: "json-key", text: JSON.stringify(k) }), ": ");
          walk(x[k], ind + 2);
          out.push(i < keys.length - 1 ? ",\n" : "\n");
        });
        out.push(pad(ind) + "}");
      }
    })(v, 0);
    return out;
  }

  // dataView(d, binary): a key, value or header value as the user sees it.
  function dataView(d, binary, cls) {
    if (d === null || d === undefined) return h("span", { class: "muted " + cls, text: "null" });
    const note = d.truncated ? h("div", { class: "muted small", text: "(first " + fmtInt(d.data.length) + " of " + fmtInt(d.size) + " bytes)" }) : null;
    if (d.encoding === "text") {
      const t = d.data.trim();
      if ((t.startsWith("{") || t.startsWith("[")) && t.length <= PRETTY_MAX && !d.truncated) {
        try { return h("pre", { class: "json " + cls }, jsonNodes(JSON.parse(t))); } catch (e) { /* not JSON: text */ }
      }
      return h("pre", { class: cls }, d.data, note);
    }
    const text = binary === "hex" ? hex(bytesOf(d)) : d.data;
    return h("pre", { class: "binary " + cls, title: binary }, h("span", { class: "badge", text: binary }), " ", text, note);
  }

  // CSV and JSON export of the shown records.
  function csvCell(v) {
    let s = v === null || v === undefined ? "" : String(v);
    // A cell a spreadsheet would run as a formula is quoted as text.
    if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
    if (/[",\r\n]/.test(s)) s = '"' + s.replace(/"/g, '""') + '"';
    return s;
  }
  function exportRows(recs) {
    return recs.map((m) => ({
      partition: m.partition, offset: m.offset, timestamp: new Date(m.timestamp).toISOString(), timestamp_type: m.timestamp_type,
      key: m.key ? m.key.data : null, key_encoding: m.key ? m.key.encoding : null,
      value: m.value ? m.value.data : null, value_encoding: m.value ? m.value.encoding : null,
      headers: m.headers.map((x) => ({ name: x.name, value: x.value ? x.value.data : null, encoding: x.value ? x.value.encoding : null })),
    }));
  }
  function toCSV(recs) {
    const cols = ["partition", "offset", "timestamp", "timestamp_type", "key", "key_encoding", "value", "value_encoding", "headers"];
    const lines = [cols.join(",")];
    for (const r of exportRows(recs)) lines.push(cols.map((c) => csvCell(c === "headers" ? JSON.stringify(r.headers) : r[c])).join(","));
    return lines.join("\r\n") + "\r\n";
  }
  function download(name, type, text) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const a = h("a", { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // render(panel, topic, partitions): the tab.
  function render(panel, topic, partitions) {
    const st = { shown: [], binary: "hex", query: null, cont: null, next: null, prev: null, tail: null };
    const field = (id, props) => h("input", Object.assign({ id }, props || {}));
    const partition = h("select", { id: "msg-partition" }, h("option", { value: "all" }, "All partitions"),
      partitions.map((p) => h("option", { value: String(p) }, "Partition " + p)));
    const from = h("select", { id: "msg-from" }, [["newest", "Newest"], ["oldest", "Oldest"], ["offset", "From offset"], ["timestamp", "From time"]].map(([v, l]) => h("option", { value: v }, l)));
    const offset = field("msg-offset", { type: "number", min: 0, placeholder: "offset", hidden: true });
    const stamp = field("msg-timestamp", { placeholder: "2026-01-02T03:04:05Z or ms", hidden: true });
    from.addEventListener("change", () => { offset.hidden = from.value !== "offset"; stamp.hidden = from.value !== "timestamp"; });
    const limit = field("msg-limit", { type: "number", min: 1, max: 1000, value: 50, class: "narrow" });
    const key = field("msg-key", { placeholder: "key contains" });
    const keyRe = field("msg-key-re", { type: "checkbox" });
    const value = field("msg-value", { placeholder: "value contains" });
    const valueRe = field("msg-value-re", { type: "checkbox" });
    const header = field("msg-header", { placeholder: "header name" });
    const headerValue = field("msg-header-value", { placeholder: "header value contains" });
    const binary = h("select", { id: "msg-binary", onchange: () => { st.binary = binary.value; draw(); } },
      h("option", { value: "hex" }, "binary as hex"), h("option", { value: "base64" }, "binary as base64"));
    const progress = h("div", { id: "msg-progress", class: "muted" });
    const errors = h("div", { id: "msg-error" });
    const cont = h("button", { id: "msg-continue", type: "button", hidden: true, onclick: () => fetchPage(st.cont, true) }, "Continue");
    const prev = h("button", { id: "msg-prev", type: "button", class: "secondary", disabled: true, onclick: () => fetchPage(st.prev, false) }, "← Previous");
    const next = h("button", { id: "msg-next", type: "button", class: "secondary", disabled: true, onclick: () => fetchPage(st.next, false) }, "Next →");
    const tailBtn = h("button", { id: "msg-tail", type: "button", class: "secondary", onclick: () => (st.tail ? stopTail("stopped") : startTail()) }, "Live tail");
    const tailStatus = h("span", { id: "msg-tail-status", class: "muted" });
    const count = h("span", { id: "msg-count", class: "muted" });
    const body = h("tbody");

    function filters() {
      const q = new URLSearchParams();
      if (partition.value !== "all") q.set("partition", partition.value);
      if (key.value) { q.set("key", key.value); if (keyRe.checked) q.set("key_regex", "1"); }
      if (value.value) { q.set("value", value.value); if (valueRe.checked) q.set("value_regex", "1"); }
      if (header.value) { q.set("header", header.value); if (headerValue.value) q.set("header_value", headerValue.value); }
      return q;
    }

    // fetchPage(cursor, append): a page from the form (cursor null) or a
    // cursor; append keeps what is shown (Continue).
    async function fetchPage(cursor, append) {
      errors.replaceChildren();
      const q = filters();
      q.set("limit", limit.value || "50");
      if (cursor) q.set("cursor", cursor);
      else {
        q.set("from", from.value);
        if (from.value === "offset") q.set("offset", offset.value || "0");
        if (from.value === "timestamp") q.set("timestamp", stamp.value.trim());
      }
      progress.textContent = "Reading…";
      try {
        const ans = await api("GET", "/api/topics/" + enc(topic) + "/messages?" + q.toString());
        st.shown = append ? st.shown.concat(ans.records).slice(-MAX_SHOWN) : ans.records;
        st.cont = ans.continue || null; st.next = ans.next || null; st.prev = ans.prev || null;
        showProgress(ans.progress);
        draw();
      } catch (e) {
        progress.textContent = "";
        errors.append(Console.errorBox(e));
      }
    }

    function showProgress(p) {
      const what = p.filter_active ? "Searched" : "Read";
      progress.replaceChildren(
        h("span", { id: "msg-scanned", text: what + " " + fmtInt(p.scanned) + " of " + fmtInt(p.total) + " records" +
          (p.backward ? " (newest first)" : "") + (p.done ? ": all of them." : ": stopped at the " + stopWhy(p.stopped) + ".") }),
        " ", h("span", { class: "small", text: "(this call: " + fmtInt(p.call_records) + " records in " + fmtInt(p.call_ms) + " ms)" }));
      progress.dataset.done = p.done ? "1" : "0";
      progress.dataset.scanned = String(p.scanned);
      progress.dataset.total = String(p.total);
      cont.hidden = p.done || !st.cont;
      next.disabled = !st.next; prev.disabled = !st.prev;
    }
    function stopWhy(s) {
      return { limit: "page size", records: "scan limit per call", bytes: "byte limit per call", time: "time limit per call", end: "end" }[s] || s;
    }

    function row(m) {
      const headers = m.headers.length ? h("div", { class: "headers" }, m.headers.map((x) =>
        h("div", { class: "header" }, h("span", { class: "header-name", text: x.name }), ": ", dataView(x.value, st.binary, "header-value")))) : h("span", { class: "muted", text: "–" });
      return h("tr", { class: "msg-row", dataset: { partition: m.partition, offset: m.offset } },
        h("td", { class: "num", text: m.partition }), h("td", { class: "num", text: m.offset }),
        h("td", { class: "nowrap" }, fmtTime(m.timestamp), h("div", { class: "muted small", text: m.timestamp_type })),
        h("td", { class: "msg-key" }, dataView(m.key, st.binary, "key")),
        h("td", { class: "msg-value" }, dataView(m.value, st.binary, "value")),
        h("td", { class: "msg-headers" }, headers));
    }
    function draw() {
      body.replaceChildren(...st.shown.map(row));
      if (!st.shown.length) body.append(h("tr", {}, h("td", { colspan: 6, class: "muted", text: "No records." })));
      count.textContent = fmtInt(st.shown.length) + " shown";
    }

    function startTail() {
      const q = filters();
      const es = new EventSource("/api/topics/" + enc(topic) + "/tail?" + q.toString());
      st.tail = es;
      tailBtn.textContent = "Stop tail";
      tailStatus.textContent = "Connecting…";
      let dropped = 0;
      es.addEventListener("ready", () => { tailStatus.textContent = "Live: new records appear at the top."; tailStatus.dataset.live = "1"; });
      es.addEventListener("record", (ev) => {
        const m = JSON.parse(ev.data);
        st.shown = [m].concat(st.shown).slice(0, MAX_SHOWN);
        body.prepend(row(m));
        if (body.children.length > MAX_SHOWN) body.lastElementChild.remove();
        const empty = body.querySelector("td[colspan]");
        if (empty) empty.parentElement.remove();
        count.textContent = fmtInt(st.shown.length) + " shown";
      });
      es.addEventListener("dropped", (ev) => {
        dropped += JSON.parse(ev.data).count;
        tailStatus.textContent = "Live; " + fmtInt(dropped) + " records dropped: the topic is written faster than this page shows.";
      });
      es.addEventListener("end", (ev) => stopTail(JSON.parse(ev.data).reason));
      es.onerror = () => stopTail("the connection was lost");
    }
    function stopTail(why) {
      if (st.tail) st.tail.close();
      st.tail = null;
      tailBtn.textContent = "Live tail";
      tailStatus.textContent = "Tail " + (why === "stopped" ? "stopped." : "ended: " + why);
      tailStatus.dataset.live = "0";
    }
    Console.onLeave(() => { if (st.tail) st.tail.close(); st.tail = null; });

    const form = h("form", { id: "msg-form", class: "msg-form", onsubmit: (e) => { e.preventDefault(); fetchPage(null, false); } },
      h("div", { class: "toolbar" }, partition, from, offset, stamp, h("label", {}, "Page ", limit),
        h("button", { id: "msg-search", type: "submit" }, "Read"), binary),
      h("div", { class: "toolbar" },
        key, h("label", { class: "small" }, keyRe, " regex"), value, h("label", { class: "small" }, valueRe, " regex"), header, headerValue));
    panel.append(form,
      h("div", { class: "toolbar" }, progress, cont),
      h("div", { class: "toolbar" }, prev, next, count, h("span", { class: "spacer" }), tailBtn, tailStatus,
        h("button", { id: "msg-export-json", type: "button", class: "secondary", onclick: () =>
          download(topic + "-messages.json", "application/json", JSON.stringify(exportRows(st.shown), null, 2)) }, "Export JSON"),
        h("button", { id: "msg-export-csv", type: "button", class: "secondary", onclick: () =>
          download(topic + "-messages.csv", "text/csv", toCSV(st.shown)) }, "Export CSV")),
      errors,
      h("table", { id: "messages" }, h("thead", {}, h("tr", {}, ["Partition", "Offset", "Timestamp", "Key", "Value", "Headers"].map((l, i) =>
        h("th", { class: i < 2 ? "num" : "" }, l)))), body),
      produceForm(topic, partitions));
    fetchPage(null, false);
  }

  // produceForm: key, value, headers (name=value lines), partition; sent
  // to REST Proxy v3's records endpoint as STRING key and value.
  function produceForm(topic, partitions) {
    const partition = h("select", { id: "produce-partition" }, h("option", { value: "" }, "Partition by key"),
      partitions.map((p) => h("option", { value: String(p) }, "Partition " + p)));
    const key = h("input", { id: "produce-key", placeholder: "key (empty: null)" });
    const value = h("textarea", { id: "produce-value", rows: 4, placeholder: "value" });
    const headers = h("textarea", { id: "produce-headers", rows: 2, placeholder: "name=value, one a line" });
    const result = h("div", { id: "produce-result" });
    const b64 = (s) => { const b = new TextEncoder().encode(s); let bin = ""; for (const x of b) bin += String.fromCharCode(x); return btoa(bin); };
    return h("details", { class: "card produce" }, h("summary", {}, "Produce a message"),
      h("form", { id: "produce-form", class: "stack", onsubmit: async (e) => {
        e.preventDefault();
        result.replaceChildren();
        try {
          const body = { value: { type: "STRING", data: value.value } };
          if (key.value !== "") body.key = { type: "STRING", data: key.value };
          if (partition.value !== "") body.partition_id = Number(partition.value);
          body.headers = headers.value.split("\n").filter((l) => l.trim()).map((l) => {
            const i = l.indexOf("=");
            if (i <= 0) throw new Error("header line without name=value: " + l);
            return { name: l.slice(0, i).trim(), value: b64(l.slice(i + 1)) };
          });
          const r = await Topics.v3("POST", "/topics/" + enc(topic) + "/records", body);
          result.append(h("div", { class: "ok-box", text: "Produced to partition " + r.partition_id + " at offset " + r.offset + " (" + r.timestamp + ")." }));
        } catch (err) { result.append(Console.errorBox(err)); }
      } }, h("label", {}, "Partition", partition), h("label", {}, "Key", key), h("label", {}, "Value", value),
      h("label", {}, "Headers", headers), h("div", {}, h("button", { id: "produce-submit", type: "submit" }, "Produce")), result));
  }

  return { render, toCSV, csvCell };
})();
