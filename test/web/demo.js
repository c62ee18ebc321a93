// Browser test of the demo page, run by test/demo (go test ./test/demo):
// Debian's chromium, driven by playwright-core, loads the page and checks
// that riders are drawn and move, that the consumer groups are shown with
// their members and partitions, and that the figures update; then it saves
// a screenshot.
//
// usage: node demo.js URL SCREENSHOT.png
// Prints one JSON line of what it saw; exits non-zero on the first failed
// check (after saving the screenshot, for diagnosis).
"use strict";
const { chromium } = require("playwright-core");

const [url, shot] = process.argv.slice(2);
if (!url || !shot) {
  console.error("usage: node demo.js URL SCREENSHOT.png");
  process.exit(2);
}

const browserArgs = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: browserArgs,
    timeout: 60000,
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  const seen = {};
  try {
    await page.goto(url, { waitUntil: "load", timeout: 30000 });
    // Riders appear on the map.
    await page.waitForFunction(() => Number(document.getElementById("map").dataset.riders) > 0, null, { timeout: 60000 });
    seen.ridersDrawn = Number(await page.getAttribute("#map", "data-riders"));
    // The db-writer group: two sinks sharing the four partitions; the
    // live-map group: one member with all four (a different group gets
    // every update: publish/subscribe).
    await page.waitForFunction(() => {
      const parts = (g) => [...document.querySelectorAll(`.group[data-group="${g}"] .member .chip`)].map((c) => c.dataset.partition).sort().join(",");
      const members = (g) => document.querySelectorAll(`.group[data-group="${g}"] .member`).length;
      return members("db-writer") === 2 && parts("db-writer") === "0,1,2,3" && members("live-map") === 1 && parts("live-map") === "0,1,2,3";
    }, null, { timeout: 60000 });
    seen.dbWriterMembers = await page.$$eval('.group[data-group="db-writer"] .member', (ms) => ms.map((m) => m.textContent));
    // Figures and positions move on.
    const before = await page.evaluate(() => ({
      rows: window.__courier.state.totals.db_rows,
      frames: window.__courier.frames,
      riders: Object.fromEntries(window.__courier.state.riders.map((r) => [r[0], [r[1], r[2]]])),
    }));
    await page.waitForFunction((b) => {
      const st = window.__courier.state;
      const moved = st.riders.filter((r) => b.riders[r[0]] && (b.riders[r[0]][0] !== r[1] || b.riders[r[0]][1] !== r[2])).length;
      const inRate = st.history.length ? st.history[st.history.length - 1].in : 0;
      return st.totals.db_rows > b.rows && window.__courier.frames > b.frames + 1 && moved > 0 && inRate > 0;
    }, before, { timeout: 30000 });
    seen.after = await page.evaluate(() => ({
      rows: window.__courier.state.totals.db_rows,
      in: document.getElementById("stat-in").textContent,
      written: document.getElementById("stat-written").textContent,
      tx: document.getElementById("stat-tx").textContent,
    }));
    seen.rowsBefore = before.rows;
    if (consoleErrors.length) throw new Error("page errors: " + consoleErrors.join("; "));
    await page.screenshot({ path: shot, fullPage: true });
    console.log(JSON.stringify({ ok: true, ...seen }));
  } catch (e) {
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    console.log(JSON.stringify({ ok: false, error: String(e), ...seen }));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
