// The Contact tab beside a conversation: attribute values, inline editing, value history.
// Reads GET /api/v1/conversations/{id}/contact-tab and writes PATCH /api/v1/contacts/{id}/attributes,
// the same service calls as the API; the server decides what is editable.
// With the CRM connected (enterprise): CRM badges, pending CRM values, Lookup and Confirm
// (POST /api/v1/contacts/{id}/crm/lookup and …/crm/confirm).
// Every text goes through rolodex.t (the reader's language) and every time through rolodex.time
// (the reader's language and zone); unsaved edits warn before the page is left.
// Live (live.js): values changed by others update in place with a brief highlight; a value being
// edited is kept and the agent is told. Saves send If-Match: on 412, when the attribute edited did
// not change meanwhile the save is retried with the new version, else both values are shown and
// the agent decides. A deleted contact says so.
"use strict";
(() => {
  // Looked up at call time: rolodex.js may run after this file.
  const t = (message, values) => window.rolodex.t(message, values);
  const h = (...args) => window.rolodex.h(...args);

  const SOURCES = {
    platform: () => t("Platform"),
    agent: () => t("Agent"),
    bot: () => t("Bot"),
    crm: () => t("CRM"),
    import: () => t("Import"),
    api: () => t("API"),
  };
  const OUTCOMES = {
    queued: () => t("Look-up queued"),
    updated: () => t("Updated from the CRM"),
    pending_confirmation: () => t("Waiting for confirmation"),
    waiting_for_crm: () => t("Waiting for the CRM"),
    not_found: () => t("Not found in the CRM"),
    failed: () => t("Failed"),
    no_lookup_values: () => t("No lookup values"),
  };
  const HINTS = {
    email: () => t("name@example.com"),
    phone: () => "+1 555 0100",
    url: () => "https://…",
    date: () => t("YYYY-MM-DD"),
  };
  const sourceName = (source) => (SOURCES[source] ? SOURCES[source]() : source || "");
  const outcomeName = (outcome) => (OUTCOMES[outcome] ? OUTCOMES[outcome]() : outcome || "");

  const aside = document.querySelector("aside.contact-tab[data-conversation-id]");
  if (!aside) return;
  const conversationId = aside.dataset.conversationId;
  let contactId = aside.dataset.contactId;
  const me = aside.dataset.userId;
  let attributes = [];
  let version = null; // the contact's version as last read
  let deleted = false;
  // An edit in progress (by key): the value and the contact version it started from.
  const editBase = new Map();
  const pageData = (() => {
    const node = document.getElementById("workspace-data");
    try {
      return node ? JSON.parse(node.textContent) : {};
    } catch {
      return {};
    }
  })();
  let polling = 0; // bumped by each Lookup: an older poll stops
  // Attributes edited and not saved yet (by key): leaving the page asks first.
  const dirty = new Set();
  const pendingSaves = new Map(); // dropdowns: a save waiting for the choice to settle

  const hidden = (text) => h("span", { class: "visually-hidden", text });
  const part = (selector) => aside.querySelector(selector);

  // A moment as the whole page shows it (the reader's zone and language), machine-readable too.
  function when(iso) {
    if (!iso) return null;
    return h("time", { class: "when", datetime: iso, text: window.rolodex.time(iso, "short") });
  }

  function whenText(iso) {
    return iso ? window.rolodex.time(iso, "short") : "";
  }

  function shown(value) {
    if (value === null || value === undefined || value === "") return "";
    if (value === true) return t("Yes");
    if (value === false) return t("No");
    return String(value);
  }

  function hasValue(attr) {
    return !(attr.value === null || attr.value === undefined || attr.value === "");
  }

  function provenance(attr) {
    if (!hasValue(attr)) return "";
    return [sourceName(attr.source), whenText(attr.updated_at)].filter(Boolean).join(" · ");
  }

  // The same, with the time as a <time> element.
  function provenanceNodes(attr) {
    if (!hasValue(attr)) return [];
    const source = sourceName(attr.source);
    const at = when(attr.updated_at);
    return [source, source && at ? " · " : "", at].filter(Boolean);
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
      // A choice saves itself: at once with the mouse; arrowing through a closed list with
      // the keyboard saves the option it settles on (or on leaving the field).
      const options = (attr.options || []).map((option) =>
        h("option", { value: option, selected: option === value, text: option }));
      return h(
        "select",
        {
          id, name: "value",
          onchange: (event) => scheduleSave(attr, event.currentTarget.value || null),
          onblur: () => flushSave(attr.key),
        },
        h("option", { value: "", text: t("Not set") }),
        options,
      );
    }
    const inputmode = { number: "decimal", email: "email", phone: "tel", url: "url" }[attr.format];
    const saved = shown(value);
    return h("input", {
      id, name: "value", value: saved, autocomplete: "off", inputmode,
      placeholder: HINTS[attr.format] ? HINTS[attr.format]() : "", maxlength: "2000",
      oninput: (event) => {
        if (event.currentTarget.value !== saved) startEdit(attr);
        else stopEdit(attr.key);
      },
    });
  }

  function startEdit(attr) {
    if (!editBase.has(attr.key)) editBase.set(attr.key, { value: attr.value, version });
    dirty.add(attr.key);
  }

  function stopEdit(key) {
    dirty.delete(key);
    editBase.delete(key);
  }

  function scheduleSave(attr, value) {
    startEdit(attr);
    clearTimeout(pendingSaves.get(attr.key)?.timer);
    const run = () => {
      pendingSaves.delete(attr.key);
      save(attr, value);
    };
    pendingSaves.set(attr.key, { run, timer: setTimeout(run, 500) });
  }

  function flushSave(key) {
    const pending = pendingSaves.get(key);
    if (!pending) return;
    clearTimeout(pending.timer);
    pending.run();
  }

  // "CRM" on CRM-managed attributes, "Lookup" on those whose value triggers a CRM look-up.
  function marks(attr) {
    const managed = t("managed by the CRM");
    const attribute = t("attribute");
    return [
      attr.crm_managed
        ? h("span", { class: "badge mark-crm", title: t("Managed by the CRM") }, "CRM", hidden(` (${managed})`))
        : null,
      attr.lookup
        ? h("span", { class: "badge mark-lookup", title: t("Its value triggers a CRM look-up") }, t("Look-up"), hidden(` ${attribute}`))
        : null,
    ].filter(Boolean);
  }

  function editableRow(attr, labelId, meta) {
    const id = `ct-${attr.key}`;
    const errorId = `${id}-error`;
    const input = control(attr, id);
    input.setAttribute("aria-describedby", `${errorId} ${id}-meta`);
    const boolean = attr.type === "boolean";
    const dropdown = attr.type === "dropdown";
    const form = h(
      "form",
      {
        class: `value-form${boolean ? " is-boolean" : ""}${dropdown ? " is-dropdown" : ""}`,
        novalidate: true,
        onsubmit: (event) => {
          event.preventDefault();
          const raw = event.currentTarget.elements.value.value;
          if (dropdown) flushSave(attr.key);
          else save(attr, raw.trim() || null);
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
            dropdown ? null : h("button", { type: "submit", class: "small" }, t("Save"), hidden(` ${attr.label}`)),
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
      h("p", { class: `attr-value${text ? "" : " unset"}`, text: text || t("Not set") }),
      meta,
    ];
  }

  function row(attr) {
    const labelId = `ct-${attr.key}-label`;
    const origin = provenance(attr);
    let why = "";
    if (!attr.editable) why = t("Read-only");
    let reason = "";
    if (!attr.editable) {
      reason = attr.kind === "platform" ? t("Filled from the channel; agents cannot edit it.")
        : attr.crm_managed ? t("Managed by the CRM; agents cannot edit it.") : t("You cannot edit this attribute.");
    }
    const meta = h(
      "p",
      { class: "meta", id: `ct-${attr.key}-meta` },
      provenanceNodes(attr),
      origin && why ? " · " : "",
      why ? h("span", { class: "readonly", text: why }) : null,
    );
    const pending = attr.pending
      ? h("p", {
        class: "meta pending",
        text: shown(attr.pending_value)
          ? t("CRM suggests: %(value)s", { value: shown(attr.pending_value) })
          : t("CRM would clear this"),
      })
      : null;
    const title = [origin ? t("Source: %(source)s", { source: origin }) : t("No value yet"), reason]
      .filter(Boolean).join(". ");
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
    if (data.version !== undefined) version = data.version;
    const contact = data.contact || {};
    contactId = contact.id || contactId;
    part(".contact-name").textContent = contact.display_name || t("Unknown contact");
    renderVip(data.vip || { shown: false, value: false });
    // What the person typed and has not saved survives the tab being drawn again.
    const drafts = new Map();
    for (const key of dirty) {
      const input = document.getElementById(`ct-${key}`);
      if (input && input.tagName === "INPUT" && input.type !== "checkbox") drafts.set(key, input.value);
    }
    const list = attributes.length
      ? h("ul", { class: "attr-values", "aria-label": t("Contact attributes") }, attributes.map(row))
      : h("p", { class: "empty", text: t("No contact attributes are shown on this channel.") });
    // Keep the keyboard where it was when the CRM block is drawn again (after Lookup or Confirm).
    const inCrm = Boolean(document.activeElement && document.activeElement.closest(".crm-block"));
    part(".contact-tab-body").replaceChildren(...[renderCrm(data.crm), list].filter(Boolean));
    for (const key of [...dirty]) {
      const input = document.getElementById(`ct-${key}`);
      if (drafts.has(key) && input && input.tagName === "INPUT") input.value = drafts.get(key);
      else if (!pendingSaves.has(key)) stopEdit(key);
    }
    if (inCrm) {
      const again = part(".crm-block .crm-confirm") || part(".crm-block .crm-lookup");
      if (again) again.focus();
    }
  }

  // --- the CRM block (enterprise, with the CRM connected) -------------------------------

  function renderCrm(crm) {
    if (!crm || !crm.enabled) return null;
    const outcome = outcomeName(crm.last_outcome);
    const last = crm.last_lookup_at
      ? [t("Last look-up %(time)s", { time: whenText(crm.last_lookup_at) }), outcome].filter(Boolean).join(" · ")
      : outcome || t("Not looked up yet");
    const pendingKeys = Object.keys(crm.pending || {});
    const waiting = pendingKeys.length === 1
      ? t("1 CRM value awaiting confirmation.")
      : t("%(count)s CRM values awaiting confirmation.", { count: pendingKeys.length });
    return h(
      "section",
      { class: "crm-block", "aria-labelledby": "ct-crm-heading" },
      h("h3", { id: "ct-crm-heading" }, "CRM ",
        h("span", {
          class: `badge ${crm.validated ? "crm-validated" : "crm-unvalidated"}`,
          text: crm.validated ? t("Validated") : t("Not validated"),
        })),
      h("p", { class: "meta crm-last", text: last }),
      crm.last_error ? h("p", { class: "meta crm-error", text: crm.last_error }) : null,
      pendingKeys.length ? h("p", { class: "meta pending", text: waiting }) : null,
      h("div", { class: "crm-actions" },
        h("button", { type: "button", class: "secondary small crm-lookup", onclick: lookup }, t("Lookup")),
        pendingKeys.length
          ? h("button", { type: "button", class: "small crm-confirm", onclick: confirmPending }, t("Confirm"))
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
      setStatus(t("Look-up not started: %(reason)s", { reason: error.message }));
      return;
    }
    setStatus(t("Looking the contact up in the CRM…"));
    const mine = ++polling;
    let data = null;
    for (let round = 0; round < 5 && mine === polling; round += 1) {
      await new Promise((resolve) => { setTimeout(resolve, 1000); });
      try {
        data = await fetchTab();
      } catch (error) {
        setStatus(t("The contact could not be reloaded: %(reason)s", { reason: error.message }));
        break;
      }
      state = data.crm || state;
      if (!state || (state.last_outcome !== "queued" && state.last_outcome !== "waiting_for_crm")) break;
    }
    if (mine !== polling) return;
    if (data) render(data);
    else button.disabled = false;
    const outcome = state ? outcomeName(state.last_outcome) : "";
    setStatus(outcome ? t("CRM look-up: %(outcome)s.", { outcome }) : t("CRM look-up requested."));
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
      setStatus(t("Not confirmed: %(reason)s", { reason: error.message }));
      return;
    }
    try {
      render(await fetchTab());
    } catch (error) {
      setStatus(t("The contact could not be reloaded: %(reason)s", { reason: error.message }));
      return;
    }
    const changed = (result.applied || []).length + (result.cleared || []).length;
    const skipped = (result.skipped || []).length;
    setStatus(skipped
      ? t("CRM values confirmed: %(changed)s changed, %(skipped)s skipped.", { changed, skipped })
      : t("CRM values confirmed: %(changed)s changed.", { changed }));
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
    button.textContent = vip.value ? "VIP" : t("Mark as VIP");
    button.title = vip.value ? t("This contact is VIP; press to unmark") : t("Mark this contact as VIP");
  }

  async function toggleVip() {
    const button = part(".vip-toggle");
    const value = button.getAttribute("aria-pressed") !== "true";
    button.disabled = true;
    try {
      const body = { attributes: { vip: value } };
      try {
        await window.rolodex.api("PATCH", attributesPath(), body, ifMatch(version));
      } catch (error) {
        // Another value changed meanwhile: VIP itself is what this button shows, so go ahead.
        if (error.status !== 412 || !error.current) throw error;
        if (Boolean(error.current.vip) === value) {
          render(await fetchTab());
          setStatus(value ? t("Marked as VIP.") : t("No longer VIP."));
          return;
        }
        await window.rolodex.api("PATCH", attributesPath(), body, ifMatch(error.current.version));
      }
      render(await fetchTab());
      setStatus(value ? t("Marked as VIP.") : t("No longer VIP."));
    } catch (error) {
      setStatus(t("VIP could not be changed: %(reason)s", { reason: error.message }));
    } finally {
      button.disabled = false;
    }
  }

  async function load() {
    const body = part(".contact-tab-body");
    try {
      render(await fetchTab());
    } catch (error) {
      body.replaceChildren(h("p", { class: "alert", role: "alert", text: t("The contact could not be loaded: %(reason)s", { reason: error.message }) }));
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

  function same(a, b) {
    // The contact's values come as text (ContactRead), the tab's typed: compare them as text.
    const norm = (v) => (v === undefined || v === null || v === "" ? null : String(v));
    return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
  }

  function attributesPath() {
    return `/api/v1/contacts/${encodeURIComponent(contactId)}/attributes`;
  }

  function ifMatch(from) {
    return from === null || from === undefined ? {} : { headers: { "If-Match": `"${from}"` } };
  }

  // PATCH one value with If-Match; a 412 retries at once when this attribute did not change
  // meanwhile, else shows both values and lets the agent decide. Resolves false when not saved.
  async function patchValue(attr, value) {
    const edit = editBase.get(attr.key);
    const from = edit ? edit.version : version;
    const body = { attributes: { [attr.key]: value } };
    try {
      await window.rolodex.api("PATCH", attributesPath(), body, ifMatch(from));
      return true;
    } catch (error) {
      if (error.status !== 412 || !error.current) throw error;
      const current = error.current;
      const theirs = (current.attributes || {})[attr.key];
      const started = edit ? edit.value : attr.value;
      if (!same(theirs, started)) {
        const who = changedBy.get(attr.key) || t("Someone");
        const question = t("%(who)s changed %(label)s to “%(theirs)s” while you were editing. Save yours (“%(mine)s”) instead?", {
          who, label: attr.label, theirs: shown(theirs) || t("Not set"), mine: shown(value) || t("Not set"),
        });
        if (!(await window.rolodex.ask(t("Both of you changed this value"), question, t("Save mine")))) {
          stopEdit(attr.key);
          render(await fetchTab());
          setStatus(t("%(label)s not saved: the other value is kept.", { label: attr.label }));
          return false;
        }
      }
      await window.rolodex.api("PATCH", attributesPath(), body, ifMatch(current.version));
      return true;
    }
  }

  async function save(attr, value) {
    showRowError(attr.key, "");
    setStatus("");
    if (deleted) return;
    try {
      if (!(await patchValue(attr, value))) return;
    } catch (error) {
      const problem = error.problem || {};
      const mine = (problem.errors || []).filter((e) => e.field === `attributes.${attr.key}`);
      const message = mine.length ? mine.map((e) => e.message).join("; ") : problem.detail || error.message;
      showRowError(attr.key, message);
      const input = document.getElementById(`ct-${attr.key}`);
      if (input) input.focus();
      return;
    }
    stopEdit(attr.key);
    changedBy.delete(attr.key);
    const data = await fetchTab();
    if (data.version !== undefined) version = data.version;
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
    setStatus(t("%(label)s saved.", { label: attr.label }));
    if (part(".contact-history").open) loadHistory(null);
    loadLinked(null); // a new value may link or unlink contacts
  }

  // --- live: values changed by others ---------------------------------------------------

  // Who changed a value the agent is editing (shown if their save meets a conflict).
  const changedBy = new Map();

  function whoChanged(event) {
    const actor = event.actor || {};
    if (actor.kind === "user" && actor.id) {
      if (actor.id === me) return t("You");
      return (pageData.users || {})[actor.id] || t("Another agent");
    }
    return sourceName(event.source) || t("Someone");
  }

  // The tab again, after someone else's change: rows that changed are redrawn and highlighted,
  // except a row being edited, which keeps what the agent typed and says what happened.
  async function followChange(event) {
    let data;
    try {
      data = await fetchTab();
    } catch {
      return;
    }
    const fresh = data.attributes || [];
    const sameKeys = fresh.length === attributes.length && fresh.every((a, i) => attributes[i] && attributes[i].key === a.key);
    const changed = fresh.filter((a) => {
      const before = attributes.find((b) => b.key === a.key);
      return !before || !same(before.value, a.value) || before.pending !== a.pending || !same(before.pending_value, a.pending_value);
    });
    const who = whoChanged(event);
    // This agent's own save (from this page or another): its own flow redraws the row.
    const actor = event.actor || {};
    const mine = Boolean(me) && actor.kind === "user" && actor.id === me;
    if (data.version !== undefined) version = data.version;
    part(".contact-name").textContent = (data.contact || {}).display_name || t("Unknown contact");
    renderVip(data.vip || { shown: false, value: false });
    if (!sameKeys) {
      render(data);
    } else {
      attributes = fresh;
      for (const attr of changed) {
        const old = part(`li[data-key="${CSS.escape(attr.key)}"]`);
        if (!old) continue;
        if (dirty.has(attr.key)) {
          if (mine) continue;
          changedBy.set(attr.key, who);
          let note = old.querySelector(".attr-note");
          if (!note) {
            note = h("p", { class: "meta attr-note", id: `ct-${attr.key}-note` });
            old.append(note);
          }
          note.textContent = t("Changed by %(who)s to “%(value)s” — your edit is kept.", {
            who, value: shown(attr.value) || t("Not set"),
          });
          continue;
        }
        const hadFocus = old.contains(document.activeElement);
        const node = row(attr);
        if (!mine) node.classList.add("is-changed");
        old.replaceWith(node);
        setTimeout(() => node.classList.remove("is-changed"), 2000);
        if (hadFocus) {
          const again = document.getElementById(`ct-${attr.key}`);
          if (again) again.focus();
        }
      }
    }
    if (changed.length && !mine) {
      const labels = changed.map((a) => a.label).join(", ");
      const kept = changed.filter((a) => dirty.has(a.key)).map((a) => a.label);
      setStatus(kept.length
        ? t("%(who)s changed %(labels)s. Your edit of %(kept)s is kept.", { who, labels, kept: kept.join(", ") })
        : t("%(who)s changed %(labels)s.", { who, labels }));
      refreshAround();
    }
  }

  function showDeleted() {
    if (deleted) return;
    deleted = true;
    dirty.clear();
    editBase.clear();
    polling += 1;
    for (const control of aside.querySelectorAll("button, input, select")) control.disabled = true;
    part(".contact-tab-body").replaceChildren(h("p", {
      class: "alert", role: "alert", text: t("This contact was deleted. Nothing more can be saved here."),
    }));
    setStatus("");
  }

  function onEvent(event) {
    if (deleted || event.contact_id !== contactId) {
      if (event.type === "reload" && !deleted) followChange(event);
      return;
    }
    if (event.type === "contact.updated") followChange(event);
    else if (event.type === "contact.deleted") showDeleted();
  }

  // --- history -----------------------------------------------------------------------

  function historyEntry(entry) {
    const key = entry.key;
    const known = attributes.find((a) => a.key === key);
    const label = entry.label || (known && known.label) || key;
    const before = shown(entry.old_value);
    const after = shown(entry.new_value);
    const actor = me && entry.actor_id === me ? t("by you") : "";
    const source = sourceName(entry.source);
    return h(
      "li",
      { tabindex: "-1" },
      h("strong", { text: label }), " ",
      before ? h("del", { text: before }) : null, before ? " → " : null,
      after ? h("ins", { text: after }) : h("em", { text: t("cleared") }),
      h("span", { class: "meta" }, [source, actor].filter(Boolean).join(" · "), source || actor ? " · " : "", when(entry.at)),
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
        }, t("Older changes"))
        : null;
      const list = body.querySelector("ol.history");
      if (cursor && list) {
        list.append(...items.map(historyEntry));
        if (more) body.append(more);
        const first = list.children[list.children.length - items.length];
        if (first) first.focus();
      } else {
        body.replaceChildren(items.length
          ? h("ol", { class: "history", "aria-label": t("Value history") }, items.map(historyEntry))
          : h("p", { class: "empty", text: t("No changes yet.") }));
        if (more) body.append(more);
      }
    } catch (error) {
      body.replaceChildren(h("p", { class: "alert", role: "alert", text: t("The history could not be loaded: %(reason)s", { reason: error.message }) }));
    } finally {
      body.setAttribute("aria-busy", "false");
    }
  }

  // --- cross-channel history (R3) ------------------------------------------------------

  // Medium names as the server's catalogue has them (rolodex/catalogue.py MEDIUM_LABELS).
  const MEDIUMS = {
    twitter: () => t("Twitter/X"),
    instagram: () => t("Instagram"),
    facebook: () => t("Messenger"),
    whatsapp: () => t("WhatsApp"),
    sms: () => t("SMS"),
    email: () => t("Email"),
    webchat: () => t("Web chat"),
  };
  // One conversation's status (the tabs' "New" names many conversations: "Nuevas").
  const STATUSES = {
    new: () => t("Status: new"),
    pending: () => t("Status: pending"),
    resolved: () => t("Status: resolved"),
  };

  // Who wrote the card's last message (R11.5): the contact, an agent, a bot or the system.
  function authorName(author, fallback) {
    if (!author) return fallback || "";
    if (author.kind === "agent") return t("%(name)s (agent)", { name: author.name || t("Agent") });
    if (author.kind === "bot") return t("%(name)s (bot)", { name: author.name || t("Bot") });
    return author.name || fallback || "";
  }

  function linkedEntry(item) {
    const medium = MEDIUMS[item.medium] ? MEDIUMS[item.medium]() : item.medium;
    const current = item.id === conversationId;
    const reason = item.linked_because;
    let why = t("This contact");
    if (reason) {
      const known = attributes.find((a) => a.key === reason.attribute);
      why = t("Linked because %(attribute)s matches (%(value)s)", {
        attribute: (known && known.label) || reason.attribute, value: reason.value,
      });
    }
    const author = item.last_message_text === null || item.last_message_text === undefined
      ? "" : authorName(item.last_message_author, item.contact_display_name);
    return h(
      "li",
      { class: `linked-conversation medium-${item.medium}`, "data-conversation-id": item.id },
      h("span", { class: `badge medium medium-${item.medium}`, text: medium }), " ",
      h("a", {
        href: `/conversations/${encodeURIComponent(item.id)}`,
        "aria-current": current ? "true" : null,
        text: `${item.channel_name} · ${medium}`,
      }),
      h("span", { class: `badge status-${item.status}`, text: STATUSES[item.status] ? STATUSES[item.status]() : item.status }),
      h("p", { class: "last-message", text: item.last_message_text || t("No messages") }),
      h("p", { class: "meta last-author" },
        author ? h("span", { class: "author", text: author }) : null,
        author ? " · " : null,
        when(item.last_message_at)),
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
        }, t("Older conversations"))
        : null;
      const list = body.querySelector("ol.linked");
      if (cursor && list) list.append(...items.map(linkedEntry));
      else {
        body.replaceChildren(h("ol", { class: "linked", "aria-label": t("Cross-channel conversations") }, items.map(linkedEntry)));
      }
      if (more) body.append(more);
    } catch (error) {
      body.replaceChildren(h("p", { class: "alert", role: "alert", text: t("The conversations could not be loaded: %(reason)s", { reason: error.message }) }));
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
        showError(t("Write a short hint: it is all the log keeps of this contact."));
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

  // Leaving with an edit not saved asks first (the browser's own question).
  function warnBeforeLeaving(event) {
    if (!dirty.size) return;
    event.preventDefault();
    event.returnValue = ""; // older browsers need it set
  }

  function start() {
    window.addEventListener("beforeunload", warnBeforeLeaving);
    part(".vip-toggle").addEventListener("click", toggleVip);
    setupDelete();
    part(".contact-history").addEventListener("toggle", (event) => {
      if (event.currentTarget.open) loadHistory(null);
    });
    load().then(() => loadLinked(null));
    if (window.rolodexLive) window.rolodexLive.subscribe(onEvent);
  }

  // Deferred scripts run before DOMContentLoaded, and rolodex.js (window.rolodex) comes after this one.
  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
