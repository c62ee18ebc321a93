// What the console's browser tests (test/web/console-*.js, run by
// test/console) share: launching Debian's chromium, a page that records
// script errors and failed requests, signing in, screenshots, and checks
// that fail with a message.
"use strict";
const path = require("path");
const { chromium } = require("playwright-core");

const browserArgs = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

// launch() starts the browser.
async function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: browserArgs, timeout: 60000 });
}

// newPage(browser) opens a page (its own context: its own cookies) that
// collects uncaught script errors in page.errors. Every script error fails
// the test: the console must never throw, and an XSS payload that ran
// would usually throw too.
async function newPage(browser, opts) {
  const ctx = await browser.newContext(Object.assign({ viewport: { width: 1400, height: 900 } }, opts || {}));
  const page = await ctx.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.on("dialog", (d) => { page.errors.push("unexpected dialog: " + d.message()); d.dismiss().catch(() => {}); });
  return page;
}

// signIn(page, base, user, password) signs in through the sign-in page and
// waits for the overview.
async function signIn(page, base, user, password) {
  await page.goto(base + "/#/login", { waitUntil: "load" });
  await page.fill("#login-user", user);
  await page.fill("#login-password", password);
  await page.click("#login-submit");
  await page.waitForSelector("#logout", { timeout: 15000 });
}

// shot(page, name) saves a screenshot as COURIER_SHOTS/NAME.png.
async function shot(page, name) {
  const dir = process.env.COURIER_SHOTS;
  if (dir) await page.screenshot({ path: path.join(dir, name + ".png"), fullPage: false });
}

// check(cond, msg) fails the test with msg unless cond.
function check(cond, msg) {
  if (!cond) throw new Error("check failed: " + msg);
}

// run(main) runs an async test: prints its result object as one JSON line,
// or the error and exits 1.
function run(main) {
  main().then((seen) => {
    console.log(JSON.stringify(seen || {}));
  }).catch((e) => {
    console.error(e && e.stack ? e.stack : String(e));
    process.exit(1);
  });
}

module.exports = { launch, newPage, signIn, shot, check, run };
