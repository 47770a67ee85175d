// Admin settings > Integrations & API > Webhooks: add a webhook, its secret and Rotate, enable or
// disable, delete, send a test event, and each webhook's deliveries with Retry.
// Uses /api/v1/webhooks… (the same service calls as the API).
"use strict";
(() => {
  const h = (...args) => window.rolodex.h(...args);
  const api = (...args) => window.rolodex.api(...args);
  const $ = (id) => document.getElementById(id);
  const LABELS = { url: "Endpoint URL", description: "Description", events: "Events" };
  const STATUSES = {
    queued: "Waiting", running: "Sending", done: "Delivered", failed: "Failed", cancelled: "Cancelled",
  };
  const POLL_MS = 1000;
  const POLL_ROUNDS = 20;

  function when(iso) {
    return iso ? new Date(iso).toLocaleString() : "";
  }

  function say(text) {
    $("webhooks-status").textContent = text;
  }

  function clearErrors() {
    for (const slot of document.querySelectorAll("#webhook-form [data-error-for]")) {
      slot.textContent = "";
      slot.hidden = true;
    }
    for (const input of document.querySelectorAll("#webhook-form [aria-invalid]")) {
      input.removeAttribute("aria-invalid");
    }
  }

  // Field errors of the add form go beside their control and, named, into the status line.
  function showProblem(prefix, failure) {
    const problem = failure.problem || {};
    const errors = problem.errors || [];
    const named = [];
    let first = null;
    for (const error of errors) {
      const field = String(error.field || "").split(".")[0];
      named.push(`${LABELS[field] || field}: ${error.message}`);
      const slot = document.querySelector(`#webhook-form [data-error-for="${CSS.escape(field)}"]`);
      if (!slot) continue;
      slot.textContent = slot.textContent ? `${slot.textContent}; ${error.message}` : error.message;
      slot.hidden = false;
      const input = document.querySelector(`#webhook-form [aria-describedby~="${slot.id}"]`);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        if (!first && input.tagName === "INPUT") first = input;
      }
    }
    say(`${prefix}: ${named.length ? named.join("; ") : problem.detail || failure.message}`);
    if (first) first.focus();
  }

  // --- adding ----------------------------------------------------------------------------

  async function add(event) {
    event.preventDefault();
    clearErrors();
    const url = $("webhook-url").value.trim();
    const events = [...document.querySelectorAll('#webhook-form input[name="events"]:checked')]
      .map((box) => box.value);
    const missing = [];
    if (!url) missing.push({ field: "url", message: "Required." });
    if (!events.length) missing.push({ field: "events", message: "Pick at least one event." });
    if (missing.length) {
      showProblem("Not added", { problem: { errors: missing } });
      return;
    }
    const body = { url, events, description: $("webhook-description").value.trim() };
    let created;
    try {
      created = await api("POST", "/api/v1/webhooks", body);
    } catch (failure) {
      showProblem("Not added", failure);
      return;
    }
    $("webhook-form").reset();
    await loadWebhooks();
    say(`Webhook added for ${created.url}.`);
  }

  // --- one webhook -----------------------------------------------------------------------

  function hidden(text) {
    return h("span", { class: "visually-hidden", text: ` ${text}` });
  }

  function notice(w) {
    if (w.enabled) return null;
    const text = w.disabled_reason
      ? `This webhook was disabled by Rolodex: ${w.disabled_reason}`
      : "This webhook is disabled: nothing is sent to it until it is enabled again.";
    return h("p", { class: "alert", role: "alert", text });
  }

  function deliveryRow(w, d) {
    const retry = ["failed", "cancelled", "queued"].includes(d.status)
      ? h("button", {
        type: "button", class: "secondary small", onclick: () => retryDelivery(w, d),
      }, "Retry", hidden(`delivery ${d.id}`))
      : null;
    return h("tr", { "data-delivery-id": d.id, "data-status": d.status },
      h("td", {}, h("code", { text: d.event })),
      h("td", { class: "delivery-status", text: STATUSES[d.status] || d.status }),
      h("td", { text: `${d.attempts} of ${d.max_attempts}` }),
      h("td", { class: "last-error", text: d.last_error || "" }),
      h("td", { text: when(d.created_at) }),
      h("td", { text: d.status === "queued" ? when(d.next_attempt_at) : "" }),
      h("td", {}, retry));
  }

  function card(w) {
    const secretId = `webhook-secret-${w.id}`;
    const statusId = `webhook-delivery-status-${w.id}`;
    const filter = h("select", { id: statusId, onchange: () => loadDeliveries(w) },
      h("option", { value: "", text: "Every status" }),
      ...Object.entries(STATUSES).map(([value, text]) => h("option", { value, text })));
    const rows = h("tbody", { class: "deliveries" });
    const empty = h("p", { class: "empty deliveries-empty", text: "No deliveries yet.", hidden: true });
    const section = h("section", { class: "card webhook", "data-webhook-id": w.id, "aria-label": `Webhook ${w.url}` },
      h("h3", {}, h("span", { class: "mono", text: w.url })),
      w.description ? h("p", { class: "meta", text: w.description }) : null,
      notice(w),
      h("p", {}, "Events: ", ...w.events.flatMap((e, i) => [i ? ", " : "", h("code", { text: e })])),
      h("label", { for: secretId, text: "Signing secret" }),
      h("div", { class: "value-line" },
        h("input", { id: secretId, readonly: true, class: "mono", value: w.secret }),
        h("button", { type: "button", class: "secondary small", onclick: () => rotate(w) },
          "Rotate secret", hidden(`of ${w.url}`))),
      h("p", {},
        h("button", { type: "button", class: "secondary small", onclick: () => toggle(w) },
          w.enabled ? "Disable" : "Enable", hidden(w.url)),
        " ",
        h("button", { type: "button", class: "secondary small", onclick: () => sendTest(w), disabled: !w.enabled },
          "Send test event", hidden(`to ${w.url}`)),
        " ",
        h("button", { type: "button", class: "secondary small", onclick: () => remove(w) },
          "Delete", hidden(w.url))),
      h("h4", { text: "Deliveries" }),
      h("div", { class: "filters" },
        h("label", { for: statusId, text: "Delivery status" }),
        filter,
        h("button", { type: "button", class: "secondary small", onclick: () => loadDeliveries(w) },
          "Refresh", hidden(`deliveries of ${w.url}`))),
      h("table", { class: "log", "aria-label": `Deliveries to ${w.url}` },
        h("thead", {}, h("tr", {},
          ...["Event", "Status", "Attempts", "Last error", "Created", "Next attempt"]
            .map((text) => h("th", { scope: "col", text })),
          h("th", { scope: "col" }, h("span", { class: "visually-hidden", text: "Actions" })))),
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
      say(`The deliveries could not be loaded: ${failure.message}`);
      return [];
    }
    section.querySelector("tbody.deliveries").replaceChildren(...page.items.map((d) => deliveryRow(w, d)));
    section.querySelector(".deliveries-empty").hidden = page.items.length > 0;
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
    if (!window.confirm("Rotate the signing secret? Your receiver must use the new one from now on.")) return;
    try {
      const { secret } = await api("POST", `/api/v1/webhooks/${encodeURIComponent(w.id)}/secret`);
      w.secret = secret;
      $(`webhook-secret-${w.id}`).value = secret;
    } catch (failure) {
      showProblem("The secret could not be rotated", failure);
      return;
    }
    say("Signing secret rotated. Give the new one to your receiver.");
  }

  async function toggle(w) {
    try {
      await api("PATCH", `/api/v1/webhooks/${encodeURIComponent(w.id)}`, { enabled: !w.enabled });
    } catch (failure) {
      showProblem("The webhook could not be changed", failure);
      return;
    }
    await loadWebhooks();
    say(w.enabled ? `Webhook ${w.url} disabled.` : `Webhook ${w.url} enabled.`);
  }

  async function remove(w) {
    if (!window.confirm(`Delete the webhook for ${w.url}? Nothing more is sent to it.`)) return;
    try {
      await api("DELETE", `/api/v1/webhooks/${encodeURIComponent(w.id)}`);
    } catch (failure) {
      showProblem("The webhook could not be deleted", failure);
      return;
    }
    await loadWebhooks();
    say(`Webhook ${w.url} deleted.`);
  }

  async function sendTest(w) {
    try {
      await api("POST", `/api/v1/webhooks/${encodeURIComponent(w.id)}/test`);
    } catch (failure) {
      showProblem("The test event could not be sent", failure);
      return;
    }
    say(`Test event queued for ${w.url}.`);
    await loadDeliveries(w);
    await follow(w);
  }

  async function retryDelivery(w, d) {
    try {
      await api("POST", `/api/v1/webhooks/${encodeURIComponent(w.id)}/deliveries/${encodeURIComponent(d.id)}/retry`);
    } catch (failure) {
      showProblem("The delivery could not be retried", failure);
      return;
    }
    say("Delivery queued to be sent now.");
    await loadDeliveries(w);
    await follow(w);
  }

  async function loadWebhooks() {
    let page;
    try {
      page = await api("GET", "/api/v1/webhooks?limit=200");
    } catch (failure) {
      say(`The webhooks could not be loaded: ${failure.message}`);
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
