// The demo page: polls /api/state once a second and draws the riders on the
// city map (coloured by the partition they were read from; hollow while
// they are only restored from rider-latest, not moved since), the consumer
// groups with their members, partitions and lag, the size of both topics,
// and throughput charts.
// No libraries and no network beyond this server.
"use strict";

const COLORS = ["#e4572e", "#3355aa", "#17a398", "#e0a400", "#8e44ad", "#2c3e50", "#d35400", "#16a085"];
const color = (p) => COLORS[((p % COLORS.length) + COLORS.length) % COLORS.length];
const fmt = (n) => n >= 1e6 ? (n / 1e6).toFixed(2) + "M" : n >= 1e4 ? (n / 1e3).toFixed(1) + "k" : Math.round(n).toString();
const fmtBytes = (n) => n < 0 ? "?" : n >= 1 << 30 ? (n / (1 << 30)).toFixed(2) + " GiB" : n >= 1 << 20 ? (n / (1 << 20)).toFixed(1) + " MiB" : n >= 1 << 10 ? (n / (1 << 10)).toFixed(1) + " KiB" : n + " B";

const page = { city: null, state: null, frames: 0, errors: 0 };
window.__courier = page; // read by the browser test

async function getJSON(path) {
  const r = await fetch(path, { cache: "no-store" });
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}

// project maps lat/lon to canvas pixels, equirectangular with the
// longitude scaled by cos(latitude) so that the city keeps its shape.
function projector(box, w, h) {
  const k = Math.cos(((box.MinLat + box.MaxLat) / 2) * Math.PI / 180);
  const bw = (box.MaxLon - box.MinLon) * k, bh = box.MaxLat - box.MinLat;
  const s = Math.min(w / bw, h / bh);
  const ox = (w - bw * s) / 2, oy = (h - bh * s) / 2;
  return (lat, lon) => [ox + (lon - box.MinLon) * k * s, oy + (box.MaxLat - lat) * s];
}

function sizeCanvas(cv, h) {
  const dpr = window.devicePixelRatio || 1;
  const w = cv.clientWidth;
  if (cv.width !== Math.round(w * dpr) || cv.height !== Math.round(h * dpr)) {
    cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr);
    cv.style.height = h + "px";
  }
  const ctx = cv.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return [ctx, w, h];
}

function drawMap() {
  const cv = document.getElementById("map");
  const city = page.city, st = page.state;
  if (!city) return;
  const box = city.box;
  const k = Math.cos(((box.MinLat + box.MaxLat) / 2) * Math.PI / 180);
  const aspect = (box.MaxLat - box.MinLat) / ((box.MaxLon - box.MinLon) * k);
  const [ctx, w, h] = sizeCanvas(cv, Math.max(320, Math.min(760, cv.clientWidth * aspect)));
  const P = projector(box, w, h);
  ctx.clearRect(0, 0, w, h);
  const [x0, y0] = P(box.MaxLat, box.MinLon), [x1, y1] = P(box.MinLat, box.MaxLon);
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  if (city.mode === "region") {
    // The four regions are the triangles cut by the box's diagonals.
    const tris = [[[x0, y0], [x1, y0]], [[x1, y1], [x0, y1]], [[x1, y0], [x1, y1]], [[x0, y1], [x0, y0]]];
    tris.forEach((t, i) => {
      ctx.fillStyle = color(i) + "18";
      ctx.beginPath(); ctx.moveTo(cx, cy); ctx.lineTo(t[0][0], t[0][1]); ctx.lineTo(t[1][0], t[1][1]); ctx.closePath(); ctx.fill();
    });
    // Each label sits inside its region at the box's edge (its CSS class
    // anchors it there), on top of the riders.
    const at = [[cx, y0 + 4], [cx, y1 - 4], [x1 - 4, cy], [x0 + 4, cy]];
    document.querySelectorAll(".region-label").forEach((el, i) => {
      el.style.left = at[i][0] + "px"; el.style.top = at[i][1] + "px";
    });
  }
  ctx.strokeStyle = "#d5d7dc"; ctx.lineWidth = 1.2;
  ctx.beginPath();
  for (const s of city.streets) {
    const [a, b] = P(s[0], s[1]), [c, d] = P(s[2], s[3]);
    ctx.moveTo(a, b); ctx.lineTo(c, d);
  }
  ctx.stroke();
  ctx.strokeStyle = "#9aa0aa"; ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
  let drawn = 0;
  if (st) {
    ctx.lineWidth = 1.2;
    for (const r of st.riders) {
      const [x, y] = P(r[1], r[2]);
      ctx.beginPath(); ctx.arc(x, y, 3, 0, 2 * Math.PI);
      // Restored from rider-latest, not moved since: hollow.
      if (r[4]) { ctx.strokeStyle = color(r[3]); ctx.stroke(); } else { ctx.fillStyle = color(r[3]); ctx.fill(); }
      drawn++;
    }
  }
  cv.dataset.riders = drawn;
  page.frames++;
}

