// Admin settings > Integrations & API > Webhooks: add a webhook, its secret and Rotate, enable or
// disable, delete, send a test event, and each webhook's deliveries with Retry.
// Uses /api/v1/webhooks… (the same service calls as the API). Text through rolodex.t, times
// through rolodex.time; a success goes to the status line, an error beside its field.
"use strict";
(() => {
  const h = (...args) => window.rolodex.h(...args);
  const api = (...args) => window.rolodex.api(...args);
  const t = (...args) => window.rolodex.t(...args);
  const when = (iso) => window.rolodex.time(iso);
  const $ = (id) => document.getElementById(id);
  const POLL_MS = 1000;
  const POLL_ROUNDS = 20;

  // (rolodex.js runs after this file: its helpers are used only once the page has loaded.)
  function statuses() {
    return {
      queued: t("Waiting"), running: t("Sending"), done: t("Delivered"), failed: t("Failed"), cancelled: t("Cancelled"),
    };
  }

  function statusText(status) {
    return statuses()[status] || status;
  }

  function clearErrors() {
    for (const alert of document.querySelectorAll("main .alert[role=alert]:not(.notice)")) {
      alert.hidden = true;
      alert.textContent = "";
    }
    for (const slot of document.querySelectorAll("#webhook-form [data-error-for]")) {
      slot.textContent = "";
      slot.hidden = true;
    }
    for (const input of document.querySelectorAll("#webhook-form [aria-invalid]")) {
      input.removeAttribute("aria-invalid");
    }
  }

  // A success: the status line says it, and earlier errors go.
  function say(text) {
    clearErrors();
    $("webhooks-status").textContent = text;
  }

  // An error: the old success line goes; each message stands beside its field, and the alert
  // of the part of the page the person is working in says what happened.
  function showProblem(summary, failure, alert = $("webhook-error")) {
    clearErrors();
    $("webhooks-status").textContent = "";
    const problem = failure.problem || {};
    const elsewhere = [];
    let first = null;
    for (const error of problem.errors || []) {
      const field = String(error.field || "").split(".")[0];
      const slot = document.querySelector(`#webhook-form [data-error-for="${CSS.escape(field)}"]`);
      if (!slot || alert !== $("webhook-error")) {
        elsewhere.push(error.message);
        continue;
      }
      slot.textContent = slot.textContent ? `${slot.textContent} ${error.message}` : error.message;
      slot.hidden = false;
      const input = document.querySelector(`#webhook-form [aria-describedby~="${slot.id}"]`);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        const focusable = input.tagName === "FIELDSET" ? input.querySelector("input") : input;
        if (!first) first = focusable;
      }
    }
    const detail = elsewhere.join(" ") || (first ? "" : problem.detail || failure.message);
    alert.textContent = detail
      ? t("%(summary)s: %(reason)s", { summary, reason: detail })
      : t("%(summary)s: see the message beside the field.", { summary });
    alert.hidden = false;
    if (first) first.focus();
  }

  function alertOf(w) {
    const section = cardOf(w);
    return section ? section.querySelector(".card-error") : $("webhook-error");
  }

  // --- adding ----------------------------------------------------------------------------

  async function add(event) {
    event.preventDefault();
    clearErrors();
    const url = $("webhook-url").value.trim();
    const events = [...document.querySelectorAll('#webhook-form input[name="events"]:checked')]
      .map((box) => box.value);
    const missing = [];
    if (!url) missing.push({ field: "url", message: t("This field is required.") });
    if (!events.length) missing.push({ field: "events", message: t("Pick at least one event.") });
    if (missing.length) {
      showProblem(t("Not added"), { problem: { errors: missing } });
      return;
    }
    const body = { url, events, description: $("webhook-description").value.trim() };
    let created;
    try {
      created = await api("POST", "/api/v1/webhooks", body);
    } catch (failure) {
      showProblem(t("Not added"), failure);
      return;
    }
    $("webhook-form").reset();
    await loadWebhooks();
    say(t("Webhook added for %(url)s.", { url: created.url }));
  }

  // --- one webhook -----------------------------------------------------------------------

  function hidden(text) {
    return h("span", { class: "visually-hidden", text: ` ${text}` });
  }

  function notice(w) {
    if (w.enabled) return null;
    const text = w.disabled_reason
      ? t("Rolodex disabled this webhook: %(reason)s", { reason: w.disabled_reason })
      : t("This webhook is disabled: nothing is sent to it until it is enabled again.");
    return h("p", { class: "alert notice", role: "alert", text });
  }

  function deliveryRow(w, d) {
    const retry = ["failed", "cancelled", "queued"].includes(d.status)
      ? h("button", {
        type: "button", class: "secondary small", onclick: () => retryDelivery(w, d),
      }, t("Retry"), hidden(t("delivery %(id)s", { id: d.id })))
      : null;
    const next = d.status === "queued" ? d.next_attempt_at : null;
    return h("tr", { "data-delivery-id": d.id, "data-status": d.status },
      h("td", {}, h("code", { text: d.event })),
      h("td", { class: "delivery-status", text: statusText(d.status) }),
      h("td", { text: t("%(attempts)s of %(max)s", { attempts: d.attempts, max: d.max_attempts }) }),
      h("td", { class: "last-error", text: d.last_error || "" }),
      h("td", {}, h("time", { datetime: d.created_at, text: when(d.created_at) })),
      h("td", {}, next ? h("time", { datetime: next, text: when(next) }) : null),
      h("td", {}, retry));
  }

  function card(w) {
    const secretId = `webhook-secret-${w.id}`;
    const statusId = `webhook-delivery-status-${w.id}`;
    const filter = h("select", { id: statusId, onchange: () => loadDeliveries(w) },
      h("option", { value: "", text: t("Every status") }),
      ...Object.entries(statuses()).map(([value, text]) => h("option", { value, text })));
    const rows = h("tbody", { class: "deliveries" });
    const empty = h("p", { class: "empty deliveries-empty", hidden: true });
    const section = h("section", {
      class: "card webhook", "data-webhook-id": w.id, "aria-label": t("Webhook %(url)s", { url: w.url }),
    },
      h("h3", {}, h("span", { class: "mono", text: w.url })),
      w.description ? h("p", { class: "meta", text: w.description }) : null,
      notice(w),
      h("p", { class: "alert card-error", role: "alert", hidden: true }),
      h("p", {}, t("Events:"), " ", ...w.events.flatMap((e, i) => [i ? ", " : "", h("code", { text: e })])),
      h("label", { for: secretId, text: t("Signing secret") }),
      h("div", { class: "value-line" },
        h("input", { id: secretId, readonly: true, class: "mono", value: w.secret }),
        h("button", { type: "button", class: "secondary small", onclick: () => rotate(w) },
          t("Rotate secret"), hidden(w.url))),
      h("p", { class: "data-actions" },
        h("button", { type: "button", class: "secondary small", onclick: () => toggle(w) },
          w.enabled ? t("Disable") : t("Enable"), hidden(w.url)),
        h("button", { type: "button", class: "secondary small", onclick: () => sendTest(w), disabled: !w.enabled },
          t("Send test event"), hidden(w.url)),
        h("button", { type: "button", class: "secondary small", onclick: () => remove(w) },
          t("Delete"), hidden(w.url))),
      h("h4", { text: t("Deliveries") }),
      h("div", { class: "filters" },
        h("label", { for: statusId, text: t("Delivery status") }),
        filter,
        h("button", { type: "button", class: "secondary small", onclick: () => loadDeliveries(w) },
          t("Refresh"), hidden(w.url))),
      h("table", { class: "log data-table", "aria-label": t("Deliveries to %(url)s", { url: w.url }) },
        h("thead", {}, h("tr", {},
          ...[t("Event"), t("Status"), t("Attempts"), t("Last error"), t("Created"), t("Next attempt")]
            .map((text) => h("th", { scope: "col", text })),
          h("th", { scope: "col" }, h("span", { class: "visually-hidden", text: t("Actions") })))),
        rows),
      empty);
    return section;
  }

  function cardOf(w) {
    return document.querySelector(`section[data-webhook-id="${CSS.escape(w.id)}"]`);
  }

  async function loadDeliveries(w) {
    const section = cardOf(w);
    if (!section) return [];
    const status = section.querySelector("select").value;
    const query = new URLSearchParams({ limit: "50" });
    if (status) query.set("status", status);
    let page;
    try {
      page = await api("GET", `/api/v1/webhooks/${encodeURIComponent(w.id)}/deliveries?${query}`);
    } catch (failure) {
      showProblem(t("The deliveries could not be loaded"), failure, alertOf(w));
      return [];
    }
    section.querySelector("tbody.deliveries").replaceChildren(...page.items.map((d) => deliveryRow(w, d)));
    const empty = section.querySelector(".deliveries-empty");
    if (status) {
      const clear = h("button", {
        type: "button",
        class: "link-button",
        onclick: () => { section.querySelector("select").value = ""; loadDeliveries(w); },
      }, t("Show every status"));
      empty.replaceChildren(t("No delivery has the status “%(status)s”.", { status: statusText(status) }), " ", clear);
    } else {
      empty.textContent = t("No deliveries yet.");
    }
    empty.hidden = page.items.length > 0;
    return page.items;
  }

  // After a test or a retry: refresh until nothing of this webhook is waiting to be sent now.
  async function follow(w) {
    for (let round = 0; round < POLL_ROUNDS; round += 1) {
      await new Promise((resolve) => { setTimeout(resolve, POLL_MS); });
      const items = await loadDeliveries(w);
      const now = Date.now();
      const busy = items.some((d) => d.status === "running"
        || (d.status === "queued" && new Date(d.next_attempt_at).getTime() <= now + POLL_MS));
      if (!busy) return;
    }
  }

  async function rotate(w) {
    if (!window.confirm(t("Rotate the signing secret? Your receiver must use the new one from now on."))) return;
    try {
      const { secret } = await api("POST", `/api/v1/webhooks/${encodeURIComponent(w.id)}/secret`);
      w.secret = secret;
      $(`webhook-secret-${w.id}`).value = secret;
    } catch (failure) {
      showProblem(t("The secret could not be rotated"), failure, alertOf(w));
      return;
    }
    say(t("Signing secret rotated. Give the new one to your receiver."));
  }

  async function toggle(w) {
    try {
      await api("PATCH", `/api/v1/webhooks/${encodeURIComponent(w.id)}`, { enabled: !w.enabled });
    } catch (failure) {
      showProblem(t("The webhook could not be changed"), failure, alertOf(w));
      return;
    }
    await loadWebhooks();
    say(w.enabled ? t("Webhook %(url)s disabled.", { url: w.url }) : t("Webhook %(url)s enabled.", { url: w.url }));
  }

  async function remove(w) {
    if (!window.confirm(t("Delete the webhook for %(url)s? Nothing more is sent to it.", { url: w.url }))) return;
    try {
      await api("DELETE", `/api/v1/webhooks/${encodeURIComponent(w.id)}`);
    } catch (failure) {
      showProblem(t("The webhook could not be deleted"), failure, alertOf(w));
      return;
    }
    await loadWebhooks();
    say(t("Webhook %(url)s deleted.", { url: w.url }));
  }

  async function sendTest(w) {
    try {
      await api("POST", `/api/v1/webhooks/${encodeURIComponent(w.id)}/test`);
    } catch (failure) {
      showProblem(t("The test event could not be sent"), failure, alertOf(w));
      return;
    }
    say(t("Test event queued for %(url)s.", { url: w.url }));
    await loadDeliveries(w);
    await follow(w);
  }

  async function retryDelivery(w, d) {
    try {
      await api("POST", `/api/v1/webhooks/${encodeURIComponent(w.id)}/deliveries/${encodeURIComponent(d.id)}/retry`);
    } catch (failure) {
      showProblem(t("The delivery could not be retried"), failure, alertOf(w));
      return;
    }
    say(t("Delivery queued to be sent now."));
    await loadDeliveries(w);
    await follow(w);
  }

  async function loadWebhooks() {
    let page;
    try {
      page = await api("GET", "/api/v1/webhooks?limit=200");
    } catch (failure) {
      showProblem(t("The webhooks could not be loaded"), failure);
      return;
    } finally {
      $("webhooks-list").setAttribute("aria-busy", "false");
    }
    $("webhooks-list").replaceChildren(...page.items.map(card));
    $("webhooks-empty").hidden = page.items.length > 0;
    await Promise.all(page.items.map(loadDeliveries));
  }

  function start() {
    $("webhook-form").addEventListener("submit", add);
    loadWebhooks();
  }

  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
