// The console's shell: the router (#/path), the API helper (JSON, the CSRF
// header on every change, errors shown with the cluster's message), and
// h(), the only way pages build the DOM. h() sets text with textContent and
// attributes with setAttribute, never innerHTML: every name, key, value and
// header comes from Kafka and may be hostile.
"use strict";

const Console = (() => {
  const routes = [];   // {re, keys, render}
  let session = null;  // GET /api/session
  let cleanup = [];    // what the current page stops when left (timers, event sources)

  // h(tag, props, ...children): an element. props: attributes, except
  // "on*" (event listeners), "class", "text" (textContent) and "dataset".
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = v;
      else if (k === "text") el.textContent = String(v);
      else if (k === "dataset") Object.assign(el.dataset, v);
      else if (k === "value") el.value = v;
      else if (k === "checked") el.checked = !!v;
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    append(el, children);
    return el;
  }
  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }

  // APIError carries the API's error (REST Proxy's {error_code, message}).
  class APIError extends Error {
    constructor(status, body) {
      super((body && body.message) || ("HTTP " + status));
      this.status = status;
      this.code = body && body.error_code;
    }
  }

  // api(method, path, body): the parsed JSON answer, or throws APIError.
  // A 401 sends the user to the sign-in page.
  async function api(method, path, body) {
    const opts = { method, headers: {}, credentials: "same-origin" };
    if (method !== "GET" && method !== "HEAD") {
      opts.headers["X-Courier-CSRF"] = (session && session.csrf) || "";
    }
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const r = await fetch(path, opts);
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { message: text }; }
    if (r.status === 401 && !path.startsWith("/api/login")) {
      session = null;
      go("#/login");
    }
    if (!r.ok) {
      const err = new APIError(r.status, data);
      // Seconds to wait before trying again (a rate-limited sign-in).
      err.retryAfter = Number(r.headers.get("Retry-After")) || null;
      throw err;
    }
    return data;
  }

  // route(pattern, render): pattern like "/topics/:name"; render(params,
  // main) builds the page into main (async allowed).
  function route(pattern, render) {
    const keys = [];
    const re = new RegExp("^" + pattern.replace(/:(\w+)/g, (_, k) => { keys.push(k); return "([^/]+)"; }) + "$");
    routes.push({ re, keys, render });
  }

  // onLeave(fn): fn runs when the user leaves the page (stop timers, close
  // event sources).
  function onLeave(fn) { cleanup.push(fn); }

  function go(hash) { if (location.hash !== hash) location.hash = hash; else render(); }

  async function render() {
    for (const fn of cleanup.splice(0)) { try { fn(); } catch (e) { /* leaving anyway */ } }
    const path = decodeURIComponent((location.hash || "#/").slice(1)) === "" ? "/" : (location.hash || "#/").slice(1);
    const main = document.getElementById("main");
    if (!session) session = await api("GET", "/api/session").catch(() => null);
    if (session && session.login_required && !session.signed_in && path !== "/login") return go("#/login");
    showWho();
    for (const r of routes) {
      const m = r.re.exec(path.split("?")[0]);
      if (!m) continue;
      const params = {};
      r.keys.forEach((k, i) => { params[k] = decodeURIComponent(m[i + 1]); });
      params.query = new URLSearchParams(path.split("?")[1] || "");
      const nav = path.split("/")[1] || "overview";
      document.querySelectorAll("#nav a").forEach((a) => a.classList.toggle("active", a.dataset.nav === nav));
      main.replaceChildren();
      try {
        await r.render(params, main);
      } catch (e) {
        main.append(errorBox(e));
      }
      return;
    }
    main.replaceChildren(h("h1", { text: "Not found" }), h("p", { text: "No page at " + path }));
  }

  function showWho() {
    const who = document.getElementById("who");
    who.replaceChildren();
    if (session && session.signed_in && session.user) {
      who.append(h("span", { class: "user", text: session.user }), " ",
        h("button", { class: "link", id: "logout", onclick: async () => {
          await api("POST", "/api/logout").catch(() => {});
          session = null;
          go("#/login");
        } }, "Sign out"));
    }
  }

  // errorBox(e): the error as the user should see it (the cluster's own
  // message, e.g. GROUP_AUTHORIZATION_FAILED).
  function errorBox(e) {
    return h("div", { class: "error", role: "alert" }, String(e && e.message ? e.message : e));
  }

  // toast(msg): a short notice.
  function toast(msg, isError) {
    const t = document.getElementById("toast");
    t.textContent = msg;
    t.className = isError ? "show error" : "show";
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { t.className = ""; }, 4000);
  }

  // Formatting helpers shared by the pages.
  function fmtInt(n) { return n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US"); }
  function fmtBytes(n) {
    if (n === null || n === undefined || n < 0) return "–";
    const u = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + " " + u[i];
  }
  function fmtDuration(ms) {
    if (ms === null || ms === undefined || ms < 0) return "–";
    if (ms < 1000) return ms + " ms";
    const s = ms / 1000;
    if (s < 60) return s.toFixed(1) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + Math.floor(s % 60) + " s";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
    return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h";
  }
  function fmtTime(ms) { return ms === null || ms === undefined || ms < 0 ? "–" : new Date(ms).toISOString().replace("T", " ").replace("Z", " UTC"); }

  return {
    h, api, route, go, render, onLeave, errorBox, toast, APIError,
    fmtInt, fmtBytes, fmtDuration, fmtTime,
    session: () => session,
    setSession: (s) => { session = s; },
  };
})();
