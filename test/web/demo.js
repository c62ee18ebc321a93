// Browser test of the demo page, run by test/demo (go test ./test/demo):
// Debian's chromium, driven by playwright-core, loads the page and checks
// that riders are drawn and move, that the consumer groups are shown with
// their members ("1 member", "2 members") and partitions, that the sizes
// panel shows both topics (rider-updates and the compacted rider-latest)
// with records and bytes, that the figures update, that nothing the page or its icon asks for fails (no 404), and
// that the region labels on the map are visible, covered by nothing, on a
// desktop screen and on a phone's (390 px); then it saves screenshots.
//
// usage: node demo.js URL SCREENSHOT.png
// Prints one JSON line of what it saw; exits non-zero on the first failed
// check (after saving the screenshot, for diagnosis). The phone screenshot
// goes beside SCREENSHOT, named *-390.png. With COURIER_SCREENSHOT_SETTLE=S
// it waits S seconds before the desktop screenshot, so that the charts
// have history (scripts/demo-screenshot.sh, which makes docs/demo.png).
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
  // Every request the page makes must succeed: a 404 (a missing icon or
  // asset) is a broken page too.
  const failed = [];
  page.on("response", (r) => { if (r.status() >= 400) failed.push(r.status() + " " + r.url()); });
  page.on("requestfailed", (r) => {
    // The poll in flight when the page closes is aborted: not a failure.
    if (!String(r.failure() && r.failure().errorText).includes("ERR_ABORTED")) failed.push("failed " + r.url());
  });
  const seen = {};
  try {
    await page.goto(url, { waitUntil: "load", timeout: 30000 });
    // The icon the page links, and the one browsers ask for by name.
    const icon = await page.getAttribute('link[rel="icon"]', "href");
    for (const path of [icon, "/favicon.ico"]) {
      const r = await page.request.get(new URL(path, url).href);
      if (r.status() !== 200 || !String(r.headers()["content-type"]).startsWith("image/")) {
        throw new Error(`icon ${path}: ${r.status()} ${r.headers()["content-type"]}`);
      }
    }
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
    // Counts are worded as English has it: "1 member", "2 members".
    seen.meta = await page.$$eval(".group .meta", (ms) => ms.map((m) => m.textContent));
    const meta = (g) => page.$eval(`.group[data-group="${g}"] .meta`, (m) => m.textContent);
    if (!/(^| )2 members( |$)/.test(await meta("db-writer")) || !/(^| )1 member( |$)/.test(await meta("live-map"))) {
      throw new Error("member counts worded wrong: " + JSON.stringify(seen.meta));
    }
    // The sizes panel: both topics with their records, bytes and policy.
    await page.waitForFunction(() => ["rider-updates", "rider-latest"].every((t) => {
      const el = document.querySelector(`.topic[data-topic="${t}"]`);
      return el && Number(el.dataset.records) > 0 && Number(el.dataset.bytes) >= 0;
    }), null, { timeout: 60000 });
    seen.topics = await page.$$eval(".topic", (ts) => ts.map((t) => t.textContent));
    const policy = (t) => page.$eval(`.topic[data-topic="${t}"] .meta`, (m) => m.textContent);
    if (!(await policy("rider-latest")).includes("cleanup.policy=compact") || !(await policy("rider-updates")).includes("cleanup.policy=delete")) {
      throw new Error("topics panel: " + JSON.stringify(seen.topics));
    }
    seen.labels1400 = await checkLabels(page);
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
    const settle = Number(process.env.COURIER_SCREENSHOT_SETTLE || 0);
    if (settle > 0) await page.waitForTimeout(settle * 1000);
    await page.screenshot({ path: shot, fullPage: true });

    // A phone: the labels must still be visible, nothing wider than the
    // screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload({ waitUntil: "load", timeout: 30000 });
    await page.waitForFunction(() => Number(document.getElementById("map").dataset.riders) > 0, null, { timeout: 60000 });
    seen.labels390 = await checkLabels(page);
    const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    if (widths[0] > widths[1]) throw new Error(`at 390 px the page is ${widths[0]} px wide: it scrolls sideways`);
    await page.screenshot({ path: shot.replace(/\.png$/, "") + "-390.png", fullPage: true });

    if (consoleErrors.length) throw new Error("page errors: " + consoleErrors.join("; "));
    if (failed.length) throw new Error("requests failed: " + failed.join("; "));
    console.log(JSON.stringify({ ok: true, ...seen }));
  } catch (e) {
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    console.log(JSON.stringify({ ok: false, error: String(e), ...seen }));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}
// checkLabels checks that each region label lies inside the map and the
// screen, overlaps no other label, and is what the browser finds at its
// centre and at the middle of each edge (elementFromPoint): nothing covers
// it. It returns where the labels are.
async function checkLabels(page) {
  const labels = await page.$$(".region-label");
  if (labels.length !== 4) throw new Error(`${labels.length} region labels, want 4`);
  const boxes = [];
  for (const l of labels) {
    await l.scrollIntoViewIfNeeded();
    const r = await l.evaluate((el) => {
      const b = el.getBoundingClientRect(), m = document.getElementById("map").getBoundingClientRect();
      // The centre and the middle of each edge, just inside (its corners
      // are rounded off, and the browser hits what is under them).
      const inset = 2, cx = b.left + b.width / 2, cy = b.top + b.height / 2;
      const points = [[cx, cy], [b.left + inset, cy], [b.right - inset, cy], [cx, b.top + inset], [cx, b.bottom - inset]];
      const covered = points.filter(([x, y]) => { const hit = document.elementFromPoint(x, y); return !hit || (hit !== el && !el.contains(hit)); })
        .map(([x, y]) => { const hit = document.elementFromPoint(x, y); return hit ? hit.tagName + "#" + hit.id + "." + hit.className : "nothing"; });
      return { text: el.textContent, left: b.left, right: b.right, top: b.top, bottom: b.bottom, width: b.width,
        inMap: b.left >= m.left && b.right <= m.right && b.top >= m.top && b.bottom <= m.bottom,
        onScreen: b.left >= 0 && b.right <= window.innerWidth, covered, visible: getComputedStyle(el).visibility === "visible" && b.width > 0 };
    });
    if (!r.visible || !r.inMap || !r.onScreen || r.covered.length) throw new Error("region label not fully visible: " + JSON.stringify(r));
    boxes.push(r);
  }
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) {
        throw new Error(`region labels overlap: ${a.text} and ${b.text}`);
      }
    }
  }
  return boxes.map((b) => `${b.text}@${Math.round(b.left)},${Math.round(b.top)}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
