// login.js: the sign-in page (#/login). The user name and password go to
// POST /api/login; the answer is the session (with its CSRF token). A
// wrong password and an unknown user get the same message; after too many
// failures the console answers 429 with Retry-After, and the page says how
// long to wait and keeps the button disabled until then.
"use strict";

(() => {
  const { h } = Console;

  Console.route("/login", async (params, main) => {
    const s = Console.session();
    if (s && !s.login_required) {
      main.append(h("div", { class: "login card" },
        h("h1", { text: "No sign-in" }),
        h("p", { text: "This console has no sign-in: it reaches a cluster without SASL and was started without console accounts." }),
        h("a", { href: "#/" }, "Go to the overview")));
      return;
    }
    if (s && s.signed_in) {
      main.append(h("div", { class: "login card" },
        h("h1", { text: "Signed in" }),
        h("p", {}, "You are signed in as ", h("b", { text: s.user }), "."),
        h("a", { href: "#/" }, "Go to the overview")));
      return;
    }
    const user = h("input", { id: "login-user", name: "user", autocomplete: "username", required: true, autofocus: true });
    const pass = h("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true });
    const submit = h("button", { id: "login-submit", type: "submit" }, "Sign in");
    const msg = h("div", { id: "login-error", class: "error", role: "alert", hidden: true });
    let timer = null;
    Console.onLeave(() => clearInterval(timer));

    // wait(secs): the button stays disabled, counting down.
    function wait(secs) {
      clearInterval(timer);
      let left = Math.max(1, Math.ceil(secs));
      const show = () => {
        msg.textContent = "Too many failed sign-in attempts: wait " + left + " s before trying again.";
        submit.textContent = "Wait " + left + " s";
      };
      submit.disabled = true;
      msg.hidden = false;
      msg.dataset.retryAfter = String(left);
      show();
      timer = setInterval(() => {
        left--;
        if (left <= 0) {
          clearInterval(timer);
          submit.disabled = false;
          submit.textContent = "Sign in";
          msg.textContent = "You may try again.";
          return;
        }
        show();
      }, 1000);
    }

    const form = h("form", { class: "stack login card", id: "login-form", onsubmit: async (e) => {
      e.preventDefault();
      msg.hidden = true;
      submit.disabled = true;
      try {
        const info = await Console.api("POST", "/api/login", { user: user.value, password: pass.value });
        pass.value = "";
        Console.setSession(info);
        Console.go("#/");
      } catch (err) {
        pass.value = "";
        if (err.status === 429) {
          wait(err.retryAfter || 1);
          return;
        }
        msg.textContent = err.message;
        msg.hidden = false;
        submit.disabled = false;
      }
    } },
      h("h1", { text: "Sign in to Courier Console" }),
      h("p", { class: "muted", text: s && s.sign_in === "console"
        ? "With your console account (--console-users)."
        : "With your Kafka user name and password: the console then acts as you, and the cluster's ACLs decide what you see and may do." }),
      h("label", {}, "User name", user),
      h("label", {}, "Password", pass),
      submit,
      msg);
    main.append(form);
    user.focus();
  });
})();
