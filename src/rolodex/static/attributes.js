// Admin settings > Agent workspace > Contact attributes.
// Every action calls the REST API through window.rolodex.api, the same service calls as the API.
"use strict";
(() => {
  const KINDS = { platform: "Platform", custom: "Custom", standard: "Standard" };
  const TYPES = { text: "Text field", dropdown: "Dropdown list", boolean: "Yes/No" };
  const FORMATS = {
    text: "text", number: "number", email: "email", phone: "phone number", url: "URL", date: "date",
  };

  let attributes = [];
  let channels = [];
  let dragKey = null;
  let editing = null;
  let deleting = null;

  const $ = (id) => document.getElementById(id);

  // Looked up at call time: rolodex.js may run after this file.
  const h = (...args) => window.rolodex.h(...args);

  // Visually hidden text: completes an accessible name ("Move up Email") without cluttering rows.
  const hidden = (text) => h("span", { class: "visually-hidden", text });

  function setStatus(text) {
    $("attr-status").textContent = text;
  }

  function showError(text) {
    const box = $("attr-error");
    box.textContent = text;
    box.hidden = !text;
  }

  function problemText(error) {
    const problem = error.problem;
    if (!problem) return error.message || "Something went wrong; try again.";
    const fields = (problem.errors || []).map((e) => e.message).filter(Boolean);
    return fields.length ? `${problem.title || problem.detail}: ${fields.join("; ")}` : problem.detail || problem.title;
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
      showError("");
      render();
    } catch (error) {
      showError(`The attributes could not be loaded: ${problemText(error)}`);
    } finally {
      list.setAttribute("aria-busy", "false");
      $("attr-loading").hidden = true;
    }
  }

  // --- the list --------------------------------------------------------------

  function badges(attr) {
    const kind = h("span", { class: `badge kind-${attr.kind}`, text: KINDS[attr.kind] || attr.kind });
    let typeText = TYPES[attr.type] || attr.type;
    if (attr.type === "text" && attr.format && attr.format !== "text") {
      typeText += ` · ${FORMATS[attr.format] || attr.format}`;
    }
    if (attr.type === "dropdown" && attr.options) typeText += ` · ${attr.options.length} options`;
    return h(
      "span",
      { class: "badges" },
      kind,
      h("span", { class: "badge", text: typeText }),
      attr.crm_managed ? h("span", { class: "badge mark-crm", text: "CRM-managed" }) : null,
      attr.lookup ? h("span", { class: "badge mark-lookup", text: "Lookup" }) : null,
      attr.enabled ? null : h("span", { class: "badge mark-off", text: "Hidden" }),
    );
  }

  function toggles(attr) {
    const main = h(
      "label",
      { class: "switch" },
      h("input", {
        type: "checkbox",
        checked: Boolean(attr.enabled),
        onchange: (event) => toggle(attr, event.target),
      }),
      h("span", {}, "Show", hidden(` ${attr.label}`)),
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
            onchange: (event) => toggleChannel(attr, channel, event.target),
          }),
          h("span", {}, hidden(`Show ${attr.label} `), `on ${channel.name}`),
        ),
      ),
    );
    return h(
      "div",
      { class: "attr-toggles" },
      main,
      mine.length
        ? h("ul", { class: "channel-toggles", "aria-label": `Channels showing ${attr.label}` }, perChannel)
        : h("span", { class: "meta", text: "No channel of this kind yet" }),
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
        "Move up", hidden(` ${attr.label}`),
      ),
      h(
        "button",
        { type: "button", class: "secondary small", disabled: last, "data-move": "down", onclick: () => move(attr.key, index + 1, "down") },
        "Move down", hidden(` ${attr.label}`),
      ),
      attr.kind !== "standard"
        ? h("button", { type: "button", class: "secondary small", onclick: (e) => openEdit(attr, e.currentTarget) }, "Edit", hidden(` ${attr.label}`))
        : null,
      attr.kind === "custom"
        ? h("button", { type: "button", class: "secondary small danger-text", onclick: (e) => openDelete(attr, e.currentTarget) }, "Delete", hidden(` ${attr.label}`))
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
      h("span", { class: "drag-handle", "aria-hidden": "true", title: "Drag to reorder", text: "⠿" }),
      h(
        "div",
        { class: "attr-main" },
        h("span", { class: "attr-label", id: labelId, text: attr.label }),
        h("code", { class: "attr-key", text: attr.key }),
        badges(attr),
      ),
      toggles(attr),
      actions(attr, index),
    );
  }

  function render() {
    const list = $("attribute-list");
    list.replaceChildren(...attributes.map(row));
    if (!attributes.length) list.replaceChildren(h("li", { class: "empty", text: "No attributes yet." }));
  }

  // --- reordering -------------------------------------------------------------

  async function move(key, to, direction) {
    const from = attributes.findIndex((a) => a.key === key);
    if (from < 0 || to < 0 || to >= attributes.length || from === to) return;
    const previous = attributes.slice();
    const [item] = attributes.splice(from, 1);
    attributes.splice(to, 0, item);
    render();
    const moved = $("attribute-list").querySelector(`li[data-key="${CSS.escape(key)}"]`);
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
      showError("");
      setStatus(`${item.label} moved to position ${to + 1} of ${attributes.length}.`);
    } catch (error) {
      attributes = previous;
      render();
      showError(`The new order was not saved: ${problemText(error)}`);
    }
  }

  // --- toggles ---------------------------------------------------------------

  function replace(updated) {
    const index = attributes.findIndex((a) => a.key === updated.key);
    if (index >= 0) attributes[index] = { ...attributes[index], ...updated };
  }

  function refreshRow(key, focusSelector) {
    const index = attributes.findIndex((a) => a.key === key);
    const old = $("attribute-list").querySelector(`li[data-key="${CSS.escape(key)}"]`);
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
      showError("");
      setStatus(`${attr.label} is ${enabled ? "shown in" : "hidden from"} the Contact tab.`);
      refreshRow(updated.key, ".attr-toggles > .switch input");
    } catch (error) {
      input.checked = !enabled;
      input.disabled = false;
      showError(`${attr.label} was not changed: ${problemText(error)}`);
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
      showError("");
      setStatus(`${attr.label} is ${shown ? "shown" : "hidden"} on ${channel.name}.`);
      const index = channels.filter((c) => c.medium === attr.medium).indexOf(channel);
      refreshRow(updated.key, `.channel-toggles li:nth-child(${index + 1}) input`);
    } catch (error) {
      input.checked = !shown;
      input.disabled = false;
      showError(`${attr.label} was not changed on ${channel.name}: ${problemText(error)}`);
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

  function showFieldErrors(form, error, remap = (field) => field) {
    clearErrors(form);
    const problem = error.problem || {};
    const general = form.querySelector('.field-error[data-error-for=""]');
    const place = (field, message) => {
      const slot = form.querySelector(`.field-error[data-error-for="${CSS.escape(field)}"]`) || general;
      slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
      slot.hidden = false;
      slot.setAttribute("role", "alert");
      const input = form.elements[field];
      if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
    };
    const listed = problem.errors || [];
    for (const e of listed) place(remap(fieldOf(e.field)), e.message || problem.detail);
    if (!listed.length) place("", problem.detail || error.message);
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
      form.reset();
      syncType(form, "text");
      attributes.push(created);
      render();
      setStatus(`${created.label} added at the end of the list.`);
      form.elements.label.focus();
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
    $("edit-heading").textContent = `Edit ${attr.label}`;
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

  async function saveEdit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const attr = editing;
    if (!attr) return;
    const force = event.submitter && event.submitter.value === "force";
    const body = editBody(form, attr);
    if (!Object.keys(body).length) {
      $("edit-dialog").close();
      return;
    }
    const path = `/api/v1/attributes/${encodeURIComponent(attr.key)}${force ? "?force=true" : ""}`;
    try {
      const updated = await window.rolodex.api("PATCH", path, body);
      replace(updated && updated.key ? updated : { key: attr.key, ...body });
      $("edit-dialog").close();
      refreshRow(attr.key);
      setStatus(`${attr.label} saved.`);
    } catch (error) {
      const problem = error.problem || {};
      const inUse = problem.code === "option_in_use";
      if (inUse) {
        // An option still in use: say so in the page's words and offer to remove it anyway
        // (the server clears those values, with history).
        const count = problem.count ?? "Some";
        const options = (problem.options || []).join(", ");
        const message = `${count} contact${count === 1 ? " uses" : "s use"} the removed option ${options}. `
          + "Remove it anyway to clear those values, or keep the option.";
        showFieldErrors(form, { problem: { errors: [{ field: "options", message }] } });
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
    $("delete-heading").textContent = `Delete ${attr.label}?`;
    $("delete-text").textContent =
      `The attribute ${attr.label} and its value on every contact are removed. The change history keeps a record.`;
    const dialog = $("delete-dialog");
    dialog.opener = opener;
    dialog.showModal();
    form.querySelector('button[data-close]').focus();
  }

  async function confirmDelete(event) {
    event.preventDefault();
    const attr = deleting;
    if (!attr) return;
    try {
      await window.rolodex.api("DELETE", `/api/v1/attributes/${encodeURIComponent(attr.key)}`);
      attributes = attributes.filter((a) => a.key !== attr.key);
      $("delete-dialog").close();
      render();
      setStatus(`${attr.label} deleted.`);
      $("list-heading").focus();
    } catch (error) {
      showFieldErrors(event.currentTarget, error);
    }
  }

  // --- start ---------------------------------------------------------------------

  function start() {
    const add_form = $("add-form");
    add_form.addEventListener("submit", add);
    for (const radio of add_form.elements.type) {
      radio.addEventListener("change", () => syncType(add_form, add_form.elements.type.value));
    }
    $("edit-form").addEventListener("submit", saveEdit);
    $("delete-form").addEventListener("submit", confirmDelete);
    for (const dialog of document.querySelectorAll("dialog")) {
      for (const button of dialog.querySelectorAll("[data-close]")) {
        button.addEventListener("click", () => dialog.close());
      }
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
