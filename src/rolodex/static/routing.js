// Admin settings > Contact groups, routing and prioritization, through the REST API:
// /api/v1/contact-groups, /api/v1/settings/routing (the same service calls as the API).
// Every text goes through rolodex.t (the catalog served with the page); rules are shown with
// the attributes' labels; each problem is written beside the field it is about.
"use strict";
(() => {
  const MAX_RULES = 20;
  const h = (...args) => window.rolodex.h(...args);
  const api = (...args) => window.rolodex.api(...args);
  const t = (message, values) => window.rolodex.t(message, values);
  const $ = (id) => document.getElementById(id);
  let state = { groups: [], teams: [], channels: [], attributes: [], routing: {} };
  let editing = null; // the group being edited, or null while the form adds one
  let ruleCount = 0;

  // --- messages: successes in status lines, problems beside their field ------------------

  function clearStatuses() {
    document.querySelectorAll(".routing-admin .status-line").forEach((line) => { line.textContent = ""; });
  }

  function say(line, text) {
    clearStatuses();
    line.textContent = text;
  }

  function clearErrors(form) {
    form.querySelectorAll(".field-error").forEach((slot) => { slot.textContent = ""; slot.hidden = true; });
    form.querySelectorAll("[aria-invalid]").forEach((control) => control.removeAttribute("aria-invalid"));
  }

  function showError(slot, message, control) {
    if (!slot) return;
    slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
    slot.hidden = false;
    if (control) control.setAttribute("aria-invalid", "true");
  }

  // Show a failed call's problems: each `errors` entry beside its field (place(field) names
  // the slot and the control), the rest in `general`. An old success line is cleared.
  function showProblem(error, place, general) {
    clearStatuses();
    const problem = (error && error.problem) || {};
    const errors = problem.errors || [];
    let first = null;
    for (const entry of errors) {
      const [slot, control] = place(entry.field) || [general, null];
      showError(slot, entry.message, control);
      if (!first && control) first = control;
    }
    if (!errors.length) {
      showError(general, problem.detail || (error && error.message) || t("Something went wrong. Try again."));
    }
    if (first) first.focus();
  }

  function teamSelect(select, selected) {
    select.replaceChildren(
      h("option", { value: "", text: t("No team") }),
      ...state.teams.map((team) => h("option", { value: team.id, text: team.name, selected: team.id === selected })),
    );
    return select;
  }

  // --- rules, as people read them -------------------------------------------------------

  const attribute = (key) => state.attributes.find((a) => a.key === key);
  const isOrdered = (a) => Boolean(a && a.type === "text" && (a.format === "number" || a.format === "date"));

  function operatorsFor(a) {
    if (!a) return ["is", "contains", "any_of", "not_empty"];
    if (a.type === "dropdown") return ["is", "any_of", "not_empty"];
    if (a.type === "boolean") return ["is", "not_empty"];
    if (isOrdered(a)) return ["is", "gt", "gte", "lt", "lte", "not_empty"];
    return ["is", "contains", "any_of", "not_empty"];
  }

  function operatorLabel(operator, a) {
    const date = Boolean(a && a.format === "date");
    switch (operator) {
      case "is": return t("is");
      case "contains": return t("contains");
      case "any_of": return t("is any of");
      case "not_empty": return t("has a value");
      case "gt": return date ? t("is after") : t("is more than");
      case "gte": return date ? t("is on or after") : t("is at least");
      case "lt": return date ? t("is before") : t("is less than");
      case "lte": return date ? t("is on or before") : t("is at most");
      default: return operator;
    }
  }

  function shownValue(value, a) {
    if (Array.isArray(value)) return value.map((v) => shownValue(v, a)).join(", ");
    if (a && a.type === "boolean") return String(value) === "true" ? t("Yes") : t("No");
    if (a && a.format === "date" && /^\d{4}-\d{2}-\d{2}$/.test(String(value))) {
      const lang = document.documentElement.lang || "en";
      return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: "UTC" })
        .format(new Date(`${value}T00:00:00Z`));
    }
    return String(value);
  }

  function ruleText(rule) {
    const a = attribute(rule.attribute);
    const values = { attribute: a ? a.label : rule.attribute, value: shownValue(rule.value, a) };
    const date = Boolean(a && a.format === "date");
    switch (rule.operator) {
      case "is": return t("%(attribute)s is %(value)s", values);
      case "contains": return t("%(attribute)s contains %(value)s", values);
      case "any_of": return t("%(attribute)s is any of %(value)s", values);
      case "not_empty": return t("%(attribute)s has a value", values);
      case "gt": return date ? t("%(attribute)s is after %(value)s", values) : t("%(attribute)s is more than %(value)s", values);
      case "gte": return date ? t("%(attribute)s is on or after %(value)s", values) : t("%(attribute)s is at least %(value)s", values);
      case "lt": return date ? t("%(attribute)s is before %(value)s", values) : t("%(attribute)s is less than %(value)s", values);
      case "lte": return date ? t("%(attribute)s is on or before %(value)s", values) : t("%(attribute)s is at most %(value)s", values);
      default: return `${values.attribute} ${rule.operator} ${values.value}`;
    }
  }

  function groupText(group) {
    if (group.builtin) return group.enabled ? t("Contacts marked VIP.") : t("VIP is turned off.");
    const rules = group.rules.map(ruleText).join("; ");
    return group.match === "any" ? t("Any rule: %(rules)s", { rules }) : t("Every rule: %(rules)s", { rules });
  }

  // --- the list of groups ---------------------------------------------------------------

  function renderGroups(saved) {
    closeEditor();
    const list = $("group-list");
    list.replaceChildren(...state.groups.map((g) => h("li", { "data-key": g.key, class: g.enabled ? "" : "is-off" },
      h("div", { class: "group-head" },
        h("strong", { text: g.name }),
        g.builtin ? h("span", { class: "badge vip", text: t("Built in") }) : null,
        g.enabled ? null : h("span", { class: "badge", text: t("Off") })),
      h("p", { class: "meta", text: groupText(g) }),
      g.builtin ? null : h("div", { class: "group-actions" },
        h("button", {
          type: "button", class: "secondary small", "aria-label": t("Edit group %(name)s", { name: g.name }),
          onclick: () => openEditor(g),
        }, t("Edit")),
        h("button", {
          type: "button", class: "secondary small", "aria-label": t("Delete group %(name)s", { name: g.name }),
          onclick: () => removeGroup(g),
        }, t("Delete"))),
      h("p", { class: "field-error", id: `group-${g.key}-error`, hidden: true }),
      h("p", { class: "status-line", role: "status", id: `group-${g.key}-status` }))));
    list.setAttribute("aria-busy", "false");
    if (saved) {
      say($(`group-${saved.key}-status`), t("Group %(name)s saved.", { name: saved.name }));
      const edit = list.querySelector(`li[data-key="${CSS.escape(saved.key)}"] button`);
      if (edit) edit.focus();
    }
  }

  // --- the group form: adds a group, or edits one in place --------------------------------

  function valueControl(n, a, operator, value) {
    const id = `rule-${n}-value`;
    const describedby = `rule-${n}-error`;
    if (operator === "not_empty") return null;
    const options = a && a.type === "boolean"
      ? [["true", t("Yes")], ["false", t("No")]]
      : (a && a.type === "dropdown" ? (a.options || []).map((o) => [o, o]) : null);
    if (options) {
      const chosen = new Set((Array.isArray(value) ? value : [value]).filter((v) => v !== null && v !== undefined && v !== "").map(String));
      // Keep a stored value that is no longer an option, so that saving does not lose it.
      chosen.forEach((v) => { if (!options.some(([o]) => o === v)) options.push([v, v]); });
      const multiple = operator === "any_of";
      return h("select", { id, name: "value", multiple, size: multiple ? String(Math.min(Math.max(options.length, 2), 6)) : null, "aria-describedby": describedby },
        multiple ? null : h("option", { value: "", text: t("Choose a value") }),
        options.map(([v, text]) => h("option", { value: v, text, selected: chosen.has(v) })));
    }
    const props = { id, name: "value", autocomplete: "off", maxlength: "500", "aria-describedby": describedby };
    if (operator === "any_of") {
      props.placeholder = t("Values, separated by commas");
      props.value = Array.isArray(value) ? value.join(", ") : (value || "");
    } else {
      props.value = value === null || value === undefined ? "" : String(value);
      if (a && a.format === "number") { props.type = "number"; props.step = "any"; }
      if (a && a.format === "date") props.type = "date";
    }
    return h("input", props);
  }

  function ruleRow(n, rule) {
    const a = attribute(rule.attribute);
    const attributes = state.attributes.filter((x) => (x.enabled && x.key !== "vip") || x.key === rule.attribute);
    const operators = operatorsFor(a);
    if (rule.operator && !operators.includes(rule.operator)) operators.push(rule.operator);
    const operator = rule.operator && operators.includes(rule.operator) ? rule.operator : operators[0];
    const value = valueControl(n, a, operator, rule.value);
    const number = n + 1;
    const row = h("div", { class: "rule-row", "data-row": String(n), "data-attribute": rule.attribute || "" },
      h("div", { class: "rule-controls" },
        h("label", { for: `rule-${n}-attribute`, class: "visually-hidden", text: t("Rule %(n)s attribute", { n: number }) }),
        h("select", { id: `rule-${n}-attribute`, name: "attribute", "aria-describedby": `rule-${n}-error`, onchange: () => refreshRow(n) },
          h("option", { value: "", text: t("Choose an attribute") }),
          attributes.map((x) => h("option", {
            value: x.key, text: x.enabled ? x.label : t("%(label)s (off)", { label: x.label }), selected: x.key === rule.attribute,
          }))),
        h("label", { for: `rule-${n}-operator`, class: "visually-hidden", text: t("Rule %(n)s operator", { n: number }) }),
        h("select", { id: `rule-${n}-operator`, name: "operator", "aria-describedby": `rule-${n}-error`, onchange: () => refreshRow(n) },
          operators.map((op) => h("option", { value: op, text: operatorLabel(op, a), selected: op === operator }))),
        value ? h("label", {
          for: `rule-${n}-value`, class: "visually-hidden",
          text: operator === "any_of" ? t("Rule %(n)s values", { n: number }) : t("Rule %(n)s value", { n: number }),
        }) : null,
        value,
        h("button", {
          type: "button", class: "secondary small remove-rule", "aria-label": t("Remove rule %(n)s", { n: number }),
          onclick: () => removeRule(n),
        }, t("Remove"))),
      h("p", { class: "field-error", id: `rule-${n}-error`, hidden: true }));
    return row;
  }

  function readRule(n) {
    const attributeKey = $(`rule-${n}-attribute`).value;
    const operator = $(`rule-${n}-operator`).value;
    const control = $(`rule-${n}-value`);
    let value = null;
    if (control && control.multiple) value = [...control.selectedOptions].map((o) => o.value);
    else if (control && operator === "any_of") value = control.value.split(",").map((v) => v.trim()).filter(Boolean);
    else if (control) value = control.value.trim();
    return { attribute: attributeKey, operator, value };
  }

  function refreshRow(n) {
    const rule = readRule(n);
    const old = document.querySelector(`.rule-row[data-row="${n}"]`);
    // Another attribute: its values (a dropdown's options, a number) start afresh.
    if (old.dataset.attribute !== rule.attribute) rule.value = "";
    const a = attribute(rule.attribute);
    if (!operatorsFor(a).includes(rule.operator)) rule.operator = operatorsFor(a)[0];
    if (Array.isArray(rule.value) && rule.operator !== "any_of") rule.value = rule.value[0] || "";
    const row = ruleRow(n, rule);
    const focused = document.activeElement && document.activeElement.id;
    old.replaceWith(row);
    if (focused && $(focused)) $(focused).focus();
    updateRuleButtons();
  }

  function renderRules(rules) {
    const list = rules.length ? rules : [{ attribute: "", operator: "is", value: "" }];
    ruleCount = list.length;
    $("rule-rows").replaceChildren(...list.map((rule, n) => ruleRow(n, rule)));
    updateRuleButtons();
  }

  function currentRules() {
    const rules = [];
    for (let n = 0; n < ruleCount; n += 1) rules.push(readRule(n));
    return rules;
  }

  function addRule() {
    if (ruleCount >= MAX_RULES) return;
    const rules = currentRules();
    rules.push({ attribute: "", operator: "is", value: "" });
    renderRules(rules);
    $(`rule-${rules.length - 1}-attribute`).focus();
  }

  function removeRule(n) {
    const rules = currentRules();
    rules.splice(n, 1);
    renderRules(rules);
    $(`rule-${Math.min(n, rules.length - 1, ruleCount - 1)}-attribute`).focus();
  }

  function updateRuleButtons() {
    $("add-rule").hidden = ruleCount >= MAX_RULES;
    document.querySelectorAll(".remove-rule").forEach((button) => { button.hidden = ruleCount < 2; });
  }

  function resetForm() {
    const form = $("group-form");
    clearErrors(form);
    $("group-name").value = "";
    $("group-match").value = "all";
    $("group-enabled").checked = true;
    renderRules([]);
  }

  function openEditor(group) {
    closeEditor();
    editing = group;
    const item = document.querySelector(`#group-list li[data-key="${CSS.escape(group.key)}"]`);
    item.append($("group-editor"));
    item.classList.add("is-editing");
    clearErrors($("group-form"));
    $("group-form-heading").textContent = t("Edit group %(name)s", { name: group.name });
    $("group-submit").textContent = t("Save group");
    $("group-cancel").hidden = false;
    $("group-enabled-field").hidden = false;
    $("group-name").value = group.name;
    $("group-match").value = group.match;
    $("group-enabled").checked = group.enabled;
    renderRules(group.rules);
    $("group-name").focus();
  }

  function closeEditor(focus) {
    const was = editing;
    editing = null;
    document.querySelectorAll("#group-list li.is-editing").forEach((li) => li.classList.remove("is-editing"));
    const card = $("group-list").parentElement;
    if ($("group-editor").parentElement !== card) card.append($("group-editor"));
    $("group-form-heading").textContent = t("Add group");
    $("group-submit").textContent = t("Add group");
    $("group-cancel").hidden = true;
    $("group-enabled-field").hidden = true;
    resetForm();
    if (focus && was) {
      const edit = document.querySelector(`#group-list li[data-key="${CSS.escape(was.key)}"] button`);
      if (edit) edit.focus();
    }
  }

  // Where a problem about a field of the group goes; `rows` maps the sent rules to their rows.
  function placeGroupError(field, rows) {
    if (field === "name" || field === "key") return [$("group-name-error"), $("group-name")];
    if (field === "match") return [$("group-match-error"), $("group-match")];
    if (field === "enabled") return [$("group-form-error"), $("group-enabled")];
    if (field === "rules") return [$("group-rules-error"), null];
    const rule = /^rules\.(\d+)(?:\.(attribute|operator|value))?/.exec(field);
    const n = rule ? rows[Number(rule[1])] : undefined;
    if (n !== undefined && $(`rule-${n}-error`)) {
      const control = $(`rule-${n}-${rule[2] || "attribute"}`) || $(`rule-${n}-attribute`);
      return [$(`rule-${n}-error`), control];
    }
    return null;
  }

  // What the page can say before asking the server: a name, and at least one whole rule.
  function checkForm(body) {
    const errors = [];
    if (!body.name) errors.push({ field: "name", message: t("Enter a name for the group.") });
    body.rules.forEach((rule, n) => {
      if (!rule.attribute) errors.push({ field: `rules.${n}.attribute`, message: t("Choose an attribute.") });
      else if (rule.operator !== "not_empty" && (rule.value === "" || (Array.isArray(rule.value) && !rule.value.length))) {
        errors.push({ field: `rules.${n}.value`, message: rule.operator === "any_of" ? t("Give one or more values.") : t("Enter a value.") });
      }
    });
    return errors;
  }

  async function submitGroup(event) {
    event.preventDefault();
    const form = $("group-form");
    clearErrors(form);
    // An untouched empty row is no rule (the first row always counts: a group needs one).
    const rows = [];
    const rules = [];
    currentRules().forEach((rule, n) => {
      const empty = !rule.attribute && !(Array.isArray(rule.value) ? rule.value.length : rule.value);
      if (empty && n > 0) return;
      rows.push(n);
      rules.push(rule.operator === "not_empty" ? { attribute: rule.attribute, operator: rule.operator } : rule);
    });
    const body = { name: $("group-name").value.trim(), match: $("group-match").value, rules };
    if (editing) body.enabled = $("group-enabled").checked;
    const place = (field) => placeGroupError(field, rows);
    const problems = checkForm(body);
    if (problems.length) {
      showProblem({ problem: { errors: problems } }, place, $("group-form-error"));
      return;
    }
    let saved;
    try {
      saved = editing
        ? await api("PATCH", `/api/v1/contact-groups/${encodeURIComponent(editing.key)}`, body)
        : await api("POST", "/api/v1/contact-groups", body);
    } catch (error) {
      showProblem(error, place, $("group-form-error"));
      return;
    }
    const wasEditing = Boolean(editing);
    await load(wasEditing ? saved : null);
    if (!wasEditing) {
      say($("group-status"), t("Group %(name)s added.", { name: saved.name }));
      $("group-name").focus();
    }
  }

  async function removeGroup(group) {
    const slot = $(`group-${group.key}-error`);
    clearErrors($("group-list"));
    if (!window.confirm(t("Delete the group %(name)s? Routing and prioritization that use it must be changed first.", { name: group.name }))) return;
    try {
      await api("DELETE", `/api/v1/contact-groups/${encodeURIComponent(group.key)}`);
    } catch (error) {
      showProblem(error, () => null, slot);
      return;
    }
    await load();
    say($("groups-status"), t("Group %(name)s deleted.", { name: group.name }));
    // The button pressed is gone: go on from the list's first group, else the form.
    const next = document.querySelector("#group-list li:not([data-key='vip']) button") || $("group-name");
    next.focus();
  }

  // --- routing and prioritization --------------------------------------------------------

  function renderRouting() {
    const routing = state.routing;
    teamSelect($("vip-team"), routing.vip_team_id);
    $("vip-team-field").hidden = !state.groups.some((g) => g.key === "vip" && g.enabled);
    teamSelect($("fallback-team"), routing.fallback_team_id);
    const routes = Object.fromEntries((routing.group_routes || []).map((r) => [r.group, r.team_id]));
    $("group-routes").replaceChildren(...state.groups.filter((g) => !g.builtin).map((g) => h("div", { class: "route-row" },
      h("label", { for: `route-${g.key}`, text: t("%(name)s goes to", { name: g.name }) }),
      teamSelect(h("select", {
        id: `route-${g.key}`, "data-group": g.key,
        "aria-describedby": `route-${g.key}-error${g.enabled ? "" : ` route-${g.key}-off`}`,
      }), routes[g.key]),
      g.enabled ? null : h("p", { class: "meta", id: `route-${g.key}-off`, text: t("This group is off: it has no members.") }),
      h("p", { class: "field-error", id: `route-${g.key}-error`, hidden: true }))));
  }

  function weightRow(id, label, weight, note) {
    return h("div", { class: "weight-row" },
      h("div", { class: "weight-check" },
        h("input", { type: "checkbox", id: `${id}-on`, checked: weight !== undefined, "aria-describedby": note ? `${id}-note` : null }),
        h("label", { for: `${id}-on`, text: label })),
      h("label", { for: `${id}-weight`, class: "visually-hidden", text: t("%(name)s points", { name: label }) }),
      h("input", {
        type: "number", id: `${id}-weight`, min: "0", max: "1000", step: "1", class: "points",
        value: String(weight === undefined ? 1 : weight), "aria-describedby": `${id}-error`,
      }),
      note ? h("p", { class: "meta", id: `${id}-note`, text: note }) : null,
      h("p", { class: "field-error", id: `${id}-error`, hidden: true }));
  }

  // VIP while it is on; every group of the workspace's own (one that is off is marked so).
  const prioritizable = () => state.groups.filter((g) => !g.builtin || g.enabled);

  function renderPriority() {
    const groups = Object.fromEntries((state.routing.prioritized_groups || []).map((g) => [g.group, g.weight]));
    const channels = Object.fromEntries((state.routing.prioritized_channel_ids || []).map((c) => [c.channel_id, c.weight]));
    $("priority-groups").replaceChildren(h("legend", { text: t("Contact groups") }),
      ...prioritizable().map((g) => weightRow(`pg-${g.key}`, g.name, groups[g.key], g.enabled ? null : t("This group is off: it has no members."))));
    $("priority-channels").replaceChildren(h("legend", { text: t("Channels") }),
      ...state.channels.map((c) => weightRow(`pc-${c.id}`, c.name, channels[c.id])));
  }

  async function saveRouting(event) {
    event.preventDefault();
    const form = $("routing-form");
    clearErrors(form);
    const routes = [...document.querySelectorAll("#group-routes select")].filter((s) => s.value);
    const body = {
      fallback_team_id: $("fallback-team").value || null,
      group_routes: routes.map((s) => ({ group: s.dataset.group, team_id: s.value })),
    };
    if (!$("vip-team-field").hidden) body.vip_team_id = $("vip-team").value || null;
    const place = (field) => {
      if (field === "vip_team_id") return [$("vip-team-error"), $("vip-team")];
      if (field === "fallback_team_id") return [$("fallback-team-error"), $("fallback-team")];
      const route = /^group_routes\.(\d+)/.exec(field);
      const select = route && routes[Number(route[1])];
      return select ? [$(`route-${select.dataset.group}-error`), select] : null;
    };
    await save(body, form, place, $("routing-form-error"), $("routing-status"), t("Routing saved."));
  }

  async function savePriority(event) {
    event.preventDefault();
    const form = $("priority-form");
    clearErrors(form);
    const groups = prioritizable().filter((g) => $(`pg-${g.key}-on`).checked);
    const channels = state.channels.filter((c) => $(`pc-${c.id}-on`).checked);
    const weight = (id) => Number($(`${id}-weight`).value || 1);
    const body = {
      prioritized_groups: groups.map((g) => ({ group: g.key, weight: weight(`pg-${g.key}`) })),
      prioritized_channel_ids: channels.map((c) => ({ channel_id: c.id, weight: weight(`pc-${c.id}`) })),
    };
    const place = (field) => {
      const match = /^(prioritized_groups|prioritized_channel_ids)\.(\d+)(?:\.(\w+))?/.exec(field);
      if (!match) return null;
      const id = match[1] === "prioritized_groups"
        ? groups[Number(match[2])] && `pg-${groups[Number(match[2])].key}`
        : channels[Number(match[2])] && `pc-${channels[Number(match[2])].id}`;
      if (!id) return null;
      return [$(`${id}-error`), match[3] === "weight" ? $(`${id}-weight`) : $(`${id}-on`)];
    };
    await save(body, form, place, $("priority-form-error"), $("priority-status"), t("Prioritization saved."));
  }

  async function save(body, form, place, general, line, done) {
    try {
      state.routing = await api("PATCH", "/api/v1/settings/routing", body);
    } catch (error) {
      showProblem(error, place, general);
      return;
    }
    clearErrors(form);
    say(line, done);
  }

  async function load(saved) {
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
      showProblem(error, () => null, $("routing-error"));
      return;
    }
    $("routing-error").hidden = true;
    renderGroups(saved);
    renderRouting();
    renderPriority();
  }

  function start() {
    $("group-form").addEventListener("submit", submitGroup);
    $("group-cancel").addEventListener("click", () => closeEditor(true));
    $("add-rule").addEventListener("click", addRule);
    $("routing-form").addEventListener("submit", saveRouting);
    $("priority-form").addEventListener("submit", savePriority);
    $("group-form").addEventListener("keydown", (event) => {
      if (event.key === "Escape" && editing) closeEditor(true);
    });
    load();
  }

  // Deferred like rolodex.js, which comes after this script: start once both have run.
  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
