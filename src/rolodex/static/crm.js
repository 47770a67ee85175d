// Admin settings > Integrations & API > CRM: the connection, its shared secret, the editing switch,
// client credentials for the CRM and the write-back deliveries.
// Uses /api/v1/integrations/crm… (the same service calls as the API).
"use strict";
(() => {
  const h = (...args) => window.rolodex.h(...args);
  const api = (...args) => window.rolodex.api(...args);
  const $ = (id) => document.getElementById(id);
  const LABELS = {
    lookup_url: "Lookup URL",
    write_back_url: "Write-back URL",
    notification_url: "Notification URL",
    "auth.token_url": "Token URL",
    "auth.client_id": "Client ID",
    "auth.client_secret": "Client secret",
    "auth.scope": "Scope",
    timeout_seconds: "Timeout (seconds)",
    agents_can_edit_crm_managed: "Enable editing of CRM-managed contact attributes",
  };
  const STATUSES = {
    queued: "Queued", running: "Running", done: "Done", failed: "Failed", cancelled: "Cancelled",
  };
  let integration = null;
  let deliveriesCursor = null;

  function when(iso) {
    return iso ? new Date(iso).toLocaleString() : "";
  }

  function say(text) {
    $("crm-status").textContent = text;
  }

  // "auth.oauth2.token_url" (a validation error inside the discriminated union) -> "auth.token_url".
  function fieldName(field) {
    return String(field || "").replace(/^auth\.(oauth2|shared_secret)\./, "auth.");
  }

  function clearErrors() {
    for (const slot of document.querySelectorAll("#crm-form [data-error-for]")) {
      slot.textContent = "";
      slot.hidden = true;
      const input = document.querySelector(`[aria-describedby~="${slot.id}"]`);
      if (input) input.removeAttribute("aria-invalid");
    }
  }

  // Field errors go beside their control and, named, into the status line.
  function showProblem(prefix, failure) {
    const problem = failure.problem || {};
    const errors = problem.errors || [];
    const named = [];
    let first = null;
    for (const error of errors) {
      const field = fieldName(error.field);
      named.push(`${LABELS[field] || field}: ${error.message}`);
      const slot = document.querySelector(`#crm-form [data-error-for="${CSS.escape(field)}"]`);
      if (!slot) continue;
      slot.textContent = slot.textContent ? `${slot.textContent}; ${error.message}` : error.message;
      slot.hidden = false;
      const input = document.querySelector(`[aria-describedby~="${slot.id}"]`);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        if (!first) first = input;
      }
    }
    say(`${prefix}: ${named.length ? named.join("; ") : problem.detail || failure.message}`);
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
    $("crm-client-secret").placeholder = auth.client_secret_set ? "•••••••• (stored)" : "";
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
    clearErrors();
    const data = body();
    const missing = [];
    if (!data.lookup_url) missing.push("lookup_url");
    if (data.auth.type === "oauth2") {
      if (!data.auth.token_url) missing.push("auth.token_url");
      if (!data.auth.client_id) missing.push("auth.client_id");
    }
    if (missing.length) {
      const errors = missing.map((field) => ({ field, message: "Required." }));
      showProblem("Not saved", { problem: { errors } });
      return;
    }
    try {
      fill(await api("PUT", "/api/v1/integrations/crm", data));
    } catch (failure) {
      showProblem("Not saved", failure);
      return;
    }
    say("CRM settings saved.");
  }

  // The form stays disabled until the stored settings are in it (nothing typed is overwritten).
  async function load() {
    try {
      fill(await api("GET", "/api/v1/integrations/crm"));
    } catch (failure) {
      say(`The CRM settings could not be loaded: ${failure.message}`);
    } finally {
      $("crm-fields").disabled = false;
      $("crm-fields").setAttribute("aria-busy", "false");
    }
  }

  async function rotate() {
    if (!window.confirm("Rotate the shared secret? The CRM must use the new one from now on.")) return;
    try {
      const { shared_secret: secret } = await api("POST", "/api/v1/integrations/crm/secret");
      $("crm-secret").value = secret;
      if (integration) integration.shared_secret = secret;
    } catch (failure) {
      showProblem("The secret could not be rotated", failure);
      return;
    }
    say("Shared secret rotated. Give the new one to the CRM.");
  }

  async function disconnect() {
    if (!window.confirm("Disconnect the CRM? Look-ups and write-backs stop.")) return;
    try {
      await api("DELETE", "/api/v1/integrations/crm");
    } catch (failure) {
      showProblem("The CRM could not be disconnected", failure);
      return;
    }
    await load();
    say("CRM disconnected.");
  }

  // --- client credentials ----------------------------------------------------------------

  function credentialRow(c) {
    const status = c.revoked_at
      ? h("span", { class: "meta", text: `Revoked ${when(c.revoked_at)}` })
      : h("button", {
        type: "button", class: "secondary small", onclick: () => revoke(c),
      }, "Revoke", h("span", { class: "visually-hidden", text: ` ${c.name} (${c.client_id})` }));
    return h("tr", { "data-client-id": c.client_id },
      h("td", { text: c.name }),
      h("td", {}, h("code", { text: c.client_id })),
      h("td", { text: when(c.created_at) }),
      h("td", {}, status));
  }

  async function loadCredentials() {
    let items;
    try {
      items = await api("GET", "/api/v1/integrations/crm/credentials");
    } catch (failure) {
      say(`The client credentials could not be loaded: ${failure.message}`);
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
      showProblem("The client credentials could not be created", failure);
      return;
    }
    $("crm-new-client-id").value = created.client_id;
    $("crm-new-client-secret").value = created.client_secret;
    $("crm-new-credentials").hidden = false;
    say(`Client credentials "${created.name}" created. Copy the secret now: it is shown only once.`);
    $("crm-new-client-secret").focus();
    $("crm-new-client-secret").select();
    loadCredentials();
  }

  async function revoke(c) {
    if (!window.confirm(`Revoke "${c.name}"? The CRM can no longer call Rolodex with it.`)) return;
    try {
      await api("DELETE", `/api/v1/integrations/crm/credentials/${encodeURIComponent(c.client_id)}`);
    } catch (failure) {
      showProblem("The client credentials could not be revoked", failure);
      return;
    }
    if ($("crm-new-client-id").value === c.client_id) $("crm-new-credentials").hidden = true;
    say(`Client credentials "${c.name}" revoked.`);
    loadCredentials();
  }

  // --- deliveries ------------------------------------------------------------------------

  function deliveryRow(d) {
    const retry = d.status === "failed" || d.status === "queued"
      ? h("button", {
        type: "button", class: "secondary small", onclick: () => retryDelivery(d),
      }, "Retry now", h("span", { class: "visually-hidden", text: ` delivery ${d.id}` }))
      : null;
    return h("tr", { "data-delivery-id": d.id, "data-status": d.status },
      h("td", { text: d.type }),
      h("td", {}, h("a", { href: `/conversations/${encodeURIComponent(d.conversation_id)}`, text: d.conversation_id })),
      h("td", { text: STATUSES[d.status] || d.status }),
      h("td", { text: `${d.attempts} of ${d.max_attempts}` }),
      h("td", { class: "last-error", text: d.last_error || "" }),
      h("td", { text: d.status === "done" || d.status === "cancelled" ? "" : when(d.next_attempt_at) }),
      h("td", {}, retry));
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
      say(`The deliveries could not be loaded: ${failure.message}`);
      return;
    }
    const rows = page.items.map(deliveryRow);
    if (cursor) $("crm-deliveries-list").append(...rows);
    else $("crm-deliveries-list").replaceChildren(...rows);
    deliveriesCursor = page.next_cursor;
    $("crm-deliveries-more").hidden = !deliveriesCursor;
    $("crm-deliveries-empty").hidden = $("crm-deliveries-list").children.length > 0;
  }

  async function retryDelivery(d) {
    let fresh;
    try {
      fresh = await api("POST", `/api/v1/integrations/crm/deliveries/${encodeURIComponent(d.id)}/retry`);
    } catch (failure) {
      showProblem("The delivery could not be retried", failure);
      return;
    }
    const old = document.querySelector(`tr[data-delivery-id="${CSS.escape(d.id)}"]`);
    if (old) old.replaceWith(deliveryRow(fresh));
    say("Delivery queued to be sent now.");
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
