// Admin settings > Contact groups, routing and prioritization, through the REST API:
// /api/v1/contact-groups, /api/v1/settings/routing (the same service calls as the API).
"use strict";
(() => {
  const OPERATORS = [
    ["is", "is"], ["contains", "contains"], ["any_of", "is any of (comma-separated)"],
    ["not_empty", "is not empty"], ["gt", ">"], ["gte", "≥"], ["lt", "<"], ["lte", "≤"],
  ];
  const RULE_ROWS = 3;
  const h = (...args) => window.rolodex.h(...args);
  const api = (...args) => window.rolodex.api(...args);
  const $ = (id) => document.getElementById(id);
  let state = { groups: [], teams: [], channels: [], attributes: [], routing: {} };

  function status(text) { $("routing-status").textContent = text; }

  function showError(slot, error) {
    const problem = error && error.problem;
    const details = problem && problem.errors && problem.errors.length
      ? problem.errors.map((e) => `${e.field}: ${e.message}`).join("; ")
      : (problem && problem.detail) || (error && error.message) || "";
    slot.textContent = details;
    slot.hidden = !details;
    if (details) slot.setAttribute("role", "alert");
  }

  function teamSelect(select, selected) {
    select.replaceChildren(
      h("option", { value: "", text: "No team" }),
      ...state.teams.map((t) => h("option", { value: t.id, text: t.name, selected: t.id === selected })),
    );
    return select;
  }

  function ruleText(rule) {
    const label = (OPERATORS.find(([op]) => op === rule.operator) || [rule.operator, rule.operator])[1];
    const value = Array.isArray(rule.value) ? rule.value.join(", ") : rule.value;
    return `${rule.attribute} ${label}${value === null || value === undefined ? "" : ` ${value}`}`;
  }

  function renderGroups() {
    const list = $("group-list");
    list.replaceChildren(...state.groups.map((g) => h("li", { "data-key": g.key },
      h("strong", { text: g.name }),
      g.builtin ? h("span", { class: "badge vip", text: "Built in" }) : null,
      h("p", {
        class: "meta",
        text: g.builtin
          ? (g.enabled ? "Contacts marked VIP." : "VIP is turned off.")
          : `${g.match === "any" ? "Any" : "Every"} rule: ${g.rules.map(ruleText).join("; ")}`,
      }),
      g.builtin ? null : h("button", {
        type: "button", class: "secondary small", onclick: () => removeGroup(g),
      }, "Delete", h("span", { class: "visually-hidden", text: ` group ${g.name}` })),
    )));
    list.setAttribute("aria-busy", "false");
  }

  function renderRuleRows() {
    const fieldset = $("group-rules");
    const rows = [];
    for (let n = 0; n < RULE_ROWS; n += 1) {
      rows.push(h("div", { class: "rule-row" },
        h("label", { for: `rule-${n}-attribute`, class: "visually-hidden", text: `Rule ${n + 1} attribute` }),
        h("select", { id: `rule-${n}-attribute`, name: "attribute" },
          h("option", { value: "", text: n === 0 ? "Choose an attribute" : "(no rule)" }),
          state.attributes.filter((a) => a.enabled && a.key !== "vip")
            .map((a) => h("option", { value: a.key, text: a.label }))),
        h("label", { for: `rule-${n}-operator`, class: "visually-hidden", text: `Rule ${n + 1} operator` }),
        h("select", { id: `rule-${n}-operator`, name: "operator" },
          OPERATORS.map(([value, text]) => h("option", { value, text }))),
        h("label", { for: `rule-${n}-value`, class: "visually-hidden", text: `Rule ${n + 1} value` }),
        h("input", { id: `rule-${n}-value`, name: "value", autocomplete: "off", maxlength: "200" })));
    }
    fieldset.replaceChildren(h("legend", { text: "Rules" }), ...rows);
  }

  function rulesFromForm() {
    const rules = [];
    for (let n = 0; n < RULE_ROWS; n += 1) {
      const attribute = $(`rule-${n}-attribute`).value;
      if (!attribute) continue;
      const operator = $(`rule-${n}-operator`).value;
      const raw = $(`rule-${n}-value`).value.trim();
      let value = raw;
      if (operator === "not_empty") value = null;
      else if (operator === "any_of") value = raw.split(",").map((v) => v.trim()).filter(Boolean);
      rules.push({ attribute, operator, value });
    }
    return rules;
  }

  async function addGroup(event) {
    event.preventDefault();
    const form = event.currentTarget;
    form.querySelectorAll(".field-error").forEach((slot) => { slot.hidden = true; });
    const body = { name: $("group-name").value.trim(), match: $("group-match").value, rules: rulesFromForm() };
    try {
      await api("POST", "/api/v1/contact-groups", body);
    } catch (error) {
      const errors = (error.problem && error.problem.errors) || [];
      const nameErrors = errors.filter((e) => e.field === "name");
      showError($("group-name-error"), nameErrors.length ? { problem: { errors: nameErrors } } : null);
      showError($("group-rules-error"), nameErrors.length === errors.length && errors.length ? null : error);
      return;
    }
    form.reset();
    status(`Group ${body.name} added.`);
    await load();
  }

  async function removeGroup(group) {
    if (!window.confirm(`Delete the group ${group.name}? Routing and prioritization that use it must be changed first.`)) return;
    try {
      await api("DELETE", `/api/v1/contact-groups/${encodeURIComponent(group.key)}`);
      status(`Group ${group.name} deleted.`);
      await load();
    } catch (error) {
      showError($("routing-error"), error);
    }
  }

  function renderRouting() {
    const routing = state.routing;
    teamSelect($("vip-team"), routing.vip_team_id);
    const vipOn = state.groups.some((g) => g.key === "vip" && g.enabled);
    document.querySelector('label[for="vip-team"]').hidden = !vipOn;
    $("vip-team").hidden = !vipOn;
    teamSelect($("fallback-team"), routing.fallback_team_id);
    const routes = Object.fromEntries((routing.group_routes || []).map((r) => [r.group, r.team_id]));
    $("group-routes").replaceChildren(...state.groups.filter((g) => !g.builtin).map((g) => h("div", { class: "route-row" },
      h("label", { for: `route-${g.key}`, text: `${g.name} goes to` }),
      teamSelect(h("select", { id: `route-${g.key}`, "data-group": g.key }), routes[g.key]))));
  }

  function weightRow(id, label, weight) {
    return h("div", { class: "weight-row" },
      h("input", { type: "checkbox", id: `${id}-on`, checked: weight !== undefined }),
      h("label", { for: `${id}-on`, text: label }),
      h("label", { for: `${id}-weight`, class: "visually-hidden", text: `${label} points` }),
      h("input", { type: "number", id: `${id}-weight`, min: "0", max: "1000", value: String(weight === undefined ? 1 : weight), class: "small" }));
  }

  function renderPriority() {
    const groups = Object.fromEntries((state.routing.prioritized_groups || []).map((g) => [g.group, g.weight]));
    const channels = Object.fromEntries((state.routing.prioritized_channel_ids || []).map((c) => [c.channel_id, c.weight]));
    $("priority-groups").replaceChildren(h("legend", { text: "Contact groups" }),
      ...state.groups.filter((g) => g.enabled).map((g) => weightRow(`pg-${g.key}`, g.name, groups[g.key])));
    $("priority-channels").replaceChildren(h("legend", { text: "Channels" }),
      ...state.channels.map((c) => weightRow(`pc-${c.id}`, c.name, channels[c.id])));
  }

  async function saveRouting(event) {
    event.preventDefault();
    const body = {
      fallback_team_id: $("fallback-team").value || null,
      group_routes: [...document.querySelectorAll("#group-routes select")]
        .filter((s) => s.value).map((s) => ({ group: s.dataset.group, team_id: s.value })),
    };
    if (!$("vip-team").hidden) body.vip_team_id = $("vip-team").value || null;
    await save(body, $("routing-form-error"), "Routing saved.");
  }

  async function savePriority(event) {
    event.preventDefault();
    const picked = (prefix, items, key) => items
      .filter((item) => $(`${prefix}-${item[key]}-on`) && $(`${prefix}-${item[key]}-on`).checked)
      .map((item) => Number($(`${prefix}-${item[key]}-weight`).value || 1));
    const groups = state.groups.filter((g) => g.enabled && $(`pg-${g.key}-on`).checked);
    const channels = state.channels.filter((c) => $(`pc-${c.id}-on`).checked);
    const gw = picked("pg", groups, "key");
    const cw = picked("pc", channels, "id");
    await save({
      prioritized_groups: groups.map((g, n) => ({ group: g.key, weight: gw[n] })),
      prioritized_channel_ids: channels.map((c, n) => ({ channel_id: c.id, weight: cw[n] })),
    }, $("priority-form-error"), "Prioritization saved.");
  }

  async function save(body, slot, done) {
    showError(slot, null);
    try {
      state.routing = await api("PATCH", "/api/v1/settings/routing", body);
      status(done);
    } catch (error) {
      showError(slot, error);
    }
  }

  async function load() {
    try {
      const [groups, teams, channels, attributes, routing] = await Promise.all([
        api("GET", "/api/v1/contact-groups"),
        api("GET", "/api/v1/teams?limit=100"),
        api("GET", "/api/v1/channels?limit=100"),
        api("GET", "/api/v1/attributes"),
        api("GET", "/api/v1/settings/routing"),
      ]);
      state = { groups, teams: teams.items, channels: channels.items, attributes, routing };
    } catch (error) {
      showError($("routing-error"), error);
      return;
    }
    renderGroups();
    renderRuleRows();
    renderRouting();
    renderPriority();
  }

  function start() {
    $("group-form").addEventListener("submit", addGroup);
    $("routing-form").addEventListener("submit", saveRouting);
    $("priority-form").addEventListener("submit", savePriority);
    load();
  }

  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
