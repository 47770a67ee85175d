// The agent workspace around the Contact tab: the list's filters apply as soon as they change
// (no Filter button), and Ctrl+Enter (Cmd+Enter on a Mac) sends the reply being written.
"use strict";
(() => {
  // The filter that reloaded the list gets the keyboard back once the new list is shown.
  const FOCUS_KEY = "rolodex.workspace.filter";

  function remember(id) {
    try {
      sessionStorage.setItem(FOCUS_KEY, id);
    } catch {
      // Storage may be off: the list still reloads, only the focus is not restored.
    }
  }

  function recall() {
    try {
      const id = sessionStorage.getItem(FOCUS_KEY);
      sessionStorage.removeItem(FOCUS_KEY);
      return id;
    } catch {
      return null;
    }
  }

  function setupFilters() {
    const form = document.querySelector("form.filters");
    if (!form) return;
    form.addEventListener("change", (event) => {
      if (!(event.target instanceof HTMLSelectElement)) return;
      remember(event.target.id);
      form.requestSubmit();
    });
    const id = recall();
    const again = id ? document.getElementById(id) : null;
    if (again && form.contains(again)) again.focus();
  }

  function setupReply() {
    const text = document.getElementById("reply-text");
    if (!text) return;
    text.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.isComposing) return;
      event.preventDefault();
      // As the Send reply button does: an empty reply is refused by the field's own check.
      text.form.requestSubmit();
    });
  }

  function start() {
    setupFilters();
    setupReply();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
