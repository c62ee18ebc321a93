// console-bench.js times Courier Console's list pages in headless Chromium
// against a running console over a seeded cluster (scripts/bench-console.sh
// runs it after `courier bench console --seed-only`): from the moment the
// page is routed to the topic list (or the group list) until the list is
// drawn with every topic (group) counted, the API call included. It is a
// measurement, not a test: it fails only when a list never shows what was
// seeded.
//
//   node console-bench.js CONSOLE_URL TOPICS GROUPS ROUNDS
//
// prints one JSON line: {"topicsMs": [...], "groupsMs": [...], ...}.
"use strict";
const { launch, newPage, check, run } = require("./console-lib");

const [base, topics, groups, rounds] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5] || 3)];

// number reads the first number of a text ("10,002 topics").
function number(text) {
  const m = /[0-9][0-9,]*/.exec(text || "");
  return m ? Number(m[0].replace(/,/g, "")) : -1;
}

// timeRoute routes page to hash and waits until done (a function run in the
// page, given arg) holds; returns the milliseconds.
async function timeRoute(page, hash, done, arg) {
  const t0 = Date.now();
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForFunction(done, arg, { timeout: 30000, polling: 10 });
  return Date.now() - t0;
}

run(async () => {
  check(base && topics >= 0 && groups >= 0 && rounds > 0, "usage: node console-bench.js CONSOLE_URL TOPICS GROUPS ROUNDS");
  const browser = await launch();
  const seen = { topicsMs: [], groupsMs: [] };
  try {
    const page = await newPage(browser);
    for (let i = 0; i < rounds; i++) {
      // From another page each time, so that each list is asked and drawn anew.
      await page.goto(base + "/?round=" + i + "#/", { waitUntil: "load" });
      seen.topicsMs.push(await timeRoute(page, "#/topics", (n) => {
        const c = document.querySelector("#topic-count");
        const m = c && /[0-9][0-9,]*/.exec(c.textContent);
        return document.querySelectorAll("#topics tr.topic-row").length > 0 && m && Number(m[0].replace(/,/g, "")) >= n;
      }, topics));
      seen.topicCount = await page.$eval("#topic-count", (c) => c.textContent);
      seen.groupsMs.push(await timeRoute(page, "#/groups", (n) =>
        document.querySelector("#groups-table") && document.querySelector("#groups-table").dataset.renderMs !== undefined &&
        document.querySelectorAll("#groups-table tbody tr[data-group]").length >= n, groups));
      seen.groupsStatus = await page.$eval("#groups-status", (s) => s.textContent);
    }
    check(number(seen.topicCount) >= topics, "topics counted: " + seen.topicCount);
    check(page.errors.length === 0, "page errors: " + page.errors.join("; "));
  } finally {
    await browser.close();
  }
  return seen;
});