function drawChart(id, series, label, col) {
  const cv = document.getElementById(id);
  const [ctx, w, h] = sizeCanvas(cv, 72);
  ctx.clearRect(0, 0, w, h);
  const maxV = Math.max(1, ...series) * 1.15;
  ctx.strokeStyle = "#eee"; ctx.lineWidth = 1;
  for (let i = 1; i < 4; i++) { ctx.beginPath(); ctx.moveTo(0, h * i / 4); ctx.lineTo(w, h * i / 4); ctx.stroke(); }
  if (series.length > 1) {
    ctx.strokeStyle = col; ctx.lineWidth = 2; ctx.beginPath();
    const n = 120;
    series.forEach((v, i) => {
      const x = w - (series.length - 1 - i) * (w / (n - 1)), y = h - (v / maxV) * (h - 4);
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.stroke();
  }
  // The label is HTML above the chart, so that it wraps on a narrow screen.
  const last = series.length ? series[series.length - 1] : 0;
  document.getElementById(id + "-label").textContent = label + ": " + fmt(last) + " (max " + fmt(Math.max(0, ...series)) + ")";
}

// plural is "1 member", "2 members".
const plural = (n, word) => n + " " + word + (n === 1 ? "" : "s");

function chip(p, text) {
  const s = document.createElement("span");
  s.className = "chip"; s.style.background = color(p); s.dataset.partition = p;
  s.textContent = text;
  return s;
}

function renderGroups(groups) {
  const root = document.getElementById("groups");
  root.replaceChildren();
  for (const g of groups || []) {
    const div = document.createElement("div");
    div.className = "group"; div.dataset.group = g.group; div.dataset.state = g.state || "";
    const head = document.createElement("div"); head.className = "head";
    head.innerHTML = `<span class="name"></span><span class="meta"></span>`;
    head.querySelector(".name").textContent = g.group;
    head.querySelector(".meta").textContent = [g.state, g.protocol, plural((g.members || []).length, "member"), "lag " + fmt(g.lag || 0)].filter(Boolean).join(" · ");
    div.appendChild(head);
    for (const m of g.members || []) {
      const row = document.createElement("div"); row.className = "member"; row.dataset.client = m.client_id;
      const cid = document.createElement("span"); cid.className = "cid"; cid.textContent = m.client_id;
      const host = document.createElement("span"); host.className = "host"; host.textContent = m.host;
      const ps = document.createElement("span");
      for (const p of m.partitions || []) ps.appendChild(chip(p, "p" + p + (page.city && page.city.mode === "region" ? " " + (page.city.regions[p] || "") : "")));
      if (!(m.partitions || []).length) ps.textContent = "no partitions (more members than partitions)";
      row.append(cid, host, ps);
      div.appendChild(row);
    }
    if (g.offsets && g.offsets.length) {
      const off = document.createElement("div"); off.className = "offsets";
      off.textContent = "committed / end: " + g.offsets.map(o => `p${o.partition} ${fmt(Math.max(0, o.committed))}/${fmt(Math.max(0, o.end))}`).join("  ");
      div.appendChild(off);
    }
    if (g.error) { const e = document.createElement("div"); e.className = "err"; e.textContent = g.error; div.appendChild(e); }
    root.appendChild(div);
  }
}

// renderTopics shows each topic's records and bytes, with a bar of its
// bytes against the larger topic's.
function renderTopics(topics) {
  const root = document.getElementById("topics");
  root.replaceChildren();
  const most = Math.max(1, ...(topics || []).map((t) => t.bytes));
  for (const t of topics || []) {
    const div = document.createElement("div");
    div.className = "topic"; div.dataset.topic = t.topic; div.dataset.records = t.records; div.dataset.bytes = t.bytes;
    const head = document.createElement("div"); head.className = "head";
    const name = document.createElement("span"); name.className = "name"; name.textContent = t.topic;
    const meta = document.createElement("span"); meta.className = "meta";
    meta.textContent = [fmt(t.records) + " records", fmtBytes(t.bytes), "cleanup.policy=" + t.cleanup_policy].join(" · ");
    head.append(name, meta);
    const bar = document.createElement("div"); bar.className = "bar";
    const fill = document.createElement("span"); fill.style.width = (t.bytes > 0 ? Math.max(0.5, 100 * t.bytes / most) : 0) + "%";
    bar.appendChild(fill);
    div.append(head, bar);
    if (t.error) { const e = document.createElement("div"); e.className = "err"; e.textContent = t.error; div.appendChild(e); }
    root.appendChild(div);
  }
}

function render() {
  const st = page.state;
  if (!st) return;
  const last = st.history.length ? st.history[st.history.length - 1] : { in: 0, written: 0, tx: 0 };
  const t = st.totals;
  document.getElementById("stat-in").textContent = fmt(last.in);
  document.getElementById("stat-written").textContent = fmt(last.written);
  document.getElementById("stat-tx").textContent = fmt(last.tx);
  document.getElementById("stat-delay").textContent = t.delay_p99_ms ? `${Math.round(t.delay_p50_ms)} / ${Math.round(t.delay_p99_ms)} ms` : "–";
  document.getElementById("stat-lag").textContent = fmt(t.lag);
  document.getElementById("stat-dbrows").textContent = fmt(t.db_rows);
  document.getElementById("stat-riders").textContent = st.riders.length;
  renderGroups(st.groups);
  renderTopics(st.topics);
  drawMap();
  drawChart("chart-in", st.history.map(s => s.in), "updates/s in (gateway, acknowledged)", "#3355aa");
  drawChart("chart-written", st.history.map(s => s.written), "rows/s written (sinks)", "#17a398");
  drawChart("chart-tx", st.history.map(s => s.tx), "database transactions/s", "#e4572e");
}

async function tick() {
  const conn = document.getElementById("conn");
  try {
    page.state = await getJSON("api/state");
    conn.textContent = "live"; conn.className = "conn ok";
    render();
  } catch (e) {
    page.errors++;
    conn.textContent = "disconnected"; conn.className = "conn bad";
  }
  setTimeout(tick, 1000);
}

async function start() {
  for (let i = 0; !page.city; i++) {
    try { page.city = await getJSON("api/city"); } catch (e) { await new Promise(r => setTimeout(r, Math.min(5000, 500 * (i + 1)))); }
  }
  document.getElementById("city").textContent = page.city.name;
  document.getElementById("mode").textContent = page.city.mode;
  document.getElementById("topic").textContent = page.city.topic;
  document.getElementById("latest-topic").textContent = page.city.latest_topic;
  if (page.city.console) {
    const link = document.getElementById("console-link");
    link.href = page.city.console;
    link.hidden = false;
  }
  const legend = document.getElementById("legend");
  const names = page.city.mode === "region" ? page.city.regions : page.city.regions.map((_, i) => "partition " + i);
  names.forEach((n, i) => {
    const s = document.createElement("span");
    s.innerHTML = `<span class="sw" style="background:${color(i)}"></span>`;
    s.append((page.city.mode === "region" ? n + " = partition " + i : n));
    legend.appendChild(s);
  });
  if (page.city.mode === "region") {
    const labels = document.getElementById("region-labels");
    page.city.regions.forEach((name, i) => {
      const l = document.createElement("span");
      l.className = "region-label " + name; l.dataset.partition = i; l.style.color = color(i);
      l.textContent = name + " · p" + i;
      labels.appendChild(l);
    });
  }
  drawMap();
  tick();
  window.addEventListener("resize", render);
}
start();
