// Shared page helpers: API calls from pages carry the session cookie and the CSRF token.
"use strict";
window.rolodex = {
  // Build an element: h(tag, {class, text, on<event>, attribute…}, ...children).
  h(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (name in node && typeof value !== "string") node[name] = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child);
    }
    return node;
  },
  // The page's text in the reader's language: the catalog /i18n/<locale>.js served with the
  // page; `values` fill %(name)s placeholders. Strings are English message ids (`make i18n`).
  t(message, values) {
    const text = (window.rolodexMessages || {})[message] || message;
    return text.replace(/%\((\w+)\)[sd]/g, (_, name) =>
      values && name in values ? String(values[name]) : `%(${name})s`,
    );
  },
  // A moment in the reader's language and time zone (<html lang> and data-time-zone), the way
  // the server formats it (CLDR, through Intl): one helper for every time on every page.
  time(iso, style = "medium") {
    if (!iso) return "";
    const root = document.documentElement;
    const options = { timeZone: root.dataset.timeZone || "UTC" };
    if (style === "short") Object.assign(options, { dateStyle: "short", timeStyle: "short" });
    else Object.assign(options, { dateStyle: "medium", timeStyle: "short" });
    return new Intl.DateTimeFormat(root.lang || "en", options).format(new Date(iso));
  },
  // Ask before acting on something that changed: the page's <dialog class="ask-dialog"> (or the
  // browser's confirm). Resolves true for `yes`, false for Cancel or Escape.
  ask(heading, text, yes) {
    const dialog = document.querySelector(".ask-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return Promise.resolve(window.confirm(text));
    dialog.querySelector("#ask-heading").textContent = heading;
    dialog.querySelector("#ask-text").textContent = text;
    dialog.querySelector(".ask-yes").textContent = yes;
    const back = document.activeElement;
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => {
        resolve(dialog.returnValue === "yes");
        if (back && document.contains(back)) back.focus();
      }, { once: true });
      dialog.returnValue = "";
      dialog.showModal();
      // The safe answer has the keyboard: Enter does not act by accident.
      dialog.querySelector(".ask-no").focus();
    });
  },
  csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  },
  // `options.headers` adds headers (e.g. If-Match). A failure throws an Error with `status`,
  // `problem` (the problem+json body) and, for 412 stale, `current` (the thing as it is now).
  async api(method, path, body, options = {}) {
    const response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRF-Token": this.csrf(),
        ...(options.headers || {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const error = new Error((data && data.detail) || response.statusText);
      error.status = response.status;
      error.problem = data;
      error.current = data && data.current ? data.current : null;
      throw error;
    }
    return data;
  },
};
