// Exports > On-demand exports: Generate export, then watch the list until it is done.
// Uses POST/GET /api/v1/exports (the same service calls as the API). Text through rolodex.t,
// times through rolodex.time (the reader's language and zone).
"use strict";
(() => {
  const h = (...args) => window.rolodex.h(...args);
  const api = (...args) => window.rolodex.api(...args);
  const t = (...args) => window.rolodex.t(...args);
  const when = (iso) => window.rolodex.time(iso);
  const $ = (id) => document.getElementById(id);
  const number = new Intl.NumberFormat(document.documentElement.lang || "en");
  // (rolodex.js runs after this file: its helpers are used only once the page has loaded.)
  function statusText(status) {
    const names = { queued: t("Queued"), running: t("Generating"), done: t("Ready"), failed: t("Failed") };
    return names[status] || status;
  }
  let timer = null;

  function say(text) {
    $("export-status").textContent = text;
  }

  function row(e) {
    const { done, total } = e.progress;
    const percent = total ? Math.round((100 * done) / total) : (e.status === "done" ? 100 : 0);
    const requested = when(e.created_at);
    let file;
    if (e.download_url) {
      file = h("a", { href: e.download_url, download: "" }, t("Download"),
        h("span", { class: "visually-hidden", text: " " + t("the export of %(time)s", { time: requested }) }));
    } else if (e.expired) {
      file = h("span", { class: "meta", text: t("Expired") });
    } else {
      file = h("span", { class: "meta", text: e.error || "" });
    }
    return h("tr", { "data-export-id": e.id, "data-status": e.status },
      h("td", {}, h("time", { datetime: e.created_at, text: requested })),
      h("td", { text: statusText(e.status) }),
      h("td", {},
        h("progress", { max: "100", value: String(percent), "aria-label": t("Progress") }),
        h("span", {
          class: "meta",
          text: " " + t("%(done)s of %(total)s contacts", { done: number.format(done), total: number.format(total) }),
        })),
      h("td", {}, file));
  }

  async function refresh() {
    let page;
    try {
      page = await api("GET", "/api/v1/exports?limit=50");
    } catch (failure) {
      showError(t("The exports could not be loaded: %(reason)s", { reason: failure.message }));
      return;
    }
    $("export-list").replaceChildren(...page.items.map(row));
    $("export-empty").hidden = page.items.length > 0;
    const busy = page.items.some((e) => e.status === "queued" || e.status === "running");
    clearTimeout(timer);
    if (busy) timer = setTimeout(refresh, 1000);
  }

  function checked(name) {
    return [...document.querySelectorAll(`#export-form input[name="${name}"]:checked`)].map((i) => i.value);
  }

  // A day typed in a date field is that day's midnight in the reader's time zone, as UTC.
  function midnight(day) {
    const zone = document.documentElement.dataset.timeZone || "UTC";
    const [year, month, date] = day.split("-").map(Number);
    const parts = new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric",
      hour: "numeric", minute: "numeric", second: "numeric",
    });
    const offset = (at) => {
      const p = Object.fromEntries(parts.formatToParts(new Date(at)).map((x) => [x.type, Number(x.value)]));
      return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - at;
    };
    const wall = Date.UTC(year, month - 1, date);
    let at = wall - offset(wall);
    at = wall - offset(at);
    return new Date(at).toISOString();
  }

  // --- messages: a success in the status line, errors beside their field -------------------

  function clearErrors() {
    $("export-error").hidden = true;
    $("export-error").textContent = "";
    for (const slot of document.querySelectorAll("#export-form [data-error-for]")) {
      slot.textContent = "";
      slot.hidden = true;
    }
    for (const input of document.querySelectorAll("#export-form [aria-invalid]")) {
      input.removeAttribute("aria-invalid");
    }
  }

  function showError(text) {
    say("");
    $("export-error").textContent = text;
    $("export-error").hidden = false;
  }

  // "attributes.3" and "filters.channel_ids.0" are said beside their list; the others beside
  // their field.
  function slotFor(field) {
    const name = String(field || "").replace(/\.\d+$/, "");
    return document.querySelector(`#export-form [data-error-for="${CSS.escape(name)}"]`);
  }

  function showProblem(failure) {
    const problem = failure.problem || {};
    const errors = [...(problem.errors || [])];
    if (problem.code === "vip_disabled") errors.push({ field: "filters.vip", message: problem.detail });
    let first = null;
    const elsewhere = [];
    for (const error of errors) {
      const slot = slotFor(error.field);
      if (!slot) {
        elsewhere.push(error.message);
        continue;
      }
      slot.textContent = slot.textContent ? `${slot.textContent} ${error.message}` : error.message;
      slot.hidden = false;
      const control = document.querySelector(`#export-form [aria-describedby~="${slot.id}"]`);
      if (control && control.tagName !== "FIELDSET") control.setAttribute("aria-invalid", "true");
      const focusable = control && control.tagName === "FIELDSET" ? control.querySelector("input") : control;
      if (!first && focusable) first = focusable;
    }
    if (errors.length && !elsewhere.length) {
      showError(t("Not generated: see the message beside the option to change."));
    } else {
      showError(t("Not generated: %(reason)s", { reason: elsewhere.join(" ") || problem.detail || failure.message }));
    }
    if (first) first.focus();
  }

  async function generate(event) {
    event.preventDefault();
    clearErrors();
    const filters = {};
    const channels = checked("channel_ids");
    if (channels.length) filters.channel_ids = channels;
    if ($("export-vip").checked) filters.vip = true;
    if ($("export-group").value) filters.group = $("export-group").value;
    if ($("export-from").value) filters.updated_from = midnight($("export-from").value);
    if ($("export-to").value) filters.updated_to = midnight($("export-to").value);
    const body = { type: $("export-type").value, filters, label_row: $("export-label-row").checked };
    const attributes = checked("attributes");
    if (attributes.length) body.attributes = attributes;
    try {
      await api("POST", "/api/v1/exports", body);
    } catch (failure) {
      showProblem(failure);
      return;
    }
    say(t("Export queued; it appears below with its progress."));
    refresh();
  }

  function start() {
    $("export-form").addEventListener("submit", generate);
    refresh();
  }

  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
