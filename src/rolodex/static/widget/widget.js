/*
 * Rolodex web chat widget: a launcher and a chat panel for a company's own website.
 *
 * Embed:  <script src="https://rolodex.example/widget.js" data-channel="CHANNEL_ID" async></script>
 * A signed-in customer (identity verification): either attributes on the same tag,
 *   data-identifier="user-42" data-identifier-hash="<hex HMAC-SHA256(identity_secret, identifier)>"
 * or, before the tag, a global:  window.RolodexChat = {identifier: "user-42", identifierHash: "..."}
 * (the tag's attributes win). Without them the visitor is anonymous.
 *
 * No dependencies and no build step. It is served by GET /widget.js, which puts the styles and the
 * Spanish texts in place of the two "__ROLODEX_…__" markers below. Everything is drawn in an open
 * shadow root so the host page's styles and ours never meet. The session token lives in the host
 * page's localStorage, keyed by channel, so the conversation survives reloads and navigation.
 */
(function () {
  "use strict";

  var CSS = "__ROLODEX_CSS__";
  var CATALOGS = "__ROLODEX_MESSAGES__";

  var script = document.currentScript;
  if (!script || !script.getAttribute("data-channel")) {
    // Loaded with async or by a tag manager: currentScript may be gone; find our own tag.
    script = document.querySelector("script[data-channel][src*='widget.js']");
  }
  if (!script) return;
  var channelId = script.getAttribute("data-channel");
  var registry = (window.__rolodexChat = window.__rolodexChat || {});
  if (!channelId || registry[channelId]) return; // the tag pasted twice: one widget
  registry[channelId] = true;

  var origin = new URL(script.src, location.href).origin;
  var api = origin + "/public/v1/webchat/" + encodeURIComponent(channelId);
  var lang = pickLanguage();
  var catalog = (typeof CATALOGS === "object" && CATALOGS[lang]) || {};
  var global = window.RolodexChat || {};
  var identifier = script.getAttribute("data-identifier") || global.identifier || "";
  var identifierHash = script.getAttribute("data-identifier-hash") || global.identifierHash || "";
  var storeKey = "rolodex-chat:" + channelId;
  var memory = {}; // when the page forbids localStorage, the session lasts as long as the page

  var config = null;
  var state = load();
  var messages = []; // VisitorMessage, oldest first
  var seenIds = {};
  var pending = []; // attachments chosen for the next message: {filename, content_type, content_base64}
  var stream = null;
  var busy = false;
  var ui = {};

  function t(id, values) {
    var text = catalog[id] || id;
    return text.replace(/%\((\w+)\)s/g, function (_, name) {
      return values && name in values ? String(values[name]) : "";
    });
  }

  function pickLanguage() {
    var wanted = [document.documentElement.lang].concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i] || "").toLowerCase().split("-")[0];
      if (code === "es" || code === "en") return code;
    }
    return "en";
  }

  // ---- the stored session ----

  function load() {
    var raw = null;
    try {
      raw = window.localStorage.getItem(storeKey);
    } catch (e) {
      raw = memory[storeKey];
    }
    var saved = null;
    try {
      saved = raw ? JSON.parse(raw) : null;
    } catch (e) {
      saved = null;
    }
    // A session belongs to whoever was signed in when it began: after a sign-out or another
    // customer's sign-in on the same browser, it is not shown.
    if (!saved || saved.identifier !== identifier) saved = { identifier: identifier };
    return saved;
  }

  function save() {
    var raw = JSON.stringify(state);
    try {
      window.localStorage.setItem(storeKey, raw);
    } catch (e) {
      memory[storeKey] = raw;
    }
  }

  function forgetSession() {
    if (stream) stream.close();
    stream = null;
    // The details given in the pre-chat form carry over to the new session.
    state = { identifier: identifier, prechat: state.prechat, details: state.details };
    messages = [];
    seenIds = {};
    save();
    renderMessages();
  }

  // ---- the visitor API ----

  function request(method, path, body) {
    var headers = {};
    if (state.token) headers.Authorization = "Bearer " + state.token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(api + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      mode: "cors",
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      var parsed = type.indexOf("json") >= 0 ? response.json() : Promise.resolve(null);
      return parsed.then(function (data) {
        if (response.ok) return data;
        var error = new Error((data && (data.detail || data.title)) || String(response.status));
        error.status = response.status;
        error.problem = data || {};
        throw error;
      });
    });
  }

  function pageInfo() {
    return { page_url: location.href, page_title: document.title || "" };
  }

  function startSession(details) {
    var body = pageInfo();
    body.browser_language = navigator.language || "";
    for (var key in details) if (details[key]) body[key] = details[key];
    if (identifier && identifierHash) {
      body.identifier = identifier;
      body.identifier_hash = identifierHash;
    }
    return request("POST", "/sessions", body).then(
      function (session) {
        state.token = session.session_token;
        state.verified = session.verified;
        save();
        listen();
        return loadHistory();
      },
      function (error) {
        if (error.status === 401 && body.identifier) {
          // The site's hash is wrong: chat anonymously rather than not at all, and tell its developer.
          if (window.console) console.warn("Rolodex chat: identifier_hash was refused; chatting anonymously");
          identifierHash = "";
          return startSession(details);
        }
        throw error;
      }
    );
  }

  function resumeSession() {
    return request("PATCH", "/session", pageInfo()).then(
      function () {
        listen();
        return loadHistory();
      },
      function (error) {
        if (error.status === 401 || error.status === 404) forgetSession();
        else throw error;
      }
    );
  }

  function ensureSession() {
    return state.token ? Promise.resolve() : startSession(state.details || {});
  }

  function loadHistory() {
    // Busy while the history is drawn, so a screen reader does not read all of it aloud.
    ui.log.setAttribute("aria-busy", "true");
    return request("GET", "/messages").then(function (page) {
      (page.items || []).forEach(add);
      renderMessages();
    }).then(function () {
      ui.log.removeAttribute("aria-busy");
    }, function (error) {
      ui.log.removeAttribute("aria-busy");
      throw error;
    });
  }

  var retryDelay = 2000;

  function listen() {
    if (stream || !state.token || !window.EventSource) return;
    var opened = false;
    stream = new EventSource(api + "/stream?token=" + encodeURIComponent(state.token));
    stream.addEventListener("message.created", function (event) {
      try {
        add(JSON.parse(event.data));
      } catch (e) {
        return;
      }
      renderMessages();
    });
    stream.addEventListener("open", function () {
      // After a dropped connection, fetch what was said meanwhile (add() skips what we have).
      if (opened) loadHistory().catch(function () {});
      opened = true;
      retryDelay = 2000;
    });
    stream.addEventListener("error", function () {
      if (!stream || stream.readyState !== EventSource.CLOSED) return; // the browser reconnects
      // The server refused the stream outright (an expired token, a rate limit): check the
      // session after a pause that grows, so a refusing server is not hammered.
      stream = null;
      setTimeout(function () {
        request("GET", "/session").then(listen, function (error) {
          if (error.status === 401) forgetSession();
          else listen();
        });
      }, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 60000);
    });
  }

  function add(message) {
    if (!message || !message.id || seenIds[message.id]) return;
    seenIds[message.id] = true;
    messages.push(message);
    messages.sort(function (a, b) {
      return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0;
    });
  }

  // ---- drawing ----

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var key in attrs || {}) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else if (attrs[key] !== false && attrs[key] != null) node.setAttribute(key, attrs[key]);
    }
    (children || []).forEach(function (child) {
      if (child) node.appendChild(child);
    });
    return node;
  }

  function icon(path) {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var shape = document.createElementNS("http://www.w3.org/2000/svg", "path");
    shape.setAttribute("d", path);
    svg.appendChild(shape);
    return svg;
  }

  function build() {
    var host = el("div", { id: "rolodex-chat-" + channelId, "data-rolodex-chat": channelId });
    var root = host.attachShadow({ mode: "open" });
    if (root.adoptedStyleSheets && window.CSSStyleSheet && "replaceSync" in CSSStyleSheet.prototype) {
      // A constructed sheet also works on pages whose CSP forbids inline <style> (the preview).
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(typeof CSS === "string" ? CSS : "");
      root.adoptedStyleSheets = [sheet];
    } else {
      root.appendChild(el("style", { text: CSS }));
    }

    ui.badge = el("span", { className: "badge", "aria-hidden": "true", hidden: "" });
    ui.launcher = el("button", { type: "button", className: "launcher", "aria-expanded": "false" }, [
      icon("M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2z"),
      ui.badge,
    ]);
    ui.launcher.addEventListener("click", function () {
      if (ui.panel.hidden) open();
      else close();
    });

    var titleId = "rolodex-chat-title";
    ui.close = el("button", { type: "button", className: "close", "aria-label": t("Close chat") });
    ui.close.appendChild(el("span", { "aria-hidden": "true", text: "\u00d7" }));
    ui.close.addEventListener("click", close);

    ui.greeting = el("p", { className: "greeting" });
    ui.list = el("ol");
    ui.log = el("div", { className: "log", role: "log", "aria-live": "polite", tabindex: "0",
      "aria-label": t("Conversation") }, [ui.greeting, ui.list]);

    ui.prechat = buildPrechat();
    ui.composer = buildComposer();

    ui.panel = el("section", { className: "panel", role: "dialog", "aria-labelledby": titleId, hidden: "" }, [
      el("div", { className: "head" }, [el("h2", { id: titleId, text: t("Chat with us") }), ui.close]),
      ui.log,
      ui.prechat,
      ui.composer,
    ]);
    ui.panel.id = "rolodex-chat-panel";
    ui.launcher.setAttribute("aria-controls", ui.panel.id);
    ui.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });

    root.appendChild(ui.panel);
    root.appendChild(ui.launcher);
    (document.body || document.documentElement).appendChild(host);
    ui.host = host;
    ui.root = root;
    updateLauncher();
  }

  function buildPrechat() {
    var form = el("form", { className: "prechat", hidden: "", novalidate: "" });
    form.appendChild(el("p", { text: t("Before we start, please tell us who you are.") }));
    ui.fields = {};
    form.appendChild((ui.prechatFields = el("div")));
    ui.prechatError = el("p", { className: "error", role: "alert" });
    ui.prechatSubmit = el("button", { type: "submit", className: "primary", text: t("Start chat") });
    form.appendChild(ui.prechatError);
    form.appendChild(ui.prechatSubmit);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submitPrechat();
    });
    return form;
  }

  function prechatInputs(fields) {
    var labels = { first_name: t("First name"), last_name: t("Last name"), email: t("Email") };
    var kinds = { first_name: ["text", "given-name"], last_name: ["text", "family-name"], email: ["email", "email"] };
    ui.prechatFields.textContent = "";
    ui.fields = {};
    fields.forEach(function (name) {
      if (!labels[name]) return;
      var input = el("input", { type: kinds[name][0], name: name, autocomplete: kinds[name][1],
        required: "", "aria-required": "true", maxlength: "200" });
      ui.fields[name] = input;
      ui.prechatFields.appendChild(el("label", { className: "field" }, [el("span", { text: labels[name] }), input]));
    });
  }

  function buildComposer() {
    var form = el("form", { className: "composer", hidden: "" });
    ui.text = el("textarea", { name: "text", rows: "2", "aria-label": t("Message"),
      placeholder: t("Write a message…") });
    ui.text.addEventListener("keydown", function (event) {
      // Enter sends, as in every chat; Shift+Enter starts a new line.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        send();
      }
    });
    ui.file = el("input", { type: "file", multiple: "", "aria-label": t("Attach a file"),
      "aria-describedby": "rolodex-chat-hint" });
    ui.file.addEventListener("change", function () {
      chooseFiles(Array.prototype.slice.call(ui.file.files || []));
      ui.file.value = "";
    });
    var attach = el("span", { className: "attach" }, [icon(
      "M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6z"
    ), ui.file]);
    ui.hint = el("span", { className: "hint", id: "rolodex-chat-hint" });
    ui.send = el("button", { type: "submit", className: "primary", text: t("Send") });
    ui.chips = el("ul", { className: "chips", "aria-label": t("Files to send") });
    ui.error = el("p", { className: "error", role: "alert" });
    form.appendChild(ui.text);
    form.appendChild(ui.chips);
    form.appendChild(el("div", { className: "row" }, [attach, ui.hint, ui.send]));
    form.appendChild(ui.error);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send();
    });
    return form;
  }

  function applyConfig() {
    var color = /^#[0-9a-fA-F]{6}$/.test(config.color || "") ? config.color : "#1f6feb";
    // Custom properties set through the CSSOM are allowed under any style-src policy.
    ui.host.style.setProperty("--accent", color);
    ui.host.style.setProperty("--on-accent", readableOn(color));
    var greeting = config.greeting || {};
    ui.greeting.textContent = greeting[lang] || greeting.en || t("Hi! How can we help you today?");
    prechatInputs(config.pre_chat_fields || []);
    ui.file.setAttribute("accept", (config.attachment_types || []).join(","));
    ui.hint.textContent = t("Images or PDF, up to %(size)s", { size: formatSize(config.max_attachment_bytes) });
    ui.text.setAttribute("maxlength", String(config.max_text_length || 5000));
    showForm();
  }

  function readableOn(hex) {
    // WCAG contrast: white text on dark colours, near-black on light ones.
    var lum = [1, 3, 5].map(function (i) {
      var c = parseInt(hex.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var l = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2];
    return (l + 0.05) / 0.05 > 1.05 / (l + 0.05) ? "#111111" : "#ffffff";
  }

  function formatSize(bytes) {
    bytes = Number(bytes) || 0;
    var mb = bytes / (1024 * 1024);
    var number = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
    return mb >= 1 ? number.format(mb) + " MB" : number.format(Math.max(1, Math.round(bytes / 1024))) + " KB";
  }

  function needsPrechat() {
    return !!(config && (config.pre_chat_fields || []).length && !state.prechat && !messages.length);
  }

  function showForm() {
    if (!config) return;
    var prechat = needsPrechat();
    ui.prechat.hidden = !prechat;
    ui.composer.hidden = prechat;
  }

  function renderMessages() {
    if (!ui.list) return;
    var timeFormat = new Intl.DateTimeFormat(lang, { hour: "numeric", minute: "2-digit" });
    var shown = ui.list.children.length;
    if (shown > messages.length || (shown && ui.list.children[shown - 1].getAttribute("data-id") !== (messages[shown - 1] || {}).id)) {
      // Something arrived out of order (a reconnect filled a gap): draw the list again.
      ui.list.textContent = "";
      shown = 0;
    }
    var atBottom = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 40;
    for (var i = shown; i < messages.length; i++) ui.list.appendChild(drawMessage(messages[i], timeFormat));
    if (atBottom || shown === 0) ui.log.scrollTop = ui.log.scrollHeight;
    showForm();
    updateLauncher();
  }

  function drawMessage(message, timeFormat) {
    var mine = message.direction === "inbound";
    var author = mine ? t("You") : (message.author && message.author.name) || t("Support");
    var item = el("li", { className: "msg" + (mine ? " mine" : ""), "data-id": message.id });
    var bubble = el("div", { className: "bubble" }, [el("span", { className: "sr", text: author + ": " })]);
    if (message.text) bubble.appendChild(document.createTextNode(message.text));
    var files = message.attachments || [];
    if (files.length) {
      var list = el("ul", { className: "files" });
      files.forEach(function (file) {
        var link = el("a", { href: file.url, target: "_blank", rel: "noopener noreferrer" });
        if (/^image\//.test(file.content_type || "")) link.appendChild(el("img", { src: file.url, alt: file.filename }));
        else link.textContent = file.filename;
        list.appendChild(el("li", {}, [link]));
      });
      bubble.appendChild(list);
    }
    var when = new Date(message.created_at);
    var meta = (mine ? "" : author + " \u00b7 ") + (isNaN(when) ? "" : timeFormat.format(when));
    item.appendChild(bubble);
    item.appendChild(el("span", { className: "meta", "aria-hidden": "true", text: meta }));
    return item;
  }

  function unread() {
    var count = 0;
    messages.forEach(function (m) {
      if (m.direction === "outbound" && (!state.seen || m.created_at > state.seen)) count++;
    });
    return count;
  }

  function updateLauncher() {
    if (!ui.launcher) return;
    var isOpen = !ui.panel.hidden;
    if (isOpen && messages.length && document.visibilityState !== "hidden") {
      var last = messages[messages.length - 1].created_at;
      if (state.seen !== last) {
        state.seen = last;
        save();
      }
    }
    var count = isOpen ? 0 : unread();
    ui.badge.textContent = String(count > 99 ? "99+" : count);
    ui.badge.hidden = count === 0;
    ui.launcher.setAttribute("aria-expanded", String(isOpen));
    ui.launcher.setAttribute("aria-label", isOpen ? t("Close chat") :
      count ? t("Open chat (%(count)s unread)", { count: count }) : t("Open chat"));
  }

  // ---- actions ----

  function open() {
    ui.panel.hidden = false;
    updateLauncher();
    ui.log.scrollTop = ui.log.scrollHeight;
    var ready = config ? Promise.resolve() : fetchConfig();
    ready.then(function () {
      // A signed-in customer sees the history from their other devices as soon as they open.
      if (!state.token && identifier && identifierHash) {
        return startSession(state.details || {}).catch(showError);
      }
    }).then(focusFirst, function () {});
    focusFirst();
  }

  function focusFirst() {
    if (ui.panel.hidden || !config) return;
    if (ui.panel.contains(ui.root.activeElement) && ui.root.activeElement !== ui.close) return;
    var first = needsPrechat() ? ui.prechat.querySelector("input") : ui.text;
    (first || ui.close).focus();
  }

  function close() {
    ui.panel.hidden = true;
    updateLauncher();
    ui.launcher.focus();
  }

  function fetchConfig() {
    return request("GET", "/config").then(function (data) {
      config = data;
      applyConfig();
    }, function (error) {
      ui.greeting.textContent = problemText(error);
      throw error;
    });
  }

  function submitPrechat() {
    var details = {};
    ui.prechatError.textContent = "";
    for (var name in ui.fields) {
      var input = ui.fields[name];
      input.value = input.value.trim();
      input.removeAttribute("aria-invalid");
      if (!input.value || (name === "email" && !input.checkValidity())) {
        input.setAttribute("aria-invalid", "true");
        ui.prechatError.textContent = name === "email" && input.value
          ? t("Please enter a valid email address.") : t("Please fill in every field.");
        input.focus();
        return;
      }
      details[name] = input.value;
    }
    ui.prechatSubmit.disabled = true;
    var done = state.token ? request("PATCH", "/session", details) : startSession(details);
    done.then(function () {
      state.prechat = true;
      state.details = details;
      save();
      showForm();
      ui.text.focus();
    }, function (error) {
      var fieldErrors = (error.problem && error.problem.errors) || [];
      var known = fieldErrors.filter(function (e) { return ui.fields[String(e.field).split(".").pop()]; });
      if (known.length) ui.fields[String(known[0].field).split(".").pop()].setAttribute("aria-invalid", "true");
      ui.prechatError.textContent = known.length ? known[0].message : problemText(error);
    }).then(function () {
      ui.prechatSubmit.disabled = false;
    });
  }

  function chooseFiles(files) {
    ui.error.textContent = "";
    var types = config.attachment_types || [];
    files.forEach(function (file) {
      if (types.indexOf(file.type) < 0) {
        ui.error.textContent = t("%(name)s is not a kind of file the chat accepts.", { name: file.name });
        return;
      }
      if (file.size > config.max_attachment_bytes) {
        ui.error.textContent = t("%(name)s is too large (the limit is %(size)s).",
          { name: file.name, size: formatSize(config.max_attachment_bytes) });
        return;
      }
      var reader = new FileReader();
      reader.onload = function () {
        var data = String(reader.result);
        pending.push({ filename: file.name, content_type: file.type, content_base64: data.slice(data.indexOf(",") + 1) });
        drawChips();
      };
      reader.readAsDataURL(file);
    });
  }

  function drawChips() {
    ui.chips.textContent = "";
    pending.forEach(function (file, index) {
      var remove = el("button", { type: "button", "aria-label": t("Remove %(name)s", { name: file.filename }) });
      remove.appendChild(el("span", { "aria-hidden": "true", text: "\u00d7" }));
      remove.addEventListener("click", function () {
        pending.splice(index, 1);
        drawChips();
        ui.text.focus();
      });
      ui.chips.appendChild(el("li", {}, [el("span", { text: file.filename }), remove]));
    });
  }

  function send() {
    var text = ui.text.value.trim();
    if (busy || (!text && !pending.length)) return;
    busy = true;
    ui.send.disabled = true;
    ui.error.textContent = "";
    var body = { text: text, client_message_id: "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10) };
    if (pending.length) body.attachments = pending.slice();
    var post = function () { return request("POST", "/messages", body); };
    ensureSession().then(post).catch(function (error) {
      if (error.status !== 401) throw error;
      // The session ended on the server (expired or the contact was deleted): begin a new one.
      forgetSession();
      return ensureSession().then(post);
    }).then(function (message) {
      ui.text.value = "";
      pending = [];
      drawChips();
      add(message);
      renderMessages();
    }, showError).then(function () {
      busy = false;
      ui.send.disabled = false;
      ui.text.focus();
    });
  }

  function problemText(error) {
    if (error.status === 429) return t("You are sending messages too quickly. Please wait a moment.");
    if (error.status === 413) return t("That is too large to send.");
    if (!error.status) return t("The chat cannot be reached. Check your connection and try again.");
    var first = error.problem && error.problem.errors && error.problem.errors[0];
    return (first && first.message) || error.problem.detail || t("Something went wrong. Please try again.");
  }

  function showError(error) {
    if (ui.error) ui.error.textContent = problemText(error);
  }

  function start() {
    build();
    document.addEventListener("visibilitychange", updateLauncher);
    // The launcher wears the channel's colour from the start, so the config is read on load.
    fetchConfig().catch(function () {});
    if (state.token) {
      // A returning visitor: tell the server where they are now, show the history, listen.
      resumeSession().catch(function () {});
    }
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
