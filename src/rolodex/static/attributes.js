// Admin settings > Agent workspace > Contact attributes.
// Every action calls the REST API through window.rolodex.api, the same service calls as the API.
// Text goes through rolodex.t (the page's catalog); results are shown where the person is
// looking: in the dialog they used, or in the row they acted on (role=status / role=alert).
"use strict";
(() => {
  let attributes = [];
  let channels = [];
  let dragKey = null;
  let editing = null;
  let deleting = null;

  const $ = (id) => document.getElementById(id);

  // Looked up at call time: rolodex.js may run after this file.
  const h = (...args) => window.rolodex.h(...args);
  const t = (...args) => window.rolodex.t(...args);

  const kindName = (kind) =>
    ({ platform: t("Platform"), custom: t("Custom"), standard: t("Standard") })[kind] || kind;
  const typeName = (type) =>
    ({ text: t("Text field"), dropdown: t("Dropdown list"), boolean: t("Yes/No") })[type] || type;
  // The same names as the Format select (attributes/pages.py TEXT_FORMATS).
  const formatName = (format) =>
    ({
      text: t("Text"),
      number: t("Number"),
      email: t("Email"),
      phone: t("Phone number"),
      url: t("URL"),
      date: t("Date"),
    })[format] || format;

  // Visually hidden text: completes an accessible name ("Move up Email") without cluttering rows.
  const hidden = (text) => h("span", { class: "visually-hidden", text });

  // --- feedback where the person is looking ------------------------------------------

  // One result at a time: a new success or error clears every older line on the page
  // (contact-matching.js marks its lines the same way).
  function clearFeedback() {
    for (const line of document.querySelectorAll("[data-feedback]")) line.textContent = "";
    for (const box of document.querySelectorAll("[data-feedback-error]")) {
      box.textContent = "";
      box.hidden = true;
    }
  }

  function rowOf(key) {
    return $("attribute-list").querySelector(`li[data-key="${CSS.escape(key)}"]`);
  }

  // A success line in the row acted on. Its live region exists from the row's creation;
  // the text arrives a moment later so that screen readers announce it.
  function noteRow(key, text) {
    clearFeedback();
    window.setTimeout(() => {
      const item = rowOf(key);
      const note = item && item.querySelector(".attr-note");
      if (note) note.textContent = text;
    }, 50);
  }

  function rowError(key, text) {
    clearFeedback();
    const item = rowOf(key);
    const box = item && item.querySelector(".attr-row-error");
    if (box) {
      box.textContent = text;
      box.hidden = false;
    } else {
      pageError(text);
    }
  }

  function pageError(text) {
    if (text) clearFeedback();
    const box = $("attr-error");
    box.textContent = text;
    box.hidden = !text;
  }

  function listStatus(text) {
    clearFeedback();
    window.setTimeout(() => {
      $("list-status").textContent = text;
    }, 50);
  }

  // What went wrong, in the words the server wrote for people (never field names).
  function problemText(error) {
    const problem = error.problem;
    if (!problem) return t("Something went wrong; try again.");
    const fields = (problem.errors || []).map((e) => e.message).filter(Boolean);
    return fields.length ? fields.join(" ") : problem.detail || problem.title;
  }

  // --- loading -------------------------------------------------------------

  async function allChannels() {
    const items = [];
    let cursor = null;
    do {
      const query = cursor ? `?limit=200&cursor=${encodeURIComponent(cursor)}` : "?limit=200";
      const data = await window.rolodex.api("GET", `/api/v1/channels${query}`);
      items.push(...(data.items || []));
      cursor = data.next_cursor;
    } while (cursor);
    return items.filter((c) => !c.archived);
  }

  async function load() {
    const list = $("attribute-list");
    try {
      const [data, found] = await Promise.all([
        window.rolodex.api("GET", "/api/v1/attributes"),
        allChannels(),
      ]);
      attributes = Array.isArray(data) ? data : data.items || [];
      channels = found;
      pageError("");
      render();
    } catch (error) {
      pageError(t("The attributes could not be loaded: %(reason)s", { reason: problemText(error) }));
    } finally {
      list.setAttribute("aria-busy", "false");
      $("attr-loading").hidden = true;
    }
  }

  // --- the list --------------------------------------------------------------

  function badges(attr) {
    const kind = h("span", { class: `badge kind-${attr.kind}`, text: kindName(attr.kind) });
    const type = [typeName(attr.type)];
    if (attr.type === "text" && attr.format && attr.format !== "text") type.push(formatName(attr.format));
    if (attr.type === "dropdown" && attr.options) {
      type.push(t("%(count)s options", { count: attr.options.length }));
    }
    return h(
      "span",
      { class: "badges" },
      kind,
      h("span", { class: "badge", text: type.join(" · ") }),
      attr.crm_managed ? h("span", { class: "badge mark-crm", text: t("CRM-managed") }) : null,
      attr.lookup ? h("span", { class: "badge mark-lookup", text: t("CRM lookup") }) : null,
      attr.enabled ? null : h("span", { class: "badge mark-off", text: t("Hidden") }),
    );
  }

  function toggles(attr) {
    const main = h(
      "label",
      { class: "switch" },
      h("input", {
        type: "checkbox",
        checked: Boolean(attr.enabled),
        "aria-label": t("Show %(attribute)s", { attribute: attr.label }),
        onchange: (event) => toggle(attr, event.target),
      }),
      h("span", { text: t("Show") }),
    );
    if (attr.kind !== "platform") return h("div", { class: "attr-toggles" }, main);
    const mine = channels.filter((c) => c.medium === attr.medium);
    const perChannel = mine.map((channel) =>
      h(
        "li",
        {},
        h(
          "label",
          { class: "switch" },
          h("input", {
            type: "checkbox",
            checked: !(attr.disabled_channel_ids || []).includes(channel.id),
            disabled: !attr.enabled,
            "aria-label": t("Show %(attribute)s on %(channel)s", { attribute: attr.label, channel: channel.name }),
            onchange: (event) => toggleChannel(attr, channel, event.target),
          }),
          h("span", { text: t("on %(channel)s", { channel: channel.name }) }),
        ),
      ),
    );
    return h(
      "div",
      { class: "attr-toggles" },
      main,
      mine.length
        ? h("ul", { class: "channel-toggles", "aria-label": t("Channels showing %(attribute)s", { attribute: attr.label }) }, perChannel)
        : h("span", { class: "meta", text: t("No channel of this kind yet") }),
    );
  }

  function actions(attr, index) {
    const last = index === attributes.length - 1;
    return h(
      "div",
      { class: "attr-actions" },
      h(
        "button",
        { type: "button", class: "secondary small", disabled: index === 0, "data-move": "up", onclick: () => move(attr.key, index - 1, "up") },
        t("Move up"), hidden(` ${attr.label}`),
      ),
      h(
        "button",
        { type: "button", class: "secondary small", disabled: last, "data-move": "down", onclick: () => move(attr.key, index + 1, "down") },
        t("Move down"), hidden(` ${attr.label}`),
      ),
      attr.kind !== "standard"
        ? h("button", { type: "button", class: "secondary small", "data-action": "edit", onclick: (e) => openEdit(attr, e.currentTarget) }, t("Edit"), hidden(` ${attr.label}`))
        : null,
      attr.kind === "custom"
        ? h("button", { type: "button", class: "secondary small danger-text", "data-action": "delete", onclick: (e) => openDelete(attr, e.currentTarget) }, t("Delete"), hidden(` ${attr.label}`))
        : null,
    );
  }

  function row(attr, index) {
    const labelId = `attr-${attr.key}-label`;
    return h(
      "li",
      {
        class: `attr-row${attr.enabled ? "" : " is-off"}`,
        draggable: "true",
        tabindex: "-1",
        "data-key": attr.key,
        "aria-labelledby": labelId,
        ondragstart: (event) => {
          dragKey = attr.key;
          event.dataTransfer.effectAllowed = "move";
          event.dataTransfer.setData("text/plain", attr.key);
          event.currentTarget.classList.add("dragging");
        },
        ondragover: (event) => {
          if (!dragKey) return;
          event.preventDefault();
          event.dataTransfer.dropEffect = "move";
          event.currentTarget.classList.add("drop-target");
        },
        ondragleave: (event) => event.currentTarget.classList.remove("drop-target"),
        ondrop: (event) => {
          event.preventDefault();
          event.currentTarget.classList.remove("drop-target");
          const from = dragKey;
          dragKey = null;
          const to = attributes.findIndex((a) => a.key === attr.key);
          if (from && from !== attr.key) move(from, to, null);
        },
        ondragend: (event) => {
          dragKey = null;
          event.currentTarget.classList.remove("dragging");
        },
      },
      h("span", { class: "drag-handle", "aria-hidden": "true", title: t("Drag to reorder"), text: "⠿" }),
      h(
        "div",
        { class: "attr-main" },
        h("span", { class: "attr-label", id: labelId, text: attr.label }),
        h("code", { class: "attr-key", text: attr.key }),
        badges(attr),
      ),
      toggles(attr),
      actions(attr, index),
      h("p", { class: "attr-note", role: "status", "data-feedback": "" }),
      h("p", { class: "attr-row-error", role: "alert", "data-feedback-error": "", hidden: true }),
    );
  }

  function render() {
    const list = $("attribute-list");
    list.replaceChildren(...attributes.map(row));
    if (!attributes.length) list.replaceChildren(h("li", { class: "empty", text: t("No attributes yet.") }));
  }

  // --- reordering -------------------------------------------------------------

  async function move(key, to, direction) {
    const from = attributes.findIndex((a) => a.key === key);
    if (from < 0 || to < 0 || to >= attributes.length || from === to) return;
    const previous = attributes.slice();
    const [item] = attributes.splice(from, 1);
    attributes.splice(to, 0, item);
    render();
    const moved = rowOf(key);
    if (direction && moved) {
      // Keep the keyboard user's focus on the button they pressed (or its twin at the end).
      const button = moved.querySelector(`[data-move="${direction}"]:not([disabled])`)
        || moved.querySelector("[data-move]:not([disabled])");
      if (button) button.focus();
    }
    try {
      const keys = attributes.map((a) => a.key);
      const data = await window.rolodex.api("PUT", "/api/v1/attributes/order", { keys });
      const fresh = Array.isArray(data) ? data : data && data.items;
      if (fresh) attributes = fresh;
      pageError("");
      noteRow(key, t("%(attribute)s moved to position %(position)s of %(count)s.", {
        attribute: item.label, position: to + 1, count: attributes.length,
      }));
    } catch (error) {
      attributes = previous;
      render();
      rowError(key, t("The new order was not saved: %(reason)s", { reason: problemText(error) }));
    }
  }

  // --- toggles ---------------------------------------------------------------

  function replace(updated) {
    const index = attributes.findIndex((a) => a.key === updated.key);
    if (index >= 0) attributes[index] = { ...attributes[index], ...updated };
  }

  function refreshRow(key, focusSelector) {
    const index = attributes.findIndex((a) => a.key === key);
    const old = rowOf(key);
    if (index < 0 || !old) return;
    const fresh = row(attributes[index], index);
    old.replaceWith(fresh);
    if (focusSelector) {
      const target = fresh.querySelector(focusSelector);
      if (target) target.focus();
    }
  }

  async function patch(attr, body) {
    const updated = await window.rolodex.api("PATCH", `/api/v1/attributes/${encodeURIComponent(attr.key)}`, body);
    replace(updated && updated.key ? updated : { key: attr.key, ...body });
    return attributes.find((a) => a.key === attr.key);
  }

  async function toggle(attr, input) {
    const enabled = input.checked;
    input.disabled = true;
    try {
      const updated = await patch(attr, { enabled });
      pageError("");
      refreshRow(updated.key, ".attr-toggles > .switch input");
      noteRow(updated.key, enabled
        ? t("%(attribute)s is shown in the Contact tab.", { attribute: attr.label })
        : t("%(attribute)s is hidden from the Contact tab.", { attribute: attr.label }));
    } catch (error) {
      input.checked = !enabled;
      input.disabled = false;
      rowError(attr.key, t("%(attribute)s was not changed: %(reason)s", {
        attribute: attr.label, reason: problemText(error),
      }));
    }
  }

  async function toggleChannel(attr, channel, input) {
    const shown = input.checked;
    const current = new Set(attr.disabled_channel_ids || []);
    if (shown) current.delete(channel.id);
    else current.add(channel.id);
    input.disabled = true;
    try {
      const updated = await patch(attr, { disabled_channel_ids: [...current] });
      pageError("");
      const index = channels.filter((c) => c.medium === attr.medium).indexOf(channel);
      refreshRow(updated.key, `.channel-toggles li:nth-child(${index + 1}) input`);
      const values = { attribute: attr.label, channel: channel.name };
      noteRow(updated.key, shown
        ? t("%(attribute)s is shown on %(channel)s.", values)
        : t("%(attribute)s is hidden on %(channel)s.", values));
    } catch (error) {
      input.checked = !shown;
      input.disabled = false;
      rowError(attr.key, t("%(attribute)s was not changed on %(channel)s: %(reason)s", {
        attribute: attr.label, channel: channel.name, reason: problemText(error),
      }));
    }
  }

  // --- errors next to fields ----------------------------------------------------

  function clearErrors(form) {
    for (const slot of form.querySelectorAll(".field-error")) {
      slot.hidden = true;
      slot.textContent = "";
      slot.removeAttribute("role");
    }
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  }

  function fieldOf(name) {
    // "body.options.1" or "options[1]" → "options"
    const parts = String(name || "").replace(/\[.*$/, "").split(".");
    if (parts[0] === "body" || parts[0] === "query") parts.shift();
    return parts[0] || "";
  }

  // Each message the server wrote for people beside its field (the form's general slot for the
  // rest); an older success line anywhere on the page goes.
  function showFieldErrors(form, error, remap = (field) => field) {
    clearFeedback();
    clearErrors(form);
    const problem = error.problem || {};
    const general = form.querySelector('.field-error[data-error-for=""]');
    const place = (field, message) => {
      const slot = form.querySelector(`.field-error[data-error-for="${CSS.escape(field)}"]`) || general;
      // A slot inside a part the form does not show (options of a text field): the general one.
      const shown = slot.parentElement.closest("[hidden]") ? general : slot;
      shown.textContent = shown.textContent ? `${shown.textContent} ${message}` : message;
      shown.hidden = false;
      shown.setAttribute("role", "alert");
      const input = form.elements[field];
      if (input && input.setAttribute && shown === slot) input.setAttribute("aria-invalid", "true");
    };
    const listed = problem.errors || [];
    for (const e of listed) place(remap(fieldOf(e.field)), e.message || problem.detail);
    if (!listed.length) place("", problem.detail || problem.title || t("Something went wrong; try again."));
    const first = form.querySelector("[aria-invalid]");
    if (first) first.focus();
  }

  // --- adding --------------------------------------------------------------------

  function optionLines(text) {
    return text.split("\n").map((line) => line.trim()).filter(Boolean);
  }

  function syncType(form, type) {
    form.querySelector(".when-text").hidden = type !== "text";
    form.querySelector(".when-dropdown").hidden = type !== "dropdown";
  }

  function openAdd(event) {
    const dialog = $("add-dialog");
    const form = $("add-form");
    clearErrors(form);
    form.reset();
    syncType(form, "text");
    dialog.opener = event.currentTarget;
    dialog.showModal();
    form.elements.label.focus();
  }

  async function add(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const type = form.elements.type.value;
    const body = { label: form.elements.label.value.trim(), type };
    const key = form.elements.key.value.trim();
    if (key) body.key = key;
    if (type === "text") body.format = form.elements.format.value;
    else body.options = optionLines(form.elements.options.value);
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const created = await window.rolodex.api("POST", "/api/v1/attributes", body);
      clearErrors(form);
      attributes.push(created);
      render();
      // The result is shown where the person will look: the new row, focused and in view.
      const dialog = $("add-dialog");
      dialog.opener = null;
      dialog.close();
      const item = rowOf(created.key);
      if (item) {
        item.scrollIntoView({ block: "center" });
        item.focus();
      }
      noteRow(created.key, t("%(attribute)s was added at the end of the list.", { attribute: created.label }));
    } catch (error) {
      // A key made from the label that is taken: the admin fixes the label (or gives a key).
      showFieldErrors(form, error, (field) => (field === "key" && !key ? "label" : field));
    } finally {
      button.disabled = false;
    }
  }

  // --- editing -------------------------------------------------------------------

  function openEdit(attr, opener) {
    editing = attr;
    const dialog = $("edit-dialog");
    const form = $("edit-form");
    clearErrors(form);
    form.reset();
    $("edit-heading").textContent = t("Edit %(attribute)s", { attribute: attr.label });
    const custom = attr.kind === "custom";
    for (const part of form.querySelectorAll(".edit-custom")) part.hidden = !custom;
    form.querySelector(".edit-text").hidden = !(custom && attr.type === "text");
    form.querySelector(".edit-dropdown").hidden = !(custom && attr.type === "dropdown");
    form.querySelector('button[value="force"]').hidden = true;
    form.elements.label.value = attr.label;
    form.elements.format.value = attr.format || "text";
    form.elements.options.value = (attr.options || []).join("\n");
    form.elements.crm_managed.checked = Boolean(attr.crm_managed);
    form.elements.lookup.checked = Boolean(attr.lookup);
    dialog.opener = opener;
    dialog.showModal();
    (custom ? form.elements.label : form.elements.lookup).focus();
  }

  function editBody(form, attr) {
    const body = {};
    if (attr.kind === "custom") {
      const label = form.elements.label.value.trim();
      if (label !== attr.label) body.label = label;
      if (attr.type === "text" && form.elements.format.value !== (attr.format || "text")) {
        body.format = form.elements.format.value;
      }
      if (attr.type === "dropdown") {
        const options = optionLines(form.elements.options.value);
        if (options.join("\n") !== (attr.options || []).join("\n")) body.options = options;
      }
      if (form.elements.crm_managed.checked !== Boolean(attr.crm_managed)) {
        body.crm_managed = form.elements.crm_managed.checked;
      }
    }
    if (form.elements.lookup.checked !== Boolean(attr.lookup)) body.lookup = form.elements.lookup.checked;
    return body;
  }

  function inUseMessage(problem) {
    const count = problem.count ?? 0;
    const options = (problem.options || []).join(", ");
    return count === 1
      ? t("1 contact uses the removed option %(options)s. Remove it anyway to clear that value, or keep the option.", { options })
      : t("%(count)s contacts use the removed options %(options)s. Remove them anyway to clear those values, or keep the options.", { count, options });
  }

  async function saveEdit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const attr = editing;
    if (!attr) return;
    const dialog = $("edit-dialog");
    const force = event.submitter && event.submitter.value === "force";
    const body = editBody(form, attr);
    if (!Object.keys(body).length) {
      dialog.close();
      return;
    }
    const path = `/api/v1/attributes/${encodeURIComponent(attr.key)}${force ? "?force=true" : ""}`;
    try {
      const updated = await window.rolodex.api("PATCH", path, body);
      replace(updated && updated.key ? updated : { key: attr.key, ...body });
      dialog.opener = null;
      dialog.close();
      // The row is drawn again: focus goes back to its Edit button, the result beside it.
      refreshRow(attr.key, '[data-action="edit"]');
      const now = attributes.find((a) => a.key === attr.key) || attr;
      noteRow(attr.key, t("%(attribute)s saved.", { attribute: now.label }));
    } catch (error) {
      const problem = error.problem || {};
      const inUse = problem.code === "option_in_use";
      if (inUse) {
        // An option still in use: say so in the page's words and offer to remove it anyway
        // (the server clears those values, with history).
        showFieldErrors(form, { problem: { errors: [{ field: "options", message: inUseMessage(problem) }] } });
      } else {
        showFieldErrors(form, error);
      }
      form.querySelector('button[value="force"]').hidden = !inUse;
    }
  }

  // --- deleting ------------------------------------------------------------------

  function openDelete(attr, opener) {
    deleting = attr;
    const form = $("delete-form");
    clearErrors(form);
    $("delete-heading").textContent = t("Delete %(attribute)s?", { attribute: attr.label });
    $("delete-text").textContent = t(
      "The attribute %(attribute)s and its value on every contact are removed. The change history keeps a record.",
      { attribute: attr.label },
    );
    const dialog = $("delete-dialog");
    dialog.opener = opener;
    dialog.showModal();
    form.querySelector("button[data-close]").focus();
  }

  async function confirmDelete(event) {
    event.preventDefault();
    const attr = deleting;
    if (!attr) return;
    try {
      await window.rolodex.api("DELETE", `/api/v1/attributes/${encodeURIComponent(attr.key)}`);
      attributes = attributes.filter((a) => a.key !== attr.key);
      const dialog = $("delete-dialog");
      dialog.opener = null;
      dialog.close();
      render();
      // The row is gone: the result shows under the list's heading, which takes the focus.
      $("list-heading").focus();
      $("list-heading").scrollIntoView({ block: "start" });
      listStatus(t("%(attribute)s deleted.", { attribute: attr.label }));
    } catch (error) {
      showFieldErrors(event.currentTarget, error);
    }
  }

  // --- start ---------------------------------------------------------------------

  function start() {
    const addForm = $("add-form");
    $("add-open").addEventListener("click", openAdd);
    addForm.addEventListener("submit", add);
    for (const radio of addForm.elements.type) {
      radio.addEventListener("change", () => syncType(addForm, addForm.elements.type.value));
    }
    $("edit-form").addEventListener("submit", saveEdit);
    $("delete-form").addEventListener("submit", confirmDelete);
    for (const dialog of document.querySelectorAll("dialog")) {
      for (const button of dialog.querySelectorAll("[data-close]")) {
        button.addEventListener("click", () => dialog.close());
      }
      // Escape closes a native dialog; focus goes back to the button that opened it.
      dialog.addEventListener("close", () => {
        if (dialog.opener && dialog.opener.isConnected) dialog.opener.focus();
      });
    }
    $("list-heading").tabIndex = -1;
    load();
  }

  // Deferred scripts run before DOMContentLoaded, and rolodex.js (window.rolodex) comes after this one.
  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
