// console-security.js: the console's security in a real browser (run by
// test/console/security_test.go against `courier broker` with a SASL
// listener and the authorizer on). It signs in as admin with the sign-in
// page, uses the overview, ACL, user, transaction and audit pages (and
// screenshots them), falls for a forged cross-site POST (a page on another
// port whose form posts to the console) which must be refused, signs out,
// signs in as alice (whose ACLs allow one topic): she sees that topic
// only and is refused by the cluster (the admin pages, another group's
// offset reset, with Kafka's error), and guesses a password five times: the sixth attempt must be
// slowed down (429, the page says how long to wait).
"use strict";
const { launch, newPage, signIn, shot, check, run } = require("./console-lib");

const base = process.env.CONSOLE_URL;
const forge = process.env.FORGE_URL;
const admin = [process.env.ADMIN_USER, process.env.ADMIN_PASSWORD];
const alice = [process.env.ALICE_USER, process.env.ALICE_PASSWORD];

// textOf returns the trimmed text of the first element matching sel.
async function textOf(page, sel) {
  return ((await page.textContent(sel)) || "").trim();
}

// signOut clicks "Sign out" and waits for the sign-in page.
async function signOut(page) {
  await page.click("#logout");
  await page.waitForSelector("#login-user", { timeout: 15000 });
}

// forged opens the hostile page, whose form posts to the console on load,
// and returns the status of the console's answer.
async function forged(page, path) {
  const answered = page.waitForResponse((r) => r.url().startsWith(base) && r.request().method() === "POST", { timeout: 15000 });
  await page.goto(forge + path, { waitUntil: "load" });
  const resp = await answered;
  const body = await resp.text();
  return { status: resp.status(), body };
}

