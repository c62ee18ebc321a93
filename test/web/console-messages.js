// Browser test of the console's topic and message pages, run by
// test/console (TestConsoleMessages), which produced the topics first:
// "million" (record i: key k-%07d, partition i % PARTS, timestamp BASE + i
// ms) and "hostile" (XSS payloads in a key, a value, a JSON value and a
// header; a CSV formula; a binary value).
//
// It checks: 10,000 topics render (and sort) in under a second; a topic is
// created (validated first, with a config), its config edited and reset, a
// partition added, and deleted after typing its name; the million records
// are browsed by offset and by timestamp and searched by key with the right
// records, the search saying it scanned all of them, Continue adding the
// next page; a message produced from the page shows in the live tail; XSS
// payloads in a key, value, header and topic name are shown as text and
// never run; JSON and CSV exports hold the shown records (CSV formulas
// defused); binary values show as hex and base64. Screenshots:
// console-topics, console-topic, console-messages.
//
// usage: node console-messages.js CONSOLE_URL
"use strict";
const fs = require("fs");
const { launch, newPage, shot, check, run } = require("./console-lib");

const base = process.argv[2];
const TOPIC = process.env.COURIER_MILLION_TOPIC || "million";
const N = Number(process.env.COURIER_MILLION_N || 1000000);
const PARTS = Number(process.env.COURIER_MILLION_PARTS || 4);
const BASE_MS = Number(process.env.COURIER_MILLION_BASE_MS);
const key = (i) => "k-" + String(i).padStart(7, "0");

// rowsOf(page): the messages table's rows as {partition, offset, key, value}.
async function rowsOf(page) {
  return page.$$eval("#messages tr.msg-row", (trs) => trs.map((tr) => ({
    partition: Number(tr.dataset.partition), offset: Number(tr.dataset.offset),
    key: tr.querySelector("td.msg-key").textContent, value: tr.querySelector("td.msg-value").textContent,
    headers: tr.querySelector("td.msg-headers").textContent,
  })));
}

// read(page, settings): fill the messages form and read; waits for the
// answer (the progress line) and returns the rows and the time it took.
async function read(page, s) {
  await page.selectOption("#msg-partition", s.partition === undefined ? "all" : String(s.partition));
  await page.selectOption("#msg-from", s.from);
  if (s.offset !== undefined) await page.fill("#msg-offset", String(s.offset));
  if (s.timestamp !== undefined) await page.fill("#msg-timestamp", String(s.timestamp));
  await page.fill("#msg-limit", String(s.limit || 50));
  await page.fill("#msg-key", s.key || "");
  await page.fill("#msg-value", s.value || "");
  const t0 = Date.now();
  const answered = page.waitForResponse((r) => r.url().includes("/messages?"), { timeout: 20000 });
  await page.click("#msg-search");
  await answered;
  await page.waitForFunction(() => document.querySelector("#msg-scanned"), null, { timeout: 10000 });
  return { rows: await rowsOf(page), ms: Date.now() - t0, progress: await page.textContent("#msg-scanned") };
}

// render10k measures the topic list with 10,000 topics (the API answer
// replaced by a synthetic list of that size: what is measured is the page).
async function render10k(browser) {
  const page = await newPage(browser);
  const topics = [];
  for (let i = 0; i < 10000; i++) {
    topics.push({ name: "topic-" + String(i).padStart(5, "0"), internal: false, partitions: 1 + (i % 12), replication_factor: 1,
      records: (i * 7919) % 100000, bytes: (i * 104729) % 10000000, records_per_sec: i % 100, bytes_per_sec: (i % 100) * 100 });
  }
  const body = JSON.stringify({ topics, took_ms: 0 });
  await page.route("**/api/topics", (route) => route.fulfill({ status: 200, contentType: "application/json", body }));
  await page.goto(base + "/#/", { waitUntil: "load" });
  const t0 = Date.now();
  await page.evaluate(() => { location.hash = "#/topics"; });
  await page.waitForFunction(() => document.querySelectorAll("#topics tr.topic-row").length === 200 &&
    /10,000 topics/.test(document.querySelector("#topic-count").textContent), null, { timeout: 10000 });
  const render = Date.now() - t0;
  const t1 = Date.now();
  await page.click('#topics th[data-sort="records"]');
  await page.waitForFunction(() => document.querySelector('#topics th[data-sort="records"]').classList.contains("sorted"));
  const first = await page.$eval("#topics tr.topic-row", (tr) => tr.dataset.topic);
  const sort = Date.now() - t1;
  // Descending by records: the first row has the most.
  const most = topics.reduce((a, b) => (b.records > a.records ? b : a));
  check(topics.find((t) => t.name === first).records === most.records, "sorted by records: first row " + first);
  await page.fill("#topic-search", "topic-0999");
  await page.waitForFunction(() => document.querySelectorAll("#topics tr.topic-row").length === 10);
  check(page.errors.length === 0, "10k page errors: " + page.errors.join("; "));
  await page.context().close();
  return { render, sort };
}

