// Admin settings > Agent workspace > Contact attributes: "Attribute used for matching" and the
// platform-to-custom mappings. Reads and writes GET|PATCH /api/v1/settings/contacts.
// Results show beside the control used (#matching-status, #mapping-status), never far away.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  let settings = { matching_attribute: null, mappings: [] };
  let custom = [];
  const labels = {};

  // Looked up at call time: rolodex.js may run after this file.
  const h = (...args) => window.rolodex.h(...args);
  const t = (...args) => window.rolodex.t(...args);

  // One result at a time on the page: a new one clears older success lines and row errors
  // (attributes.js marks its own the same way).
  function clearFeedback() {
    for (const line of document.querySelectorAll("[data-feedback]")) line.textContent = "";
    for (const box of document.querySelectorAll("[data-feedback-error]")) {
      box.textContent = "";
      box.hidden = true;
    }
  }

  function say(id, text) {
    clearFeedback();
    window.setTimeout(() => {
      $(id).textContent = text;
    }, 50);
  }

  const label = (key) => labels[key] || key;

  function showError(id, error) {
    const slot = $(id);
    const problem = (error && error.problem) || {};
    const messages = (problem.errors || []).map((e) => e.message).filter(Boolean);
    const text = error
      ? (messages.length ? messages.join(" ") : problem.detail || problem.title || t("Something went wrong; try again."))
      : "";
    if (text) clearFeedback();
    slot.textContent = text;
    slot.hidden = !text;
    if (text) slot.setAttribute("role", "alert");
    else slot.removeAttribute("role");
  }

  function render() {
    const key = settings.matching_attribute;
    $("matching-current").textContent = key
      ? `${label(key)} (${key})`
      : t("None: contacts are not linked across channels");
    const select = $("matching-select");
    select.replaceChildren(
      h("option", { value: "", text: t("None (do not link)") }),
      // Only text attributes identify a person; a dropdown would link everyone who picked an option.
      ...custom.filter((a) => a.type === "text")
        .map((a) => h("option", { value: a.key, text: `${a.label} (${a.key})`, selected: a.key === key })),
    );
    $("mapping-to").replaceChildren(
      ...custom.filter((a) => a.type === "text").map((a) => h("option", { value: a.key, text: `${a.label} (${a.key})` })),
    );
    const list = $("mapping-list");
    list.replaceChildren(...settings.mappings.map((m, index) => h(
      "li",
      {},
      h("span", { text: t("%(from)s fills %(to)s", { from: label(m.from), to: label(m.to) }) }), " ",
      h("button", {
        type: "button",
        class: "secondary small",
        "aria-label": t("Remove mapping %(from)s to %(to)s", { from: label(m.from), to: label(m.to) }),
        onclick: () => removeMapping(index),
      }, t("Remove")),
    )));
    if (!settings.mappings.length) list.replaceChildren(h("li", { class: "empty", text: t("No mappings yet.") }));
  }

  async function save(body, errorId, statusId, message) {
    try {
      settings = await window.rolodex.api("PATCH", "/api/v1/settings/contacts", body);
      showError(errorId, null);
      render();
      say(statusId, message);
      return true;
    } catch (error) {
      showError(errorId, error);
      return false;
    }
  }

  async function saveMatching(event) {
    event.preventDefault();
    const value = $("matching-select").value || null;
    const done = await save({ matching_attribute: value }, "matching-error", "matching-status",
      value
        ? t("Contacts are now linked by %(attribute)s.", { attribute: label(value) })
        : t("Contacts are no longer linked across channels."));
    if (done) {
      $("matching-form").hidden = true;
      $("matching-change").focus();
    }
  }

  function addMapping(event) {
    event.preventDefault();
    const entry = { from: $("mapping-from").value, to: $("mapping-to").value };
    save({ mappings: [...settings.mappings, entry] }, "mapping-error", "mapping-status",
      t("%(from)s now fills %(to)s.", { from: label(entry.from), to: label(entry.to) }));
  }

  function removeMapping(index) {
    const gone = settings.mappings[index];
    const rest = settings.mappings.filter((_, i) => i !== index);
    save({ mappings: rest }, "mapping-error", "mapping-status",
      t("%(from)s no longer fills %(to)s.", { from: label(gone.from), to: label(gone.to) }))
      .then(() => $("mappings-heading").focus());
  }

  async function load() {
    try {
      const [data, attributes] = await Promise.all([
        window.rolodex.api("GET", "/api/v1/settings/contacts"),
        window.rolodex.api("GET", "/api/v1/attributes"),
      ]);
      const items = Array.isArray(attributes) ? attributes : attributes.items || [];
      for (const a of items) labels[a.key] = a.label;
      custom = items.filter((a) => a.kind === "custom");
      settings = data;
      render();
    } catch (error) {
      showError("matching-error", error);
    }
  }

  function start() {
    $("matching-change").addEventListener("click", () => {
      load().then(() => {
        $("matching-form").hidden = false;
        $("matching-select").focus();
      });
    });
    $("matching-cancel").addEventListener("click", () => {
      $("matching-form").hidden = true;
      $("matching-change").focus();
    });
    $("matching-form").addEventListener("submit", saveMatching);
    $("mapping-form").addEventListener("submit", addMapping);
    $("mappings-heading").tabIndex = -1;
    // Platform attributes are named before any channel of their medium exists.
    for (const option of $("mapping-from").options) labels[option.value] = option.dataset.label;
    load();
  }

  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
