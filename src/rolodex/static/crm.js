// Admin settings > Integrations & API > CRM: the connection, its shared secret, the editing switch,
// client credentials for the CRM and the write-back deliveries.
// Uses /api/v1/integrations/crm… (the same service calls as the API). Text through rolodex.t,
// times through rolodex.time; a success goes to the status line, an error beside its field.
"use strict";
(() => {
  const h = (...args) => window.rolodex.h(...args);
  const api = (...args) => window.rolodex.api(...args);
  const t = (...args) => window.rolodex.t(...args);
  const when = (iso) => window.rolodex.time(iso);
  const $ = (id) => document.getElementById(id);
  let integration = null;
  let deliveriesCursor = null;

  // (rolodex.js runs after this file: its helpers are used only once the page has loaded.)
  function statusText(status) {
    const names = {
      queued: t("Waiting"), running: t("Sending"), done: t("Delivered"), failed: t("Failed"), cancelled: t("Cancelled"),
    };
    return names[status] || status;
  }

  function eventText(type) {
    const names = {
      CONVERSATION_RESOLVED: t("Conversation resolved"),
      CONVERSATION_SET_TO_PENDING: t("Conversation set to pending"),
    };
    return names[type] || type;
  }

  // --- messages --------------------------------------------------------------------------

  function clearErrors() {
    for (const alert of document.querySelectorAll("main .alert[role=alert]")) {
      alert.hidden = true;
      alert.textContent = "";
    }
    for (const slot of document.querySelectorAll("[data-error-for]")) {
      slot.textContent = "";
      slot.hidden = true;
    }
    for (const input of document.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  }

  // A success: the status line says it, and earlier errors go.
  function say(text) {
    clearErrors();
    $("crm-status").textContent = text;
  }

  // An error: the old success line goes; the message stands beside its field, and the alert of
  // the section the person is working in says what happened.
  function showProblem(summary, failure, alert = "crm-error", scope = "crm-form") {
    clearErrors();
    $("crm-status").textContent = "";
    const problem = failure.problem || {};
    const elsewhere = [];
    let first = null;
    for (const error of problem.errors || []) {
      // "auth.oauth2.token_url" (inside the discriminated union) is "auth.token_url".
      const field = String(error.field || "").replace(/^auth\.(oauth2|shared_secret)\./, "auth.");
      const slot = document.querySelector(`#${scope} [data-error-for="${CSS.escape(field)}"]`);
      if (!slot) {
        elsewhere.push(error.message);
        continue;
      }
      slot.textContent = slot.textContent ? `${slot.textContent} ${error.message}` : error.message;
      slot.hidden = false;
      const input = document.querySelector(`[aria-describedby~="${slot.id}"]`);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        if (!first) first = input;
      }
    }
    const detail = elsewhere.join(" ") || (first ? "" : problem.detail || failure.message);
    $(alert).textContent = detail
      ? t("%(summary)s: %(reason)s", { summary, reason: detail })
      : t("%(summary)s: see the message beside the field.", { summary });
    $(alert).hidden = false;
    if (first) first.focus();
  }

  // --- the connection --------------------------------------------------------------------

  function authType() {
    const checked = document.querySelector('#crm-form input[name="auth_type"]:checked');
    return checked ? checked.value : "shared_secret";
  }

  function showAuth() {
    $("crm-oauth").hidden = authType() !== "oauth2";
  }

  function fill(data) {
    integration = data;
    $("crm-lookup-url").value = data.lookup_url || "";
    $("crm-write-back-url").value = data.write_back_url || "";
    $("crm-notification-url").value = data.notification_url || "";
    const auth = data.auth || { type: "shared_secret" };
    for (const radio of document.querySelectorAll('#crm-form input[name="auth_type"]')) {
      radio.checked = radio.value === auth.type;
    }
    $("crm-token-url").value = auth.token_url || "";
    $("crm-client-id").value = auth.client_id || "";
    $("crm-client-secret").value = "";
    $("crm-client-secret").placeholder = auth.client_secret_set ? t("•••••••• (stored)") : "";
    $("crm-scope").value = auth.scope || "";
    $("crm-timeout").value = String(data.timeout_seconds ?? 5);
    $("crm-agents-edit").checked = Boolean(data.agents_can_edit_crm_managed);
    showAuth();
    const secret = data.configured ? data.shared_secret || "" : "";
    $("crm-secret").value = secret;
    $("crm-secret-box").hidden = !secret;
    $("crm-secret-empty").hidden = Boolean(secret);
    $("crm-disconnect").hidden = !data.configured;
  }

  function optional(id) {
    const value = $(id).value.trim();
    return value || null;
  }

  function body() {
    const data = {
      lookup_url: $("crm-lookup-url").value.trim(),
      write_back_url: optional("crm-write-back-url"),
      notification_url: optional("crm-notification-url"),
      auth: { type: "shared_secret" },
      timeout_seconds: Number($("crm-timeout").value || 5),
      agents_can_edit_crm_managed: $("crm-agents-edit").checked,
    };
    if (authType() === "oauth2") {
      data.auth = {
        type: "oauth2",
        token_url: $("crm-token-url").value.trim(),
        client_id: $("crm-client-id").value.trim(),
        scope: optional("crm-scope"),
      };
      const secret = $("crm-client-secret").value;
      if (secret) data.auth.client_secret = secret;
    }
    return data;
  }

  async function save(event) {
    event.preventDefault();
    const data = body();
    const missing = [];
    if (!data.lookup_url) missing.push("lookup_url");
    if (data.auth.type === "oauth2") {
      if (!data.auth.token_url) missing.push("auth.token_url");
      if (!data.auth.client_id) missing.push("auth.client_id");
    }
    if (missing.length) {
      const errors = missing.map((field) => ({ field, message: t("This field is required.") }));
      showProblem(t("Not saved"), { problem: { errors } });
      return;
    }
    try {
      fill(await api("PUT", "/api/v1/integrations/crm", data));
    } catch (failure) {
      showProblem(t("Not saved"), failure);
      return;
    }
    say(t("CRM settings saved."));
  }

  // The form stays disabled until the stored settings are in it (nothing typed is overwritten).
  async function load() {
    try {
      fill(await api("GET", "/api/v1/integrations/crm"));
    } catch (failure) {
      showProblem(t("The CRM settings could not be loaded"), failure);
    } finally {
      $("crm-fields").disabled = false;
      $("crm-fields").setAttribute("aria-busy", "false");
    }
  }

  async function rotate() {
    if (!window.confirm(t("Rotate the shared secret? The CRM must use the new one from now on."))) return;
    try {
      const { shared_secret: secret } = await api("POST", "/api/v1/integrations/crm/secret");
      $("crm-secret").value = secret;
      if (integration) integration.shared_secret = secret;
    } catch (failure) {
      showProblem(t("The secret could not be rotated"), failure, "crm-secret-error");
      return;
    }
    say(t("Shared secret rotated. Give the new one to the CRM."));
  }

  async function disconnect() {
    if (!window.confirm(t("Disconnect the CRM? Look-ups and write-backs stop."))) return;
    try {
      await api("DELETE", "/api/v1/integrations/crm");
    } catch (failure) {
      showProblem(t("The CRM could not be disconnected"), failure);
      return;
    }
    await load();
    say(t("CRM disconnected."));
  }

  // --- client credentials ----------------------------------------------------------------

  function credentialRow(c) {
    const status = c.revoked_at
      ? h("span", { class: "meta", text: t("Revoked %(time)s", { time: when(c.revoked_at) }) })
      : h("button", {
        type: "button", class: "secondary small", onclick: () => revoke(c),
      }, t("Revoke"), h("span", { class: "visually-hidden", text: ` ${c.name} (${c.client_id})` }));
    return h("tr", { "data-client-id": c.client_id },
      h("td", { text: c.name }),
      h("td", {}, h("code", { text: c.client_id })),
      h("td", {}, h("time", { datetime: c.created_at, text: when(c.created_at) })),
      h("td", {}, status));
  }

  async function loadCredentials() {
    let items;
    try {
      items = await api("GET", "/api/v1/integrations/crm/credentials");
    } catch (failure) {
      showProblem(t("The client credentials could not be loaded"), failure, "crm-credentials-error");
      return;
    }
    $("crm-credentials-list").replaceChildren(...items.map(credentialRow));
    $("crm-credentials-empty").hidden = items.length > 0;
  }

  async function createCredentials(event) {
    event.preventDefault();
    const name = $("crm-credentials-name").value.trim() || "CRM";
    let created;
    try {
      created = await api("POST", "/api/v1/integrations/crm/credentials", { name });
    } catch (failure) {
      showProblem(t("The client credentials could not be created"), failure, "crm-credentials-error", "crm-credentials-form");
      return;
    }
    $("crm-new-client-id").value = created.client_id;
    $("crm-new-client-secret").value = created.client_secret;
    $("crm-new-credentials").hidden = false;
    say(t("Client credentials “%(name)s” created. Copy the secret now: it is shown only once.", { name: created.name }));
    $("crm-new-client-secret").focus();
    $("crm-new-client-secret").select();
    loadCredentials();
  }

  async function revoke(c) {
    if (!window.confirm(t("Revoke “%(name)s”? The CRM can no longer call Rolodex with it.", { name: c.name }))) return;
    try {
      await api("DELETE", `/api/v1/integrations/crm/credentials/${encodeURIComponent(c.client_id)}`);
    } catch (failure) {
      showProblem(t("The client credentials could not be revoked"), failure, "crm-credentials-error");
      return;
    }
    if ($("crm-new-client-id").value === c.client_id) $("crm-new-credentials").hidden = true;
    say(t("Client credentials “%(name)s” revoked.", { name: c.name }));
    loadCredentials();
  }

  // --- deliveries ------------------------------------------------------------------------

  function deliveryRow(d) {
    const retry = d.status === "failed" || d.status === "queued"
      ? h("button", {
        type: "button", class: "secondary small", onclick: () => retryDelivery(d),
      }, t("Retry now"), h("span", { class: "visually-hidden", text: " " + t("delivery %(id)s", { id: d.id }) }))
      : null;
    const next = d.status === "done" || d.status === "cancelled" ? null : d.next_attempt_at;
    return h("tr", { "data-delivery-id": d.id, "data-status": d.status },
      h("td", { text: eventText(d.type) }),
      h("td", {}, h("a", { href: `/conversations/${encodeURIComponent(d.conversation_id)}`, class: "mono", text: d.conversation_id })),
      h("td", { text: statusText(d.status) }),
      h("td", { text: t("%(attempts)s of %(max)s", { attempts: d.attempts, max: d.max_attempts }) }),
      h("td", { class: "last-error", text: d.last_error || "" }),
      h("td", {}, next ? h("time", { datetime: next, text: when(next) }) : null),
      h("td", {}, retry));
  }

  function showEmpty() {
    const empty = $("crm-deliveries-empty");
    const filtered = $("crm-delivery-status").value;
    if (filtered) {
      const clear = h("button", {
        type: "button", class: "link-button", onclick: () => { $("crm-delivery-status").value = ""; loadDeliveries(null); },
      }, t("Show every status"));
      empty.replaceChildren(t("No delivery has the status “%(status)s”.", { status: statusText(filtered) }), " ", clear);
    } else {
      empty.textContent = t("No deliveries yet. Agents' changes to CRM-managed attributes appear here when they are sent.");
    }
    empty.hidden = $("crm-deliveries-list").children.length > 0;
  }

  async function loadDeliveries(cursor) {
    const status = $("crm-delivery-status").value;
    const query = new URLSearchParams({ limit: "50" });
    if (status) query.set("status", status);
    if (cursor) query.set("cursor", cursor);
    let page;
    try {
      page = await api("GET", `/api/v1/integrations/crm/deliveries?${query}`);
    } catch (failure) {
      showProblem(t("The deliveries could not be loaded"), failure, "crm-deliveries-error");
      return;
    }
    const rows = page.items.map(deliveryRow);
    if (cursor) $("crm-deliveries-list").append(...rows);
    else $("crm-deliveries-list").replaceChildren(...rows);
    deliveriesCursor = page.next_cursor;
    $("crm-deliveries-more").hidden = !deliveriesCursor;
    showEmpty();
  }

  async function retryDelivery(d) {
    let fresh;
    try {
      fresh = await api("POST", `/api/v1/integrations/crm/deliveries/${encodeURIComponent(d.id)}/retry`);
    } catch (failure) {
      showProblem(t("The delivery could not be retried"), failure, "crm-deliveries-error");
      return;
    }
    const old = document.querySelector(`tr[data-delivery-id="${CSS.escape(d.id)}"]`);
    if (old) old.replaceWith(deliveryRow(fresh));
    say(t("Delivery queued to be sent now."));
  }

  function start() {
    $("crm-form").addEventListener("submit", save);
    for (const radio of document.querySelectorAll('#crm-form input[name="auth_type"]')) {
      radio.addEventListener("change", showAuth);
    }
    $("crm-rotate").addEventListener("click", rotate);
    $("crm-disconnect").addEventListener("click", disconnect);
    $("crm-credentials-form").addEventListener("submit", createCredentials);
    $("crm-delivery-status").addEventListener("change", () => loadDeliveries(null));
    $("crm-deliveries-refresh").addEventListener("click", () => loadDeliveries(null));
    $("crm-deliveries-more").addEventListener("click", () => loadDeliveries(deliveriesCursor));
    load();
    loadCredentials();
    loadDeliveries(null);
  }

  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
