// security.js: the security pages: ACLs (#/acls, REST Proxy v3's
// /v3/clusters/{id}/acls), SCRAM users (#/users, /api/users), transactions
// (#/transactions, /api/transactions) and the audit log (#/audit, admins
// only). Every refusal shows the cluster's own error (e.g.
// CLUSTER_AUTHORIZATION_FAILED). Removals ask for a confirmation on the
// page itself (no window.confirm), naming what goes.
"use strict";

(() => {
  const { h, api, fmtInt, fmtTime, toast, errorBox } = Console;

  const resourceTypes = ["TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN"];
  const patternTypes = ["LITERAL", "PREFIXED"];
  const operations = ["ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE", "CLUSTER_ACTION",
    "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE"];
  const permissions = ["ALLOW", "DENY"];

  // select(id, values, first): a <select>; first (when given) is an
  // "any" option with the value "".
  function select(id, values, first, value) {
    return h("select", { id, name: id },
      first ? h("option", { value: "" }, first) : null,
      values.map((v) => h("option", { value: v, selected: v === value }, v)));
  }

  // confirmBox(text, label, onYes): an in-page confirmation; resolves
  // after onYes ran or the user said no.
  function confirmBox(text, label, onYes) {
    const yes = h("button", { class: "danger", id: "confirm-yes", type: "button" }, label);
    const no = h("button", { class: "secondary", id: "confirm-no", type: "button" }, "Cancel");
    const box = h("div", { class: "sec-confirm card", id: "confirm", role: "alertdialog" },
      h("p", { text }), h("div", { class: "toolbar" }, yes, no));
    const close = () => box.remove();
    no.addEventListener("click", close);
    yes.addEventListener("click", async () => {
      yes.disabled = no.disabled = true;
      try {
        await onYes();
        close();
      } catch (e) {
        box.append(errorBox(e));
        no.disabled = false;
      }
    });
    document.getElementById("confirm")?.remove();
    document.getElementById("main").prepend(box);
    yes.focus();
  }

  // clusterBase returns /v3/clusters/{id} of the console's cluster.
  let clusterID = null;
  async function clusterBase() {
    if (!clusterID) {
      const list = await api("GET", "/v3/clusters");
      clusterID = list.data[0].cluster_id;
    }
    return "/v3/clusters/" + encodeURIComponent(clusterID);
  }

  // ---- ACLs ----

  function aclText(a) {
    return a.principal + " " + a.permission + " " + a.operation + " on " + a.resource_type + " " +
      a.pattern_type + " " + a.resource_name + " from " + a.host;
  }

  Console.route("/acls", async (params, main) => {
    const f = {
      type: select("acl-filter-type", resourceTypes, "any resource"),
      name: h("input", { id: "acl-filter-name", placeholder: "resource name" }),
      principal: h("input", { id: "acl-filter-principal", placeholder: "principal (User:alice)" }),
      operation: select("acl-filter-operation", operations, "any operation"),
      permission: select("acl-filter-permission", permissions, "any permission"),
    };
    const list = h("div", { id: "acl-list" });
    async function load() {
      const q = new URLSearchParams();
      if (f.type.value) q.set("resource_type", f.type.value);
      if (f.name.value) q.set("resource_name", f.name.value);
      if (f.principal.value) q.set("principal", f.principal.value);
      if (f.operation.value) q.set("operation", f.operation.value);
      if (f.permission.value) q.set("permission", f.permission.value);
      try {
        const base = await clusterBase();
        const res = await api("GET", base + "/acls" + (q.toString() ? "?" + q : ""));
        list.replaceChildren(aclTable(res.data, base, load));
      } catch (e) {
        list.replaceChildren(errorBox(e));
      }
    }
    const filters = h("form", { class: "toolbar", id: "acl-filters", onsubmit: (e) => { e.preventDefault(); load(); } },
      f.type, f.name, f.principal, f.operation, f.permission, h("button", { type: "submit", id: "acl-search" }, "Search"));
    main.append(h("h1", { text: "ACLs" }), filters, list, h("h2", { text: "Add an ACL" }), aclForm(load));
    await load();
  });

  function aclTable(acls, base, reload) {
    if (!acls.length) return h("p", { class: "muted", id: "acls-empty", text: "No ACL matches." });
    acls.sort((a, b) => (a.resource_type + a.resource_name + a.principal + a.operation).localeCompare(b.resource_type + b.resource_name + b.principal + b.operation));
    return h("table", { id: "acls" },
      h("thead", {}, h("tr", {}, ["Principal", "Permission", "Operation", "Resource", "Pattern", "Name", "Host", ""].map((t) => h("th", { text: t })))),
      h("tbody", {}, acls.map((a) => h("tr", { class: "acl-row", dataset: { principal: a.principal, resource: a.resource_name, operation: a.operation } },
        h("td", { class: "mono", text: a.principal }),
        h("td", {}, h("span", { class: a.permission === "DENY" ? "badge bad" : "badge ok", text: a.permission })),
        h("td", { text: a.operation }),
        h("td", { text: a.resource_type }),
        h("td", { text: a.pattern_type }),
        h("td", { class: "mono", text: a.resource_name }),
        h("td", { class: "mono", text: a.host }),
        h("td", {}, h("button", { class: "danger acl-remove", type: "button", onclick: () => confirmBox("Remove the ACL " + aclText(a) + "?", "Remove", async () => {
          const q = new URLSearchParams({ resource_type: a.resource_type, resource_name: a.resource_name, pattern_type: a.pattern_type,
            principal: a.principal, host: a.host, operation: a.operation, permission: a.permission });
          const res = await api("DELETE", base + "/acls?" + q);
          toast("Removed " + res.data.length + " ACL" + (res.data.length === 1 ? "" : "s"));
          await reload();
        }) }, "Remove"))))));
  }

  function aclForm(reload) {
    const f = {
      resource_type: select("acl-type", resourceTypes, null, "TOPIC"),
      resource_name: h("input", { id: "acl-name", placeholder: "orders, or * for all, kafka-cluster for CLUSTER", required: true }),
      pattern_type: select("acl-pattern", patternTypes, null, "LITERAL"),
      principal: h("input", { id: "acl-principal", placeholder: "User:alice", required: true }),
      host: h("input", { id: "acl-host", value: "*" }),
      operation: select("acl-operation", operations, null, "READ"),
      permission: select("acl-permission", permissions, null, "ALLOW"),
    };
    const msg = h("div", { id: "acl-add-result" });
    return h("form", { class: "stack", id: "acl-add", onsubmit: async (e) => {
      e.preventDefault();
      msg.replaceChildren();
      const body = {};
      for (const [k, el] of Object.entries(f)) body[k] = el.value;
      try {
        await api("POST", (await clusterBase()) + "/acls", body);
        toast("Added the ACL " + aclText(body));
        await reload();
      } catch (err) {
        msg.replaceChildren(errorBox(err));
      }
    } },
      h("label", {}, "Resource type", f.resource_type), h("label", {}, "Resource name", f.resource_name),
      h("label", {}, "Pattern", f.pattern_type), h("label", {}, "Principal", f.principal),
      h("label", {}, "Host", f.host), h("label", {}, "Operation", f.operation),
      h("label", {}, "Permission", f.permission), h("button", { type: "submit", id: "acl-add-submit" }, "Add ACL"), msg);
  }

  // ---- SCRAM users ----

  Console.route("/users", async (params, main) => {
    const list = h("div", { id: "user-list" });
    async function load() {
      try {
        const res = await api("GET", "/api/users");
        list.replaceChildren(userTable(res.users, load));
      } catch (e) {
        list.replaceChildren(errorBox(e));
      }
    }
    main.append(h("h1", { text: "SCRAM users" }),
      h("p", { class: "muted", text: "The cluster's SASL/SCRAM users. Passwords are salted in the console and never shown or logged." }),
      list, h("h2", { text: "Create a user" }), userForm(load));
    await load();
  });

  function userTable(users, reload) {
    if (!users.length) return h("p", { class: "muted", text: "No SCRAM users." });
    return h("table", { id: "users" },
      h("thead", {}, h("tr", {}, ["User", "Credentials", ""].map((t) => h("th", { text: t })))),
      h("tbody", {}, users.map((u) => {
        const row = h("tr", { class: "user-row", dataset: { user: u.name } },
          h("td", { class: "mono", text: u.name }),
          h("td", {}, u.credentials.map((c) => h("span", { class: "badge", text: c.mechanism + " · " + c.iterations + " rounds" }))),
          h("td", { class: "actions" },
            h("button", { class: "secondary user-password", type: "button", onclick: () => passwordForm(row, u, reload) }, "Change password"),
            " ",
            h("button", { class: "danger user-delete", type: "button", onclick: () => confirmBox("Delete user " + u.name + " and all its credentials?", "Delete " + u.name, async () => {
              await api("DELETE", "/api/users/" + encodeURIComponent(u.name));
              toast("Deleted user " + u.name);
              await reload();
            }) }, "Delete")));
        return row;
      })));
  }

  function passwordForm(row, u, reload) {
    row.parentNode.querySelector("tr.password-row")?.remove();
    const mech = select("password-mechanism", ["SCRAM-SHA-512", "SCRAM-SHA-256"], null, (u.credentials[0] || {}).mechanism);
    const pass = h("input", { id: "password-new", type: "password", autocomplete: "new-password", required: true });
    const msg = h("span", {});
    const form = h("form", { class: "toolbar", id: "password-form", onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api("PUT", "/api/users/" + encodeURIComponent(u.name) + "/password", { mechanism: mech.value, password: pass.value });
        pass.value = "";
        toast("Changed the password of " + u.name);
        await reload();
      } catch (err) {
        pass.value = "";
        msg.replaceChildren(errorBox(err));
      }
    } }, "New password for ", h("b", { text: u.name }), mech, pass, h("button", { type: "submit" }, "Save"), msg);
    row.after(h("tr", { class: "password-row" }, h("td", { colspan: "3" }, form)));
    pass.focus();
  }

  function userForm(reload) {
    const name = h("input", { id: "user-name", required: true, autocomplete: "off" });
    const mech = select("user-mechanism", ["SCRAM-SHA-512", "SCRAM-SHA-256"], null, "SCRAM-SHA-512");
    const pass = h("input", { id: "user-password", type: "password", autocomplete: "new-password", required: true });
    const iter = h("input", { id: "user-iterations", type: "number", min: "4096", max: "16384", value: "8192" });
    const msg = h("div", {});
    return h("form", { class: "stack", id: "user-create", onsubmit: async (e) => {
      e.preventDefault();
      msg.replaceChildren();
      try {
        await api("POST", "/api/users", { name: name.value, mechanism: mech.value, password: pass.value, iterations: Number(iter.value) });
        toast("Created user " + name.value);
        name.value = pass.value = "";
        await reload();
      } catch (err) {
        pass.value = "";
        msg.replaceChildren(errorBox(err));
      }
    } }, h("label", {}, "User name", name), h("label", {}, "Mechanism", mech), h("label", {}, "Password", pass),
      h("label", {}, "PBKDF2 iterations", iter), h("button", { type: "submit", id: "user-create-submit" }, "Create user"), msg);
  }

  // ---- Transactions ----

  const txnStates = ["Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"];

  Console.route("/transactions", async (params, main) => {
    const state = select("txn-state", txnStates, "any state");
    const list = h("div", { id: "txn-list" });
    const detail = h("div", { id: "txn-detail" });
    const hanging = h("div", { id: "txn-hanging" });
    async function load() {
      try {
        const res = await api("GET", "/api/transactions" + (state.value ? "?state=" + encodeURIComponent(state.value) : ""));
        list.replaceChildren(res.warning ? h("p", { class: "muted", text: res.warning }) : "", txnTable(res.transactions, detail));
      } catch (e) {
        list.replaceChildren(errorBox(e));
      }
    }
    async function findHanging() {
      hanging.replaceChildren(h("p", { class: "muted", text: "Searching every partition's open transactions…" }));
      try {
        const res = await api("GET", "/api/transactions:hanging");
        hanging.replaceChildren(res.warning ? h("p", { class: "muted", text: res.warning }) : "", hangingTable(res.hanging, findHanging));
      } catch (e) {
        hanging.replaceChildren(errorBox(e));
      }
    }
    state.addEventListener("change", load);
    main.append(h("h1", { text: "Transactions" }),
      h("div", { class: "toolbar" }, state, h("button", { type: "button", class: "secondary", onclick: load }, "Refresh")),
      list, detail,
      h("h2", { text: "Hanging transactions" }),
      h("p", { class: "muted", text: "Open transactions their coordinator will never finish: they hold back the partition's last stable offset and every read_committed consumer." }),
      h("button", { type: "button", id: "txn-find-hanging", onclick: findHanging }, "Find hanging transactions"), hanging);
    await load();
  });

  function txnTable(txns, detail) {
    if (!txns.length) return h("p", { class: "muted", id: "txn-empty", text: "No transactional ids." });
    return h("table", { id: "transactions" },
      h("thead", {}, h("tr", {}, ["Transactional id", "State", "Producer id", "Coordinator"].map((t) => h("th", { text: t })))),
      h("tbody", {}, txns.map((t) => h("tr", { class: "txn-row", dataset: { txn: t.transactional_id } },
        h("td", {}, h("a", { href: "#/transactions", class: "mono", onclick: async (e) => {
          e.preventDefault();
          try {
            detail.replaceChildren(txnDetail(await api("GET", "/api/transactions/" + encodeURIComponent(t.transactional_id))));
          } catch (err) {
            detail.replaceChildren(errorBox(err));
          }
        } }, t.transactional_id)),
        h("td", {}, h("span", { class: "badge", text: t.state })),
        h("td", { class: "num", text: String(t.producer_id) }),
        h("td", { class: "num", text: String(t.coordinator) })))));
  }

  function txnDetail(d) {
    const row = (k, v) => h("tr", {}, h("th", { text: k }), h("td", { text: v }));
    return h("div", { class: "card", id: "txn-described" },
      h("h2", { text: d.transactional_id }),
      h("table", {}, h("tbody", {},
        row("State", d.state), row("Producer id", String(d.producer_id)), row("Producer epoch", String(d.producer_epoch)),
        row("Timeout", Console.fmtDuration(d.timeout_ms)), row("Started", d.start_ms > 0 ? fmtTime(d.start_ms) : "–"),
        row("Partitions", (d.partitions || []).map((p) => p.topic + "-" + p.partition).join(", ") || "–"))));
  }

  function hangingTable(found, reload) {
    if (!found.length) return h("p", { class: "muted", id: "hanging-none", text: "No hanging transactions." });
    return h("table", { id: "hanging" },
      h("thead", {}, h("tr", {}, ["Partition", "Start offset", "Producer id", "Epoch", "Last write", ""].map((t) => h("th", { text: t })))),
      h("tbody", {}, found.map((x) => h("tr", { class: "hanging-row" },
        h("td", { class: "mono", text: x.topic + "-" + x.partition }),
        h("td", { class: "num", text: fmtInt(x.start_offset) }),
        h("td", { class: "num", text: String(x.producer_id) }),
        h("td", { class: "num", text: String(x.producer_epoch) }),
        h("td", { text: fmtTime(x.last_timestamp) }),
        h("td", {}, h("button", { class: "danger txn-abort", type: "button", onclick: () => confirmBox(
          "Abort the transaction of producer " + x.producer_id + " on " + x.topic + "-" + x.partition + " starting at offset " + x.start_offset +
          "? Its records stay in the log but read_committed consumers skip them.", "Abort", async () => {
            const res = await api("POST", "/api/transactions:abort", { topic: x.topic, partition: x.partition, start_offset: x.start_offset });
            toast(res.aborted);
            await reload();
          }) }, "Abort"))))));
  }

  // ---- Audit log ----

  Console.route("/audit", async (params, main) => {
    main.append(h("h1", { text: "Audit log" }));
    let res;
    try {
      res = await api("GET", "/api/audit");
    } catch (e) {
      main.append(errorBox(e));
      return;
    }
    const filter = h("input", { id: "audit-filter", type: "search", placeholder: "filter by user, action or target" });
    const body = h("tbody", {});
    const draw = () => {
      const q = filter.value.toLowerCase();
      body.replaceChildren(...res.entries.filter((e) => !q || (e.user + " " + e.action + " " + e.target).toLowerCase().includes(q)).map((e) =>
        h("tr", { class: "audit-row" + (e.ok ? "" : " refused"), dataset: { action: e.action } },
          h("td", { text: fmtTime(Date.parse(e.time)) }),
          h("td", { class: "mono", text: e.user || "(anonymous)" }),
          h("td", { class: "mono", text: e.ip }),
          h("td", { text: e.action }),
          h("td", { class: "mono", text: e.target }),
          h("td", {}, e.ok ? h("span", { class: "badge ok", text: "done" }) : h("span", { class: "badge bad", text: "refused", title: e.error })),
          h("td", { class: "muted", text: e.error || "" }))));
    };
    filter.addEventListener("input", draw);
    main.append(h("p", { class: "muted", text: "The latest " + res.kept + " changes made through the console, newest first (the console's log keeps them all)." }),
      h("div", { class: "toolbar" }, filter),
      h("table", { id: "audit" }, h("thead", {}, h("tr", {}, ["Time", "User", "Address", "Action", "Target", "Result", "Error"].map((t) => h("th", { text: t })))), body));
    draw();
  });
})();