async function main() {
  check(base, "usage: node console-messages.js CONSOLE_URL");
  const seen = {};
  const browser = await launch();
  try {
    const r10k = await render10k(browser);
    seen.render10kMs = r10k.render;
    seen.sort10kMs = r10k.sort;

    const page = await newPage(browser, { acceptDownloads: true });
    const failed = [];
    page.on("response", (r) => { if (r.status() >= 500) failed.push(r.status() + " " + r.url()); });
    await page.goto(base + "/#/topics", { waitUntil: "load" });
    await page.waitForSelector(`#topics tr.topic-row[data-topic="${TOPIC}"]`, { timeout: 15000 });
    const millionRow = await page.textContent(`#topics tr.topic-row[data-topic="${TOPIC}"]`);
    check(millionRow.includes("1,000,000") || N !== 1000000, "the million topic's row shows its records: " + millionRow);

    // Create: validate first, with a config; a hostile name is refused
    // with the message shown as text.
    await page.click("#topic-create-open");
    await page.fill("#create-name", '<img src=x onerror="window.__xss=\'topic\'">');
    await page.click("#create-validate");
    await page.waitForSelector("#create-result .error");
    check((await page.textContent("#create-result")).includes("<img src=x"), "hostile topic name shown as text");
    await page.fill("#create-name", "web-created");
    await page.fill("#create-partitions", "2");
    await page.fill("#create-configs", "retention.ms=3600000\n");
    await page.click("#create-validate");
    await page.waitForSelector("#create-result .ok-box");
    await page.click("#create-submit");
    await page.waitForSelector('#topics tr.topic-row[data-topic="web-created"]', { timeout: 15000 });
    await shot(page, "console-topics");

    // Its page: partitions, configs edited and reset, a partition added.
    await page.click('#topics tr.topic-row[data-topic="web-created"] a');
    await page.waitForSelector('#tab-messages #messages');
    await page.click('.tab[data-tab="configs"]');
    const retention = '#configs tr.config-row[data-config="retention.ms"]';
    await page.waitForSelector(retention);
    check((await page.textContent(retention)).includes("3600000") && (await page.textContent(retention)).includes("override"), "retention.ms override from the create");
    await page.click(retention + " .config-edit");
    await page.fill(retention + " .config-input", "7200000");
    await page.click(retention + " .config-save");
    await page.waitForFunction((sel) => document.querySelector(sel) && document.querySelector(sel).textContent.includes("7200000") && !document.querySelector(sel + " .config-input"), retention);
    await page.click(retention + " .config-reset");
    await page.waitForFunction((sel) => document.querySelector(sel + " .badge") && document.querySelector(sel + " .badge").textContent === "default" && !document.querySelector(sel).textContent.includes("7200000"), retention);
    await page.click('.tab[data-tab="partitions"]');
    check((await page.$$("#partitions tr.partition-row")).length === 2, "two partitions");
    await page.fill("#add-partitions-count", "3");
    await page.click("#add-partitions-submit");
    await page.waitForFunction(() => document.querySelectorAll("#partitions tr.partition-row").length === 3, null, { timeout: 10000 });
    // Delete: the button stays disabled until the name is typed in full.
    await page.click("#topic-delete");
    await page.fill("#delete-confirm", "web-create");
    check(await page.isDisabled("#delete-submit"), "delete enabled before the full name");
    await page.fill("#delete-confirm", "web-created");
    await page.click("#delete-submit");
    await page.waitForSelector(`#topics tr.topic-row[data-topic="${TOPIC}"]`);
    await page.waitForFunction(() => !document.querySelector('#topics tr.topic-row[data-topic="web-created"]'), null, { timeout: 10000 });

    // The million records: by offset, by timestamp, search by key.
    await page.goto(base + "/#/topics/" + TOPIC + "?tab=partitions", { waitUntil: "load" });
    await page.waitForSelector("#partitions tr.partition-row");
    check(!(await page.textContent("#tab-partitions")).includes("null"), "a null shown on the partitions tab");
    await shot(page, "console-topic");
    await page.click('.tab[data-tab="messages"]');
    await page.waitForSelector("#msg-scanned");
    const p = 2, off = 200000;
    let r = await read(page, { partition: p, from: "offset", offset: off, limit: 10 });
    seen.byOffsetMs = r.ms;
    check(r.rows.length === 10 && r.rows[0].partition === p && r.rows[0].offset === off && r.rows[0].key === key(off * PARTS + p) &&
      r.rows[9].offset === off + 9, "by offset: " + JSON.stringify(r.rows.slice(0, 2)));
    const at = 777777;
    r = await read(page, { from: "timestamp", timestamp: BASE_MS + at, limit: 8 });
    seen.byTimestampMs = r.ms;
    check(r.rows.length === 8 && r.rows.every((x, i) => x.key === key(at + i)), "by timestamp: " + JSON.stringify(r.rows.map((x) => x.key)));
    r = await read(page, { from: "timestamp", timestamp: new Date(BASE_MS + 123456).toISOString(), limit: 3 });
    check(r.rows[0].key === key(123456), "by an ISO timestamp: " + r.rows[0].key);
    const want = key(N - 7);
    r = await read(page, { from: "oldest", key: want });
    seen.searchKeyMs = r.ms;
    check(r.rows.length === 1 && r.rows[0].key === want, "search by key: " + JSON.stringify(r.rows));
    check(r.progress.includes("Searched " + N.toLocaleString("en-US") + " of " + N.toLocaleString("en-US")) && r.progress.includes("all of them"), "search progress: " + r.progress);
    check(await page.isHidden("#msg-continue"), "no Continue after a complete search");
    // A search with more matches than a page: Continue adds the next ones.
    r = await read(page, { from: "oldest", key: "k-09999", limit: 50 });
    check(r.rows.length === 50 && !(await page.isHidden("#msg-continue")), "first page of 100 matches");
    check(/stopped at the page size/.test(r.progress), "the first call says why it stopped: " + r.progress);
    await page.click("#msg-continue");
    await page.waitForFunction(() => document.querySelectorAll("#messages tr.msg-row").length === 100, null, { timeout: 20000 });
    const all = await rowsOf(page);
    check(new Set(all.map((x) => x.key)).size === 100 && all.every((x) => x.key.startsWith("k-09999")), "Continue: 100 distinct matches");
    // Newest, then previous.
    r = await read(page, { partition: 0, from: "newest", limit: 5 });
    const last0 = Math.floor((N - 1) / PARTS) * PARTS;
    check(r.rows.length === 5 && r.rows[4].key === key(last0), "newest of partition 0: " + JSON.stringify(r.rows.map((x) => x.key)));
    await page.click("#msg-prev");
    await page.waitForFunction((k) => document.querySelector("#messages tr.msg-row td.msg-key").textContent === k, key(last0 - 9 * PARTS), { timeout: 10000 });

    // Hostile records: shown as text, nothing runs.
    await page.goto(base + "/#/topics/hostile", { waitUntil: "load" });
    await page.waitForSelector("#messages tr.msg-row");
    r = await read(page, { from: "oldest" });
    const text = await page.textContent("#messages");
    check(text.includes('<img src=x onerror="window.__xss=\'key\'">'), "XSS key shown as text");
    check(text.includes("\"><script>window.__xss='value'</script>"), "XSS value shown as text");
    check(text.includes('<svg onload="window.__xss=\'header\'">'), "XSS header shown as text");
    const jsonRow = '#messages tr.msg-row[data-offset="1"]';
    check((await page.$$(jsonRow + " .json-key")).length === 4 && (await page.textContent(jsonRow + " pre.json")).includes('"n": 7'), "JSON pretty-printed and highlighted");
    const bin = '#messages tr.msg-row[data-offset="3"] td.msg-value';
    check((await page.textContent(bin)).includes("ff 00 fe 41"), "binary as hex: " + await page.textContent(bin));
    await page.selectOption("#msg-binary", "base64");
    check((await page.textContent(bin)).includes("/wD+QQ=="), "binary as base64: " + await page.textContent(bin));
    await page.selectOption("#msg-binary", "hex");

    // Exports hold the shown records; CSV defuses formulas and quotes.
    let dl = page.waitForEvent("download");
    await page.click("#msg-export-json");
    const exported = JSON.parse(fs.readFileSync(await (await dl).path(), "utf8"));
    check(exported.length === 4 && exported[0].key === '<img src=x onerror="window.__xss=\'key\'">' && exported[3].value_encoding === "base64", "JSON export: " + JSON.stringify(exported).slice(0, 300));
    dl = page.waitForEvent("download");
    await page.click("#msg-export-csv");
    const csv = fs.readFileSync(await (await dl).path(), "utf8");
    check(csv.startsWith("partition,offset,timestamp,timestamp_type,key,key_encoding,value,value_encoding,headers\r\n"), "CSV header");
    check(csv.includes('"\'=HYPERLINK(""http://evil.example"",""x"")"') && csv.includes('"\'+1, ""quoted""\nnext line"'), "CSV formula and quotes: " + csv.slice(0, 600));
    seen.exported = exported.length;

    // A hostile topic name in the address: shown as text.
    await page.goto(base + "/#/topics/" + encodeURIComponent('<img src=x onerror="window.__xss=\'name\'">'), { waitUntil: "load" });
    await page.waitForSelector("#main .error");
    check((await page.textContent("#topic-name")).includes("<img src=x"), "hostile topic name shown as text");

    // Produce from the page; it shows in the live tail.
    await page.goto(base + "/#/topics/hostile", { waitUntil: "load" });
    await page.waitForSelector("#msg-scanned");
    await page.click("#msg-tail");
    await page.waitForSelector('#msg-tail-status[data-live="1"]', { timeout: 10000 });
    await page.click("details.produce summary");
    await page.fill("#produce-key", "tail-key");
    await page.fill("#produce-value", '{"hello": "world", "xss": "<script>window.__xss=\'tail\'</script>"}');
    await page.fill("#produce-headers", "source=console-test");
    await page.click("#produce-submit");
    await page.waitForSelector("#produce-result .ok-box");
    await page.waitForFunction(() => [...document.querySelectorAll("#messages tr.msg-row td.msg-key")].some((td) => td.textContent === "tail-key"), null, { timeout: 10000 });
    const tailed = (await rowsOf(page)).find((x) => x.key === "tail-key");
    check(tailed.headers.includes("source") && tailed.headers.includes("console-test") && tailed.value.includes("\"hello\": \"world\""), "tailed record: " + JSON.stringify(tailed));
    await page.click("#msg-tail");
    await shot(page, "console-messages");

    const xss = await page.evaluate(() => window.__xss);
    check(xss === undefined, "an XSS payload ran: " + xss);
    check((await page.$$("img[src=x], svg[onload]")).length === 0, "payload elements in the DOM");
    check(page.errors.length === 0, "page errors: " + page.errors.join("; "));
    check(failed.length === 0, "failed requests: " + failed.join("; "));
    seen.ok = true;
  } catch (e) {
    // What the page showed when it failed, for diagnosis.
    for (const ctx of browser.contexts()) for (const p of ctx.pages()) await shot(p, "console-messages-failed").catch(() => {});
    throw e;
  } finally {
    await browser.close();
  }
  return seen;
}

run(main);
