// The Contact tab beside a conversation: attribute values, inline editing, value history.
// Reads GET /api/v1/conversations/{id}/contact-tab and writes PATCH /api/v1/contacts/{id}/attributes,
// the same service calls as the API; the server decides what is editable.
// With the CRM connected (enterprise): CRM badges, pending CRM values, Lookup and Confirm
// (POST /api/v1/contacts/{id}/crm/lookup and …/crm/confirm).
"use strict";
(() => {
  const SOURCES = {
    platform: "Platform", agent: "Agent", bot: "Bot", crm: "CRM", import: "Import", api: "API",
  };
  const OUTCOMES = {
    queued: "Look-up queued",
    updated: "Updated from the CRM",
    pending_confirmation: "Waiting for confirmation",
    waiting_for_crm: "Waiting for the CRM",
    not_found: "Not found in the CRM",
    failed: "Failed",
    no_lookup_values: "No lookup values",
  };
  const HINTS = {
    email: "name@example.com", phone: "+1 555 0100", url: "https://…", date: "YYYY-MM-DD", number: "",
  };

  const aside = document.querySelector("aside.contact-tab[data-conversation-id]");
  if (!aside) return;
  const conversationId = aside.dataset.conversationId;
  let contactId = aside.dataset.contactId;
  const me = aside.dataset.userId;
  let attributes = [];
  let polling = 0; // bumped by each Lookup: an older poll stops

  // Looked up at call time: rolodex.js may run after this file.
  const h = (...args) => window.rolodex.h(...args);

  const hidden = (text) => h("span", { class: "visually-hidden", text });
  const part = (selector) => aside.querySelector(selector);

  function when(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    const options = { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };
    if (date.getFullYear() !== new Date().getFullYear()) options.year = "numeric";
    return date.toLocaleString(undefined, options);
  }

  function shown(value) {
    if (value === null || value === undefined || value === "") return "";
    if (value === true) return "Yes";
    if (value === false) return "No";
    return String(value);
  }

  function provenance(attr) {
    if (attr.value === null || attr.value === undefined || attr.value === "") return "";
    const source = SOURCES[attr.source] || attr.source || "";
    return [source, when(attr.updated_at)].filter(Boolean).join(" · ");
  }

  function setStatus(text) {
    part(".contact-tab-status").textContent = text;
  }

  // --- one attribute ---------------------------------------------------------------

  function control(attr, id) {
    const value = attr.value;
    if (attr.type === "boolean") {
      return h("input", {
        id, type: "checkbox", name: "value", checked: value === true || value === "true",
        onchange: (event) => save(attr, event.target.checked),
      });
    }
    if (attr.type === "dropdown") {
      const options = (attr.options || []).map((option) =>
        h("option", { value: option, selected: option === value, text: option }));
      return h("select", { id, name: "value" }, h("option", { value: "", text: "Not set" }), options);
    }
    const inputmode = { number: "decimal", email: "email", phone: "tel", url: "url" }[attr.format];
    return h("input", {
      id, name: "value", value: shown(value), autocomplete: "off", inputmode,
      placeholder: HINTS[attr.format] || "", maxlength: "2000",
    });
  }

  // "CRM" on CRM-managed attributes, "Lookup" on those whose value triggers a CRM look-up.
  function marks(attr) {
    return [
      attr.crm_managed
        ? h("span", { class: "badge mark-crm", title: "Managed by the CRM" }, "CRM", hidden(" (managed by the CRM)"))
        : null,
      attr.lookup
        ? h("span", { class: "badge mark-lookup", title: "Its value triggers a CRM look-up" }, "Lookup", hidden(" attribute"))
        : null,
    ].filter(Boolean);
  }

  function editableRow(attr, labelId, meta) {
    const id = `ct-${attr.key}`;
    const errorId = `${id}-error`;
    const input = control(attr, id);
    input.setAttribute("aria-describedby", `${errorId} ${id}-meta`);
    const boolean = attr.type === "boolean";
    const form = h(
      "form",
      {
        class: `value-form${boolean ? " is-boolean" : ""}`,
        novalidate: true,
        onsubmit: (event) => {
          event.preventDefault();
          const raw = event.currentTarget.elements.value.value;
          save(attr, attr.type === "dropdown" ? raw || null : raw.trim() || null);
        },
      },
      boolean
        ? h("div", { class: "value-line" }, input, h("label", { id: labelId, for: id, text: attr.label }), marks(attr))
        : [
          h("div", { class: "attr-head" }, h("label", { id: labelId, for: id, class: "attr-name", text: attr.label }), marks(attr)),
          h(
            "div",
            { class: "value-line" },
            input,
            h("button", { type: "submit", class: "small" }, "Save", hidden(` ${attr.label}`)),
          ),
        ],
      h("p", { class: "field-error", id: errorId, hidden: true }),
      meta,
    );
    return form;
  }

  function readOnlyRow(attr, labelId, meta) {
    const text = shown(attr.value);
    return [
      h("div", { class: "attr-head" }, h("span", { class: "attr-name", id: labelId, text: attr.label }), marks(attr)),
      h("p", { class: `attr-value${text ? "" : " unset"}`, text: text || "Not set" }),
      meta,
    ];
  }

  function row(attr) {
    const labelId = `ct-${attr.key}-label`;
    const origin = provenance(attr);
    let why = "";
    if (!attr.editable) why = "Read-only";
    let reason = "";
    if (!attr.editable) {
      reason = attr.kind === "platform" ? "Filled from the channel; agents cannot edit it."
        : attr.crm_managed ? "Managed by the CRM; agents cannot edit it." : "You cannot edit this attribute.";
    }
    const meta = h(
      "p",
      { class: "meta", id: `ct-${attr.key}-meta` },
      origin,
      origin && why ? " · " : "",
      why ? h("span", { class: "readonly", text: why }) : null,
    );
    const pending = attr.pending
      ? h("p", {
        class: "meta pending",
        text: shown(attr.pending_value) ? `CRM suggests: ${shown(attr.pending_value)}` : "CRM would clear this",
      })
      : null;
    const title = [origin ? `Source: ${origin}` : "No value yet", reason].filter(Boolean).join(". ");
    return h(
      "li",
      {
        // Not named after the attribute: the control inside carries that name (getByLabel finds it once).
        class: `attr-value-row${attr.editable ? " is-editable" : " is-readonly"}`,
        "data-key": attr.key,
        title,
      },
      attr.editable ? editableRow(attr, labelId, meta) : readOnlyRow(attr, labelId, meta),
      pending,
    );
  }

  // --- the tab -----------------------------------------------------------------------

  async function fetchTab() {
    return window.rolodex.api("GET", `/api/v1/conversations/${encodeURIComponent(conversationId)}/contact-tab`);
  }

  function render(data) {
    attributes = data.attributes || [];
    const contact = data.contact || {};
    contactId = contact.id || contactId;
    part(".contact-name").textContent = contact.display_name || "Unknown contact";
    renderVip(data.vip || { shown: false, value: false });
    const list = attributes.length
      ? h("ul", { class: "attr-values", "aria-label": "Contact attributes" }, attributes.map(row))
      : h("p", { class: "empty", text: "No contact attributes are shown on this channel." });
    // Keep the keyboard where it was when the CRM block is drawn again (after Lookup or Confirm).
    const inCrm = Boolean(document.activeElement && document.activeElement.closest(".crm-block"));
    part(".contact-tab-body").replaceChildren(...[renderCrm(data.crm), list].filter(Boolean));
    if (inCrm) {
      const again = part(".crm-block .crm-confirm") || part(".crm-block .crm-lookup");
      if (again) again.focus();
    }
  }

  // --- the CRM block (enterprise, with the CRM connected) -------------------------------

  function renderCrm(crm) {
    if (!crm || !crm.enabled) return null;
    const outcome = crm.last_outcome ? OUTCOMES[crm.last_outcome] || crm.last_outcome : "";
    const last = crm.last_lookup_at
      ? `Last look-up ${when(crm.last_lookup_at)}${outcome ? ` · ${outcome}` : ""}`
      : outcome || "Not looked up yet";
    const pendingKeys = Object.keys(crm.pending || {});
    return h(
      "section",
      { class: "crm-block", "aria-labelledby": "ct-crm-heading" },
      h("h3", { id: "ct-crm-heading" }, "CRM ",
        h("span", {
          class: `badge ${crm.validated ? "crm-validated" : "crm-unvalidated"}`,
          text: crm.validated ? "Validated" : "Not validated",
        })),
      h("p", { class: "meta crm-last", text: last }),
      crm.last_error ? h("p", { class: "meta crm-error", text: crm.last_error }) : null,
      pendingKeys.length
        ? h("p", { class: "meta pending", text: `${pendingKeys.length} CRM value${pendingKeys.length === 1 ? "" : "s"} awaiting confirmation.` })
        : null,
      h("div", { class: "crm-actions" },
        h("button", { type: "button", class: "secondary small crm-lookup", onclick: lookup }, "Lookup"),
        pendingKeys.length
          ? h("button", { type: "button", class: "small crm-confirm", onclick: confirmPending }, "Confirm")
          : null),
    );
  }

  function crmPath(action) {
    return `/api/v1/contacts/${encodeURIComponent(contactId)}/crm/${action}`;
  }

  // POST lookup (it runs in the background), then reload the tab every second a few times.
  async function lookup(event) {
    const button = event.currentTarget;
    button.disabled = true;
    let state;
    try {
      state = await window.rolodex.api("POST", crmPath("lookup"));
    } catch (error) {
      button.disabled = false;
      setStatus(`Look-up not started: ${error.message}`);
      return;
    }
    setStatus("Looking the contact up in the CRM…");
    const mine = ++polling;
    let data = null;
    for (let round = 0; round < 5 && mine === polling; round += 1) {
      await new Promise((resolve) => { setTimeout(resolve, 1000); });
      try {
        data = await fetchTab();
      } catch (error) {
        setStatus(`The contact could not be reloaded: ${error.message}`);
        break;
      }
      state = data.crm || state;
      if (!state || (state.last_outcome !== "queued" && state.last_outcome !== "waiting_for_crm")) break;
    }
    if (mine !== polling) return;
    if (data) render(data);
    else button.disabled = false;
    const outcome = state && state.last_outcome ? OUTCOMES[state.last_outcome] || state.last_outcome : "";
    setStatus(outcome ? `CRM look-up: ${outcome}.` : "CRM look-up requested.");
    refreshAround();
  }

  async function confirmPending(event) {
    const button = event.currentTarget;
    button.disabled = true;
    let result;
    try {
      result = await window.rolodex.api("POST", crmPath("confirm"));
    } catch (error) {
      button.disabled = false;
      setStatus(`Not confirmed: ${error.message}`);
      return;
    }
    try {
      render(await fetchTab());
    } catch (error) {
      setStatus(`The contact could not be reloaded: ${error.message}`);
      return;
    }
    const changed = (result.applied || []).length + (result.cleared || []).length;
    const skipped = (result.skipped || []).length;
    setStatus(`CRM values confirmed: ${changed} changed${skipped ? `, ${skipped} skipped` : ""}.`);
    refreshAround();
  }

  // Values may have changed: the history and the cross-channel links follow them.
  function refreshAround() {
    if (part(".contact-history").open) loadHistory(null);
    loadLinked(null);
  }

  // The VIP button: shown while VIP is on (enterprise), pressed when the contact is VIP.
  function renderVip(vip) {
    const button = part(".vip-toggle");
    button.hidden = !vip.shown;
    button.setAttribute("aria-pressed", vip.value ? "true" : "false");
    button.textContent = vip.value ? "VIP" : "Mark as VIP";
    button.title = vip.value ? "This contact is VIP; press to unmark" : "Mark this contact as VIP";
  }

  async function toggleVip() {
    const button = part(".vip-toggle");
    const value = button.getAttribute("aria-pressed") !== "true";
    button.disabled = true;
    try {
      await window.rolodex.api(
        "PATCH",
        `/api/v1/contacts/${encodeURIComponent(contactId)}/attributes`,
        { attributes: { vip: value } },
      );
      render(await fetchTab());
      setStatus(value ? "Marked as VIP." : "No longer VIP.");
    } catch (error) {
      setStatus(`VIP could not be changed: ${error.message}`);
    } finally {
      button.disabled = false;
    }
  }

  async function load() {
    const body = part(".contact-tab-body");
    try {
      render(await fetchTab());
    } catch (error) {
      body.replaceChildren(h("p", { class: "alert", role: "alert", text: `The contact could not be loaded: ${error.message}` }));
    } finally {
      body.setAttribute("aria-busy", "false");
    }
  }

  function showRowError(key, message) {
    const slot = document.getElementById(`ct-${key}-error`);
    const input = document.getElementById(`ct-${key}`);
    if (!slot) {
      setStatus(message);
      return;
    }
    slot.textContent = message;
    slot.hidden = !message;
    if (message) slot.setAttribute("role", "alert");
    else slot.removeAttribute("role");
    if (input) {
      if (message) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
  }

  async function save(attr, value) {
    showRowError(attr.key, "");
    try {
      await window.rolodex.api(
        "PATCH",
        `/api/v1/contacts/${encodeURIComponent(contactId)}/attributes`,
        { attributes: { [attr.key]: value } },
      );
    } catch (error) {
      const problem = error.problem || {};
      const mine = (problem.errors || []).filter((e) => e.field === `attributes.${attr.key}`);
      const message = mine.length ? mine.map((e) => e.message).join("; ") : problem.detail || error.message;
      showRowError(attr.key, message);
      const input = document.getElementById(`ct-${attr.key}`);
      if (input) input.focus();
      return;
    }
    const data = await fetchTab();
    const fresh = (data.attributes || []).find((a) => a.key === attr.key);
    const old = part(`li[data-key="${CSS.escape(attr.key)}"]`);
    if (fresh && old) {
      attributes = attributes.map((a) => (a.key === attr.key ? fresh : a));
      old.replaceWith(row(fresh));
      const again = document.getElementById(`ct-${attr.key}`);
      if (again) again.focus();
    } else {
      render(data);
    }
    setStatus(`${attr.label} saved.`);
    if (part(".contact-history").open) loadHistory(null);
    loadLinked(null); // a new value may link or unlink contacts
  }

  // --- history -----------------------------------------------------------------------

  function historyEntry(entry) {
    const key = entry.key;
    const known = attributes.find((a) => a.key === key);
    const label = entry.label || (known && known.label) || key;
    const before = shown(entry.old_value);
    const after = shown(entry.new_value);
    const actor = me && entry.actor_id === me ? "by you" : "";
    const source = SOURCES[entry.source] || entry.source;
    const at = entry.at;
    return h(
      "li",
      { tabindex: "-1" },
      h("strong", { text: label }), " ",
      before ? h("del", { text: before }) : null, before ? " → " : null,
      after ? h("ins", { text: after }) : h("em", { text: "cleared" }),
      h("span", { class: "meta", text: [source, actor, when(at)].filter(Boolean).join(" · ") }),
    );
  }

  // Newest first, a page at a time; "Older changes" appends the next page.
  async function loadHistory(cursor) {
    const body = part(".history-body");
    body.setAttribute("aria-busy", "true");
    try {
      const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
      const path = `/api/v1/contacts/${encodeURIComponent(contactId)}/history${query}`;
      const data = await window.rolodex.api("GET", path);
      const items = data.items || [];
      const more = data.next_cursor
        ? h("button", {
          type: "button", class: "secondary small older",
          onclick: (event) => { event.currentTarget.remove(); loadHistory(data.next_cursor); },
        }, "Older changes")
        : null;
      const list = body.querySelector("ol.history");
      if (cursor && list) {
        list.append(...items.map(historyEntry));
        if (more) body.append(more);
        const first = list.children[list.children.length - items.length];
        if (first) first.focus();
      } else {
        body.replaceChildren(items.length
          ? h("ol", { class: "history", "aria-label": "Value history" }, items.map(historyEntry))
          : h("p", { class: "empty", text: "No changes yet." }));
        if (more) body.append(more);
      }
    } catch (error) {
      body.replaceChildren(h("p", { class: "alert", role: "alert", text: `The history could not be loaded: ${error.message}` }));
    } finally {
      body.setAttribute("aria-busy", "false");
    }
  }

  // --- cross-channel history (R3) ------------------------------------------------------

  const MEDIUMS = {
    twitter: "Twitter", instagram: "Instagram", facebook: "Facebook", whatsapp: "WhatsApp",
    sms: "SMS", email: "Email", webchat: "Web chat",
  };
  const STATUSES = { new: "New", pending: "Pending", resolved: "Resolved" };

  function linkedEntry(item) {
    const medium = MEDIUMS[item.medium] || item.medium;
    const current = item.id === conversationId;
    const reason = item.linked_because;
    let why = "This contact";
    if (reason) {
      const known = attributes.find((a) => a.key === reason.attribute);
      why = `Linked because ${(known && known.label) || reason.attribute} matches (${reason.value})`;
    }
    return h(
      "li",
      { class: `linked-conversation medium-${item.medium}`, "data-conversation-id": item.id },
      h("span", { class: `badge medium medium-${item.medium}`, text: medium }), " ",
      h("a", {
        href: `/conversations/${encodeURIComponent(item.id)}`,
        "aria-current": current ? "true" : null,
        text: `${item.channel_name} · ${medium}`,
      }),
      h("span", { class: `badge status-${item.status}`, text: STATUSES[item.status] || item.status }),
      h("p", { class: "last-message", text: item.last_message_text || "No messages" }),
      h("p", { class: "meta", text: [item.contact_display_name, when(item.last_message_at)].filter(Boolean).join(" · ") }),
      h("p", { class: "meta linked-because", text: why }),
    );
  }

  // Newest first, a page at a time, like the value history.
  async function loadLinked(cursor) {
    const body = part(".linked-body");
    body.setAttribute("aria-busy", "true");
    try {
      const query = `?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const data = await window.rolodex.api("GET", `/api/v1/contacts/${encodeURIComponent(contactId)}/conversations${query}`);
      const items = data.items || [];
      const more = data.next_cursor
        ? h("button", {
          type: "button", class: "secondary small older",
          onclick: (event) => { event.currentTarget.remove(); loadLinked(data.next_cursor); },
        }, "Older conversations")
        : null;
      const list = body.querySelector("ol.linked");
      if (cursor && list) list.append(...items.map(linkedEntry));
      else {
        body.replaceChildren(h("ol", { class: "linked", "aria-label": "Cross-channel conversations" }, items.map(linkedEntry)));
      }
      if (more) body.append(more);
    } catch (error) {
      body.replaceChildren(h("p", { class: "alert", role: "alert", text: `The conversations could not be loaded: ${error.message}` }));
    } finally {
      body.setAttribute("aria-busy", "false");
    }
  }

  // Delete (admins): asks for the hint, then DELETE /api/v1/contacts/{id}?hint=….
  function setupDelete() {
    const button = part(".contact-delete");
    const dialog = part(".contact-delete-dialog");
    if (!button || !dialog) return;
    const hint = dialog.querySelector("#contact-delete-hint");
    const error = dialog.querySelector("#contact-delete-error");
    const showError = (message) => {
      error.textContent = message;
      error.hidden = !message;
      if (message) hint.setAttribute("aria-invalid", "true");
      else hint.removeAttribute("aria-invalid");
    };
    button.addEventListener("click", () => {
      showError("");
      dialog.showModal();
      hint.focus();
    });
    dialog.querySelector(".contact-delete-cancel").addEventListener("click", () => dialog.close());
    dialog.querySelector("form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = hint.value.trim();
      if (!text) {
        showError("Write a short hint: it is all the log keeps of this contact.");
        hint.focus();
        return;
      }
      const query = new URLSearchParams({ hint: text });
      if (dialog.querySelector("#contact-delete-linked").checked) query.set("include_linked", "true");
      try {
        await window.rolodex.api("DELETE", `/api/v1/contacts/${encodeURIComponent(contactId)}?${query}`);
      } catch (failure) {
        showError(failure.message);
        return;
      }
      window.location.assign("/?deleted=1");
    });
  }

  function start() {
    part(".vip-toggle").addEventListener("click", toggleVip);
    setupDelete();
    part(".contact-history").addEventListener("toggle", (event) => {
      if (event.currentTarget.open) loadHistory(null);
    });
    load().then(() => loadLinked(null));
  }

  // Deferred scripts run before DOMContentLoaded, and rolodex.js (window.rolodex) comes after this one.
  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
