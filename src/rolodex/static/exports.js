// Exports > On-demand exports: Generate export, then watch the list until it is done.
// Uses POST/GET /api/v1/exports (the same service calls as the API).
"use strict";
(() => {
  const h = (...args) => window.rolodex.h(...args);
  const api = (...args) => window.rolodex.api(...args);
  const $ = (id) => document.getElementById(id);
  let timer = null;

  function when(iso) {
    return iso ? new Date(iso).toLocaleString() : "";
  }

  function row(e) {
    const { done, total } = e.progress;
    const percent = total ? Math.round((100 * done) / total) : (e.status === "done" ? 100 : 0);
    const file = e.download_url
      ? h("a", { href: e.download_url, download: "" }, "Download", h("span", { class: "visually-hidden", text: ` export of ${when(e.created_at)}` }))
      : h("span", { class: "meta", text: e.expired ? "Expired" : (e.error || "") });
    return h("tr", { "data-export-id": e.id, "data-status": e.status },
      h("td", { text: when(e.created_at) }),
      h("td", { text: e.status === "done" ? "Done" : e.status === "failed" ? "Failed" : e.status === "running" ? "Running" : "Queued" }),
      h("td", {},
        h("progress", { max: "100", value: String(percent), "aria-label": `Progress ${percent}%` }),
        h("span", { class: "meta", text: ` ${done.toLocaleString()} of ${total.toLocaleString()} contacts` })),
      h("td", {}, file));
  }

  async function refresh() {
    let page;
    try {
      page = await api("GET", "/api/v1/exports?limit=50");
    } catch (error) {
      $("export-status").textContent = `Exports could not be loaded: ${error.message}`;
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

  async function generate(event) {
    event.preventDefault();
    const error = $("export-error");
    error.hidden = true;
    const filters = {};
    const channels = checked("channel_ids");
    if (channels.length) filters.channel_ids = channels;
    if ($("export-vip").checked) filters.vip = true;
    if ($("export-group").value) filters.group = $("export-group").value;
    if ($("export-from").value) filters.updated_from = `${$("export-from").value}T00:00:00Z`;
    if ($("export-to").value) filters.updated_to = `${$("export-to").value}T00:00:00Z`;
    const body = { type: $("export-type").value, filters };
    const attributes = checked("attributes");
    if (attributes.length) body.attributes = attributes;
    try {
      await api("POST", "/api/v1/exports", body);
    } catch (failure) {
      const problem = failure.problem || {};
      error.textContent = (problem.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ") || failure.message;
      error.hidden = false;
      return;
    }
    $("export-status").textContent = "Export queued; it appears below with its progress.";
    refresh();
  }

  function start() {
    $("export-form").addEventListener("submit", generate);
    refresh();
  }

  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