run(async () => {
  const seen = {};
  const browser = await launch();
  try {
    const page = await newPage(browser);

    // The sign-in page first: every page sends a visitor without a
    // session there.
    await page.goto(base + "/", { waitUntil: "load" });
    await page.waitForSelector("#login-user", { timeout: 15000 });
    check(page.url().endsWith("#/login"), "not sent to the sign-in page: " + page.url());
    await shot(page, "console-login");

    // Admin signs in; the overview shows the cluster, and its rates from
    // the second refresh.
    await signIn(page, base, ...admin);
    await page.waitForSelector("#overview-cards", { timeout: 15000 });
    check((await textOf(page, "#who")).includes(admin[0]), "the header does not name the user");
    await page.waitForFunction(() => {
      const v = document.querySelector('[data-figure="bytes-in"] .value');
      return v && v.textContent !== "–";
    }, null, { timeout: 20000 });
    seen.overviewTopics = await textOf(page, '[data-figure="topics"] .value');
    await shot(page, "console-overview");

    // ACLs: add one through the form, see it, remove it with the
    // confirmation.
    await page.goto(base + "/#/acls");
    await page.waitForSelector("#acls", { timeout: 15000 });
    await page.fill("#acl-name", "alice-only");
    await page.fill("#acl-principal", "User:bob");
    await page.selectOption("#acl-operation", "WRITE");
    await page.click("#acl-add-submit");
    const bobRow = 'tr.acl-row[data-principal="User:bob"]';
    await page.waitForSelector(bobRow, { timeout: 15000 });
    seen.aclRows = await page.locator("tr.acl-row").count();
    await shot(page, "console-acls");
    await page.click(bobRow + " .acl-remove");
    await page.waitForSelector("#confirm", { timeout: 5000 });
    check((await textOf(page, "#confirm p")).includes("User:bob"), "the confirmation does not name the ACL");
    await page.click("#confirm-yes");
    await page.waitForSelector(bobRow, { state: "detached", timeout: 15000 });

    // SCRAM users: create carol, see her, delete her.
    await page.goto(base + "/#/users");
    await page.waitForSelector("#users", { timeout: 15000 });
    await page.fill("#user-name", "carol");
    await page.fill("#user-password", "carol-pw-1");
    await page.click("#user-create-submit");
    await page.waitForSelector('tr.user-row[data-user="carol"]', { timeout: 15000 });
    await shot(page, "console-users");
    await page.click('tr.user-row[data-user="carol"] .user-delete');
    await page.waitForSelector("#confirm", { timeout: 5000 });
    await page.click("#confirm-yes");
    await page.waitForSelector('tr.user-row[data-user="carol"]', { state: "detached", timeout: 15000 });

    // Transactions: the open one, described; no hanging ones.
    await page.goto(base + "/#/transactions");
    await page.waitForSelector('tr.txn-row[data-txn="billing"]', { timeout: 15000 });
    await page.click('tr.txn-row[data-txn="billing"] a');
    await page.waitForSelector("#txn-described", { timeout: 15000 });
    check((await textOf(page, "#txn-described")).includes("payments-0"), "the described transaction lacks its partition");
    await page.click("#txn-find-hanging");
    await page.waitForSelector("#hanging-none, #hanging", { timeout: 30000 });
    await shot(page, "console-transactions");

    // Audit log: what admin just did.
    await page.goto(base + "/#/audit");
    await page.waitForSelector("#audit", { timeout: 15000 });
    for (const action of ["acl.create", "acl.delete", "user.create", "user.delete"]) {
      check(await page.locator(`tr.audit-row[data-action="${action}"]`).count() > 0, "the audit log lacks " + action);
    }
    await shot(page, "console-audit");

    // A forged cross-site POST while signed in: the browser sends the
    // cookie (another port of 127.0.0.1 is the same site), but no CSRF
    // token: refused.
    const acl = await forged(page, "/acl");
    seen.forgedACLStatus = acl.status;
    check(acl.status === 403 && acl.body.includes("CSRF"), "the forged ACL POST: " + acl.status + " " + acl.body);
    const topic = await forged(page, "/topic");
    seen.forgedTopicStatus = topic.status;
    check(topic.status === 403 && topic.body.includes("CSRF"), "the forged topic POST: " + topic.status + " " + topic.body);
    await page.goto(base + "/#/acls");
    await page.waitForSelector("#acls", { timeout: 15000 });
    check(await page.locator('tr.acl-row[data-principal="User:mallory"]').count() === 0, "the forged ACL exists");

    await signOut(page);

    // alice: the cluster refuses her the admin pages with its own error.
    await signIn(page, base, ...alice);
    await page.goto(base + "/#/acls");
    await page.waitForSelector("#acl-list .error", { timeout: 15000 });
    seen.aliceACLs = await textOf(page, "#acl-list .error");
    check(seen.aliceACLs.includes("CLUSTER_AUTHORIZATION_FAILED"), "alice's ACL page: " + seen.aliceACLs);
    await page.goto(base + "/#/users");
    await page.waitForSelector("#user-list .error", { timeout: 15000 });
    check((await textOf(page, "#user-list .error")).includes("CLUSTER_AUTHORIZATION_FAILED"), "alice's users page");
    await page.goto(base + "/#/audit");
    await page.waitForSelector("#main .error", { timeout: 15000 });
    check((await textOf(page, "#main .error")).includes("for admins only"), "alice's audit page");
    await page.goto(base + "/#/");
    await page.waitForSelector("#overview-cards", { timeout: 15000 });
    seen.aliceTopics = await textOf(page, '[data-figure="topics"] .value');
    check(seen.aliceTopics === "1", "alice's overview counts " + seen.aliceTopics + " topics, want her one");
    // Another group's offsets: she may describe the group (so its page and
    // a preview show), not read it, so the cluster refuses the reset.
    await page.goto(base + "/#/groups/other-group");
    await page.waitForSelector("#reset-mode", { timeout: 15000 });
    await page.selectOption("#reset-mode", "earliest");
    await page.click("#reset-preview");
    await page.waitForSelector("#reset-preview-table", { timeout: 15000 });
    await page.click("#reset-apply");
    await page.waitForSelector("#reset-result .error", { timeout: 15000 });
    seen.aliceReset = await textOf(page, "#reset-result .error");
    check(seen.aliceReset.includes("GROUP_AUTHORIZATION_FAILED"), "alice's reset of another group: " + seen.aliceReset);

    // The topic list shows her the one topic her ACLs let her describe.
    await page.goto(base + "/#/topics");
    await page.waitForSelector("table#topics tr.topic-row", { timeout: 15000 });
    seen.aliceTopicRows = await page.$$eval("table#topics tr.topic-row", (rows) => rows.map((r) => r.dataset.topic));
    check(seen.aliceTopicRows.length === 1 && seen.aliceTopicRows[0] === "alice-only", "alice's topic list: " + seen.aliceTopicRows.join(","));
    await signOut(page);

    // Five wrong passwords, then the sixth attempt is slowed down.
    for (let i = 1; i <= 5; i++) {
      await page.fill("#login-user", alice[0]);
      await page.fill("#login-password", "guess-" + i);
      await page.click("#login-submit");
      await page.waitForFunction((n) => {
        const e = document.getElementById("login-error");
        return e && !e.hidden && e.textContent.includes("wrong user name or password") && document.getElementById("login-submit").dataset.n !== String(n);
      }, i, { timeout: 15000 });
      await page.evaluate((n) => { document.getElementById("login-submit").dataset.n = String(n); }, i);
    }
    await page.fill("#login-user", alice[0]);
    await page.fill("#login-password", alice[1]);
    await page.click("#login-submit");
    await page.waitForFunction(() => {
      const e = document.getElementById("login-error");
      return e && e.textContent.includes("Too many failed sign-in attempts");
    }, null, { timeout: 15000 });
    check(await page.isDisabled("#login-submit"), "the button is not disabled while the sign-in must wait");
    seen.retryAfter = Number(await page.getAttribute("#login-error", "data-retry-after"));
    seen.slowedMessage = await textOf(page, "#login-error");
    check(page.errors.length === 0, "script errors: " + page.errors.join("; "));
  } finally {
    await browser.close();
  }
  return seen;
});
