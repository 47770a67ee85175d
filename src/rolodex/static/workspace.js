// The agent workspace around the Contact tab, following the live stream (live.js): the list
// inserts, moves, re-badges and drops conversations as they change; the open thread appends new
// messages and shows each one's delivery status (Retry when it failed), files still downloading
// or failed (Retry) and reactions; the header and the status and assignment controls follow
// changes made by others. Replies, status and assignment go through the API with If-Match: when
// the conversation was resolved or reassigned meanwhile the agent is asked first, and a 412 says
// what changed. Also: filters that apply as soon as they change, Ctrl/Cmd+Enter to send, keyboard
// shortcuts (j/k, arrows, Enter, r, e, ?), the waiting count in the title, unread marks and a
// browser notification (after asking from a button) when someone assigns the agent a conversation.
// Bots (virtual agents): a conversation a bot holds names it ("<Name> VA") in the list and the
// header, live; "Take back" assigns it to the agent, "Hand to bot" delegates it; the bot's
// internal notes are drawn as notes (never with a delivery status); labels show as chips.
"use strict";
(() => {
  const h = (...args) => window.rolodex.h(...args);
  const api = (...args) => window.rolodex.api(...args);
  const t = (...args) => window.rolodex.t(...args);
  const time = (...args) => window.rolodex.time(...args);
  // The filter that reloaded the list gets the keyboard back once the new list is shown.
  const FOCUS_KEY = "rolodex.workspace.filter";
  const dataNode = document.getElementById("workspace-data");
  const data = dataNode ? JSON.parse(dataNode.textContent) : {};
  const filters = data.filters || {};
  const me = data.me || null;
  // The open conversation as this page last knew it (version, status, assignee, team).
  const conv = data.conversation || null;
  let contactDeleted = false;

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
    form.addEventListener("submit", () => {
      const active = document.activeElement;
      if (active && active.id && form.contains(active)) remember(active.id);
    });
    // A filter picked while the page was still loading (before this ran) applies now.
    const early = [...form.querySelectorAll("select")].find((select) => {
      const chosen = [...select.options].findLast((option) => option.defaultSelected);
      return select.selectedIndex !== (chosen ? chosen.index : 0);
    });
    if (early) {
      remember(early.id);
      form.requestSubmit();
      return;
    }
    const id = recall();
    const again = id ? document.getElementById(id) : null;
    if (again && form.contains(again)) again.focus();
  }

  // --- Words --------------------------------------------------------------------------------

  function authorWord(kind) {
    const words = { contact: t("Contact"), agent: t("Agent"), bot: t("Bot"), system: t("System") };
    return words[kind] || kind;
  }

  // Who did something, from an event's actor {kind, id} or a user id.
  function actorName(actor) {
    if (!actor) return t("Someone");
    const id = typeof actor === "string" ? actor : actor.id;
    const kind = typeof actor === "string" ? "user" : actor.kind;
    if (id && id === me) return t("You");
    if (kind === "user") return (data.users || {})[id] || t("Another agent");
    if (kind === "bot") return t("A bot");
    if (kind === "contact") return t("The contact");
    return t("Rolodex");
  }

  function personName(userId) {
    if (!userId) return "";
    if (userId === me) return t("you");
    return (data.users || {})[userId] || t("another agent");
  }

  function statusChange(status, name) {
    if (status === "resolved") return t("%(name)s resolved this conversation.", { name });
    if (status === "pending") return t("%(name)s marked this conversation pending.", { name });
    return t("%(name)s moved this conversation to New.", { name });
  }

  function assigneeLine(assigneeId, botName) {
    if (botName) return t("Assigned to %(name)s", { name: botName });
    if (!assigneeId) return t("Unassigned");
    if (assigneeId === me) return t("Assigned to you");
    return t("Assigned to %(name)s", { name: (data.users || {})[assigneeId] || "?" });
  }

  // --- Status lines and the "are you sure?" dialog -------------------------------------------

  function pageSay(text) {
    const line = document.querySelector(".workspace-status");
    if (line) line.textContent = text;
  }

  function say(text) {
    const line = document.querySelector(".thread-status");
    const alert = document.querySelector(".thread-error");
    if (alert) {
      alert.hidden = true;
      alert.textContent = "";
    }
    if (line) line.textContent = text;
    else pageSay(text);
  }

  function complain(summary, failure) {
    const line = document.querySelector(".thread-status");
    const alert = document.querySelector(".thread-error");
    if (line) line.textContent = "";
    if (!alert) return;
    const problem = failure.problem || {};
    alert.textContent = t("%(summary)s: %(reason)s", {
      summary, reason: problem.detail || failure.message,
    });
    alert.hidden = false;
  }

  function ask(heading, text, yes) {
    return window.rolodex.ask(heading, text, yes);
  }

  // --- The list -----------------------------------------------------------------------------

  const list = document.querySelector("ul.conversations");

  function itemNode(id) {
    return list ? list.querySelector(`li[data-conversation-id="${CSS.escape(id)}"]`) : null;
  }

  function keepQuery() {
    const query = new URLSearchParams({ status: filters.status || "new" });
    for (const key of ["channel_id", "group", "assignee_id", "q"]) {
      if (filters[key]) query.set(key, filters[key]);
    }
    return query.toString();
  }

  function lastAt(item) {
    return (item.last_message && item.last_message.at) || item.last_message_at;
  }

  // The bot holding a conversation, beside the contact's name in the list.
  function botBadge(name) {
    return h("span", { class: "badge bot-va" },
      h("span", { class: "visually-hidden", text: t("Assigned to:") }), " ", name || t("A bot"));
  }

  function renderItem(item, unread) {
    const at = item.last_message_at;
    const last = item.last_message;
    const current = conv && conv.id === item.id;
    return h(
      "li",
      {
        "data-conversation-id": item.id,
        "data-contact-id": item.contact_id,
        "data-version": item.version,
        "data-last-at": lastAt(item) || "",
        class: unread ? "unread" : null,
      },
      h(
        "a",
        {
          href: `/conversations/${encodeURIComponent(item.id)}?${keepQuery()}`,
          "aria-current": current ? "true" : null,
        },
        h("span", { class: "item-head" },
          unread
            ? [h("span", { class: "unread-dot", "aria-hidden": "true" }),
              h("span", { class: "visually-hidden", text: t("Unread") }), " "]
            : null,
          h("strong", { class: "item-name", text: item.contact_display_name }),
          item.vip ? [" ", h("span", { class: "badge vip", text: "VIP" })] : null,
          item.bot_id ? [" ", botBadge(item.bot_name)] : null),
        last ? h("span", { class: "last-message", text: last.text }) : null,
        h("span", { class: "meta" },
          `${(data.channels || {})[item.channel_id] || ""} · `,
          h("time", { class: "when", datetime: at, text: time(at, "short") })),
      ),
    );
  }

  // Whether the item belongs in this list; null when only the server can tell (search, groups).
  function fits(item) {
    if (filters.q || filters.group) return null;
    if (item.status !== filters.status) return false;
    if (filters.channel_id && item.channel_id !== filters.channel_id) return false;
    const view = filters.assignee_id;
    if (view === "me") return Boolean(me) && item.assignee_id === me;
    if (view === "none") return !item.assignee_id && !item.bot_id; // a bot's is not waiting
    if (view) return item.assignee_id === view;
    return true;
  }

  function unreadFor(item, old) {
    if (conv && conv.id === item.id) return false;
    if (typeof item.unread === "boolean") return item.unread;
    const before = old ? old.classList.contains("unread") : false;
    const last = item.last_message;
    if (!last) return before;
    if (last.direction !== "inbound") return false;
    if (!old) return true; // new to this list, its last message the contact's
    const seen = Date.parse(old.dataset.lastAt || "");
    return !Number.isNaN(seen) && Date.parse(last.at) > seen ? true : before;
  }

  function showEmpty() {
    if (!list) return;
    const empty = list.parentElement.querySelector("section.empty");
    const none = list.children.length === 0;
    list.hidden = none;
    if (empty) empty.hidden = !none;
  }

  // Swap `old` for `node` (or drop it), keeping the keyboard on the same conversation or nearby.
  function swap(old, node) {
    const focused = old.contains(document.activeElement);
    const neighbour = old.nextElementSibling || old.previousElementSibling;
    if (node) old.replaceWith(node);
    else old.remove();
    if (!focused) return;
    const target = node || neighbour;
    const link = target ? target.querySelector("a") : document.getElementById("list-heading");
    if (link) {
      if (!link.hasAttribute("href") && !link.hasAttribute("tabindex")) link.setAttribute("tabindex", "-1");
      link.focus();
    }
  }

  function placeItem(item, created) {
    if (!list || !data.first_page || !item) return;
    const verdict = fits(item);
    if (verdict === null) {
      reloadListSoon();
      return;
    }
    const old = itemNode(item.id);
    // Events of two commits may arrive in either order: an older state never replaces a newer.
    if (old && Number(old.dataset.version) > item.version) return;
    if (!verdict) {
      if (old) swap(old, null);
      showEmpty();
      return;
    }
    const node = renderItem(item, unreadFor(item, old));
    if (old) {
      swap(old, node);
      return;
    }
    // Newest first by id (ids sort by creation time), as the server lists them.
    const after = [...list.children].find((li) => li.dataset.conversationId < item.id);
    if (after) list.insertBefore(node, after);
    else if (!data.has_more) list.append(node);
    else return; // it belongs on an older page
    showEmpty();
    // An older conversation moving in: whether this agent read it is the server's to say.
    if (!created && node.classList.contains("unread")) reloadListSoon();
  }

  let listTimer = null;
  function reloadListSoon() {
    clearTimeout(listTimer);
    listTimer = setTimeout(reloadList, 150);
  }

  // The list again from the API with the page's filters (search and groups are the server's).
  async function reloadList() {
    if (!list || !data.first_page) return;
    const query = new URLSearchParams({ limit: "50" });
    for (const key of ["status", "channel_id", "group", "assignee_id", "q"]) {
      if (filters[key]) query.set(key, filters[key]);
    }
    let page;
    try {
      page = await api("GET", `/api/v1/conversations?${query}`);
    } catch {
      return; // offline for a moment: the next event or reload tries again
    }
    const focusedId = document.activeElement && document.activeElement.closest
      ? (document.activeElement.closest("li[data-conversation-id]") || {}).dataset?.conversationId
      : null;
    list.replaceChildren(...page.items.map((item) => renderItem(item, unreadFor(item, itemNode(item.id)))));
    data.has_more = Boolean(page.next_cursor);
    if (focusedId) {
      const again = itemNode(focusedId);
      if (again) again.querySelector("a").focus();
    }
    showEmpty();
  }

  // A message in a listed conversation: its last words, time and unread mark follow.
  function touchItem(message) {
    const old = itemNode(message.conversation_id);
    if (!old || message.internal) return; // a note is for agents: the list shows the contact's words
    const link = old.querySelector("a");
    let last = link.querySelector(".last-message");
    if (!last) {
      last = h("span", { class: "last-message" });
      link.querySelector(".item-head").after(last);
    }
    last.textContent = message.text.slice(0, 200);
    const when = link.querySelector("time.when");
    if (when) {
      when.setAttribute("datetime", message.sent_at);
      when.textContent = time(message.sent_at, "short");
    }
    old.dataset.lastAt = message.sent_at;
    const unread = message.direction === "inbound" && !(conv && conv.id === message.conversation_id);
    setUnread(old, unread || (message.direction === "inbound" && old.classList.contains("unread")));
  }

  function setUnread(node, unread) {
    if (node.classList.contains("unread") === unread) return;
    node.classList.toggle("unread", unread);
    const head = node.querySelector(".item-head");
    if (unread) {
      head.prepend(h("span", { class: "unread-dot", "aria-hidden": "true" }),
        h("span", { class: "visually-hidden", text: t("Unread") }), " ");
    } else {
      for (const part of head.querySelectorAll(".unread-dot, .visually-hidden")) part.remove();
      if (head.firstChild && head.firstChild.nodeType === Node.TEXT_NODE) head.firstChild.remove();
    }
  }

  // --- The title's count and the views' badges --------------------------------------------

  const baseTitle = document.title;
  let countsTimer = null;
  function countsSoon() {
    clearTimeout(countsTimer);
    countsTimer = setTimeout(refreshCounts, 300);
  }

  async function refreshCounts() {
    let counts;
    try {
      counts = await api("GET", "/api/v1/conversations/counts");
    } catch {
      return;
    }
    const waiting = counts.waiting || 0;
    document.title = waiting ? `(${waiting}) ${baseTitle}` : baseTitle;
    for (const badge of document.querySelectorAll("[data-count]")) {
      const n = counts[badge.dataset.count] || 0;
      badge.textContent = String(n);
      badge.hidden = !n;
    }
  }

  // --- Notifications -------------------------------------------------------------------------

  function setupNotifications() {
    const button = document.querySelector(".notify-on");
    if (!button || !("Notification" in window) || Notification.permission !== "default") return;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const answer = await Notification.requestPermission();
      button.hidden = true;
      pageSay(answer === "granted"
        ? t("Notifications are on: you are told when a conversation is assigned to you.")
        : t("Notifications stay off."));
    });
  }

  async function notifyAssigned(item, known) {
    let actor = known;
    if (!actor) {
      // The event did not say who: the conversation's log does.
      try {
        const detail = await api("GET", `/api/v1/conversations/${encodeURIComponent(item.id)}`);
        const last = [...(detail.events || [])].reverse().find((e) => e.kind === "assignee");
        if (last) actor = { kind: last.actor_kind, id: last.actor_id };
      } catch {
        // Said without a name, then.
      }
      if (actor && actor.id === me) return;
    }
    const text = t("%(name)s assigned you the conversation with %(contact)s.", {
      name: actorName(actor), contact: item.contact_display_name,
    });
    pageSay(text);
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try {
      const note = new Notification(t("A conversation was assigned to you"), { body: text, tag: item.id });
      note.addEventListener("click", () => {
        window.focus();
        window.location.assign(`/conversations/${encodeURIComponent(item.id)}`);
      });
    } catch {
      // Some browsers allow notifications only from a service worker: the page line says it.
    }
  }

  // --- The thread: messages, delivery, files, reactions ---------------------------------------

  const thread = { list: null, conversation: "", seen: new Map() };

  function deliveryWords(delivery) {
    const words = {
      queued: t("Queued"), sent: t("Sent"), delivered: t("Delivered"), read: t("Read"),
    };
    if (delivery.status !== "failed") return words[delivery.status] || delivery.status;
    const error = delivery.error;
    if (!error) return t("Failed");
    return t("Failed: %(title)s (%(code)s)", { title: error.title, code: error.code });
  }

  // Platform codes whose meaning a person needs in plain words (the platform's own code and
  // title stay shown beside them). By medium: one number means different things on different
  // platforms (Messenger's 551 is not SMTP's 551).
  function explanation(error) {
    const tooFast = t("The platform refused because too many messages were sent in a short time. Retry in a few minutes.");
    const refused = t("The recipient's mail server refused this address: it may be mistyped or no longer exist.");
    const known = {
      whatsapp: {
        131047: t("More than 24 hours have passed since this person last wrote: WhatsApp only allows a template message now."),
      },
      sms: {
        21610: t("This person replied STOP to this number: they have opted out and get no texts from it until they send START."),
        21211: t("This is not a valid phone number."),
        21614: t("This number is not a mobile number: it cannot receive texts."),
        30003: t("The phone is unreachable: switched off or out of coverage. Retry later."),
        30005: t("The number is unknown or no longer in service."),
        30006: t("The number is a landline or cannot receive texts."),
        20429: tooFast,
        http_429: tooFast,
      },
      twitter: {
        349: t("X does not let this account send messages to this user: they may not accept direct messages from it."),
        88: tooFast,
        429: tooFast,
        http_429: tooFast,
        rate_limited: tooFast,
      },
      email: {
        550: refused,
        551: refused,
        553: refused,
        552: t("The message is too large for the recipient's mail server: send smaller or fewer files."),
      },
    };
    return (known[conv && conv.medium] || {})[error.code] || "";
  }

  // After Retry its button is gone: the keyboard goes to the first of `focusIds` still shown.
  async function retry(path, done, ...focusIds) {
    try {
      await api("POST", path);
    } catch (failure) {
      complain(t("Not retried"), failure);
      return;
    }
    say(done);
    await refreshThread();
    const again = focusIds.map((id) => document.getElementById(id)).find(Boolean);
    if (again) again.focus();
  }

  function deliveryBlock(message) {
    const delivery = message.delivery;
    if (!delivery || message.direction !== "outbound" || message.internal) return [];
    const id = `delivery-${message.id}`;
    const failed = delivery.status === "failed";
    const why = failed && delivery.error ? explanation(delivery.error) : "";
    return [
      h("p", { class: `delivery is-${delivery.status}`, id, tabindex: "-1" },
        h("span", { class: "visually-hidden", text: t("Delivery:") }), " ",
        deliveryWords(delivery)),
      why ? h("p", { class: "delivery-why", id: `${id}-why`, text: why }) : null,
      failed
        ? h("button", {
          type: "button",
          class: "small secondary",
          "aria-describedby": why ? `${id} ${id}-why` : id,
          text: t("Retry"),
          onclick: () => retry(
            `/api/v1/conversations/${encodeURIComponent(thread.conversation)}/messages/${encodeURIComponent(message.id)}/retry`,
            t("Sending the message again…"),
            id,
          ),
        })
        : null,
    ];
  }

  function reactionsBlock(message) {
    const reactions = message.reactions || [];
    if (!reactions.length) return [];
    return [
      h("p", { class: "reactions" },
        h("span", { class: "visually-hidden", text: t("Reactions:") }), " ",
        reactions.map((r) => h("span", {
          class: "reaction", title: t("Reaction by: %(who)s", { who: authorWord(r.author_kind) }),
        }, r.emoji, " "))),
    ];
  }

  function attachmentWords(attachment) {
    const values = { filename: attachment.filename, size: attachment.size };
    return attachment.status === "stored"
      ? t("Attachment: %(filename)s (%(size)s bytes)", values)
      : t("Attachment: %(filename)s", values);
  }

  function showAttachment(attachment) {
    const line = thread.list.querySelector(`[data-attachment-id="${CSS.escape(attachment.id)}"]`);
    if (!line) return;
    const old = line.querySelector(".attachment-state");
    if (old) old.remove();
    const label = document.getElementById(`attachment-${attachment.id}`);
    if (label) label.textContent = attachmentWords(attachment);
    // The state's words can take the keyboard after Retry (the button itself goes away).
    const id = `attachment-${attachment.id}-state`;
    if (attachment.status === "pending") {
      line.append(h("span", { class: "attachment-state is-pending" },
        " · ", h("span", { id, tabindex: "-1", text: t("Downloading…") })));
    } else if (attachment.status === "failed") {
      line.append(h("span", { class: "attachment-state is-failed" },
        " · ", h("span", { id, tabindex: "-1", text: t("Download failed") }), " ",
        h("button", {
          type: "button",
          class: "small secondary",
          "aria-describedby": `attachment-${attachment.id} ${id}`,
          text: t("Retry"),
          onclick: () => retry(
            `/api/v1/attachments/${encodeURIComponent(attachment.id)}/retry`,
            t("Downloading the file again…"),
            id,
            `attachment-${attachment.id}`,
          ),
        })));
    }
  }

  // A message not shown yet goes at the end of the thread, drawn as the server draws it.
  function appendMessage(message) {
    if (!thread.list || message.conversation_id !== thread.conversation) return false;
    if (thread.list.querySelector(`[data-message-id="${CSS.escape(message.id)}"]`)) return false;
    const author = message.author || { kind: "system", name: "" };
    if (message.internal) {
      thread.list.append(noteItem(message, author));
      return true;
    }
    thread.list.append(h(
      "li",
      { class: `message ${message.direction} author-${author.kind}`, "data-message-id": message.id },
      h("p", { text: message.text }),
      (message.attachments || []).map((a) => h("p", { class: "meta attachment", "data-attachment-id": a.id },
        h("span", { id: `attachment-${a.id}`, tabindex: "-1", text: attachmentWords(a) }))),
      h("p", { class: "meta" },
        h("span", { class: "author", text: author.name || authorWord(author.kind) }),
        author.name ? ` · ${authorWord(author.kind)}` : "",
        " · ",
        h("time", { class: "when", datetime: message.sent_at, text: time(message.sent_at) })),
      h("div", { class: "message-state" }),
    ));
    return true;
  }

  // An internal note (a bot's or an agent's): marked as one, its author's name, no delivery.
  function noteItem(message, author) {
    return h(
      "li",
      { class: `message note author-${author.kind}`, "data-message-id": message.id },
      h("p", { class: "note-label", text: t("Internal note") }),
      h("p", { text: message.text }),
      h("p", { class: "meta" },
        h("span", { class: "author", text: author.name || authorWord(author.kind) }),
        author.name ? ` · ${authorWord(author.kind)}` : "",
        " · ",
        h("time", { class: "when", datetime: message.sent_at, text: time(message.sent_at) })),
    );
  }

  function showMessage(message) {
    const item = thread.list.querySelector(`[data-message-id="${CSS.escape(message.id)}"]`);
    if (!item) return;
    // Redrawn only when it changed: a person reading (or on a button) is not disturbed.
    const signature = JSON.stringify([message.delivery, message.reactions, message.attachments]);
    if (thread.seen.get(message.id) === signature) return;
    thread.seen.set(message.id, signature);
    const slot = item.querySelector(".message-state");
    const parts = [...deliveryBlock(message), ...reactionsBlock(message)].filter(Boolean);
    // Redrawn under the keyboard (after Retry, say): the keyboard stays on the delivery line.
    const had = slot && slot.contains(document.activeElement) ? document.activeElement : null;
    if (slot) slot.replaceChildren(...parts);
    if (had) {
      const again = (had.id && document.getElementById(had.id)) ||
        (had.tagName === "BUTTON" && slot.querySelector("button")) ||
        document.getElementById(`delivery-${message.id}`);
      if (again) again.focus();
    }
    for (const attachment of message.attachments || []) showAttachment(attachment);
  }

  // The whole thread from the API: on load and after the stream had a gap.
  async function refreshThread() {
    if (!thread.list) return;
    let page;
    try {
      const id = encodeURIComponent(thread.conversation);
      page = await api("GET", `/api/v1/conversations/${id}/messages?limit=200`);
    } catch {
      return; // the stream's next reload tries again
    }
    for (const message of page.items) {
      appendMessage(message);
      showMessage(message);
    }
  }

  async function markRead() {
    if (!conv || !me) return;
    const node = itemNode(conv.id);
    if (node) setUnread(node, false);
    try {
      await api("POST", `/api/v1/conversations/${encodeURIComponent(conv.id)}/read`);
    } catch {
      // Unread marks are a convenience: a failure here must not disturb the agent.
    }
    countsSoon();
  }

  // --- The open conversation: header, status and assignment ---------------------------------

  function statusButtons() {
    return [...document.querySelectorAll("form.status-actions button[name=status]")];
  }

  function showConversation() {
    if (!conv) return;
    const state = document.querySelector(".thread-state");
    if (state) state.textContent = (data.status_lines || {})[conv.status] || conv.status;
    const assignee = document.querySelector(".thread-assignee");
    if (assignee) {
      assignee.textContent = assigneeLine(conv.assignee_id, conv.bot_id ? conv.bot_name : "");
      assignee.classList.toggle("is-bot", Boolean(conv.bot_id));
    }
    const focused = statusButtons().find((b) => b === document.activeElement);
    for (const button of statusButtons()) button.hidden = button.value === conv.status;
    if (focused && focused.hidden) {
      const next = statusButtons().find((b) => !b.hidden);
      if (next) next.focus();
    }
    const agent = document.getElementById("assign-agent");
    if (agent && document.activeElement !== agent) agent.value = conv.assignee_id || "";
    const team = document.getElementById("assign-team");
    if (team && document.activeElement !== team) team.value = conv.team_id || "";
    const mine = document.querySelector(".assign-me");
    if (mine) {
      const hide = conv.assignee_id === me;
      if (hide && document.activeElement === mine && agent) agent.focus();
      mine.hidden = hide;
    }
    showBotControls();
    showLabels();
  }

  // "Take back" while a bot holds it; "Hand to bot" while none does and it is open. The
  // keyboard, on a control that goes away, moves to the one that takes its place.
  function showBotControls() {
    const back = document.querySelector("form.take-back");
    const hand = document.querySelector("form.hand-to-bot");
    const held = Boolean(conv.bot_id);
    const hadFocus = [back, hand].find((form) => form && form.contains(document.activeElement));
    if (back) back.hidden = !held;
    if (hand) hand.hidden = held || conv.status === "resolved";
    if (hadFocus && hadFocus.hidden) {
      const next = [back, hand].find((form) => form && !form.hidden);
      const target = next ? next.querySelector("button") : document.getElementById("assign-agent");
      if (target) target.focus();
    }
  }

  function labelWord(kind) {
    return kind === "topic" ? t("Topic") : kind === "tag" ? t("Tag") : kind;
  }

  // The conversation's topics and tags as chips in the header.
  function showLabels() {
    const chips = document.querySelector(".thread-labels");
    if (!chips || !Array.isArray(conv.labels)) return;
    chips.replaceChildren(...conv.labels.map((label) => h(
      "li", { class: `label-chip kind-${label.kind}` },
      h("span", { class: "label-kind", text: labelWord(label.kind) }), " ", label.name,
    )));
    chips.hidden = conv.labels.length === 0;
  }

  // What the server says the conversation is now (a PATCH's answer, a 412's `current`, a GET).
  function applyDetail(detail) {
    if (!conv || !detail || detail.id !== conv.id || detail.version < conv.version) return;
    conv.version = detail.version;
    conv.status = detail.status;
    conv.assignee_id = detail.assignee_id;
    conv.team_id = detail.team_id;
    conv.bot_id = detail.bot_id || null;
    conv.bot_name = detail.bot_name || "";
    if (Array.isArray(detail.labels)) conv.labels = detail.labels;
    const events = detail.events || [];
    const last = [...events].reverse().find((e) => e.kind === "status");
    if (last) conv.status_changed_by = last.actor_kind === "user" ? last.actor_id : null;
    showConversation();
  }

  // What changed between what the page knew and `current`, in words.
  function describeChange(before, current) {
    const parts = [];
    if (before.status !== current.status) {
      const events = current.events || [];
      const last = [...events].reverse().find((e) => e.kind === "status");
      const who = last ? actorName({ kind: last.actor_kind, id: last.actor_id }) : t("Someone");
      parts.push(statusChange(current.status, who));
    }
    if (current.bot_id && before.bot_id !== current.bot_id) {
      parts.push(t("It is now assigned to %(name)s.", { name: current.bot_name || t("a bot") }));
    } else if (before.assignee_id !== current.assignee_id || before.bot_id !== (current.bot_id || null)) {
      parts.push(current.assignee_id
        ? t("It is now assigned to %(name)s.", { name: personName(current.assignee_id) })
        : t("It is now unassigned."));
    }
    if (before.team_id !== current.team_id) {
      parts.push(current.team_id
        ? t("Its team is now %(team)s.", { team: (data.teams || {})[current.team_id] || "?" })
        : t("It no longer has a team."));
    }
    return parts.length ? parts.join(" ") : t("Someone changed this conversation since you opened it.");
  }

  function ifMatch() {
    return { headers: { "If-Match": `"${conv.version}"` } };
  }

  async function refreshConversation() {
    if (!conv) return;
    try {
      applyDetail(await api("GET", `/api/v1/conversations/${encodeURIComponent(conv.id)}`));
    } catch (failure) {
      if (failure.status === 404) showDeleted();
    }
  }

  // PATCH the open conversation; a 412 says what changed and asks before applying `body` anyway.
  async function patchConversation(body, done) {
    if (!conv || contactDeleted) return;
    const path = `/api/v1/conversations/${encodeURIComponent(conv.id)}`;
    let detail;
    try {
      detail = await api("PATCH", path, body, ifMatch());
    } catch (failure) {
      if (failure.status !== 412 || !failure.current) {
        complain(t("Not changed"), failure);
        return;
      }
      const before = { ...conv };
      applyDetail(failure.current);
      const what = describeChange(before, failure.current);
      if (!(await ask(t("This conversation changed"), what, t("Apply my change")))) {
        say(t("Not changed. %(what)s", { what }));
        return;
      }
      try {
        detail = await api("PATCH", path, body, ifMatch());
      } catch (again) {
        complain(t("Not changed"), again);
        return;
      }
    }
    applyDetail(detail);
    say(done);
  }

  function setStatus(status) {
    const words = {
      new: t("Moved to New."), pending: t("Marked pending."), resolved: t("Resolved."),
    };
    return patchConversation({ status }, words[status] || "");
  }

  function setupActions() {
    const statusForm = document.querySelector("form.status-actions");
    if (statusForm) {
      statusForm.addEventListener("submit", (event) => {
        event.preventDefault();
        const button = event.submitter;
        if (button && button.value) setStatus(button.value);
      });
    }
    const assignForm = document.querySelector("form.assign");
    if (assignForm) {
      assignForm.addEventListener("submit", (event) => {
        event.preventDefault();
        if (event.submitter && event.submitter.classList.contains("assign-me")) {
          patchConversation({ assignee_id: me }, t("Assigned to you."));
          return;
        }
        const agent = document.getElementById("assign-agent").value || null;
        const team = document.getElementById("assign-team").value || null;
        patchConversation({ assignee_id: agent, team_id: team }, t("Assignment saved."));
      });
    }
    const back = document.querySelector("form.take-back");
    if (back) {
      back.addEventListener("submit", (event) => {
        event.preventDefault();
        patchConversation({ assignee_id: me }, t("You took this conversation back."));
      });
    }
    const hand = document.querySelector("form.hand-to-bot");
    if (hand) {
      hand.addEventListener("submit", (event) => {
        event.preventDefault();
        const botId = document.getElementById("delegate-bot").value;
        if (botId) delegate(botId);
      });
    }
  }

  // Hand the open conversation to a bot (POST …/delegate); a 412 asks as a PATCH does.
  async function delegate(botId) {
    if (!conv || contactDeleted) return;
    const path = `/api/v1/conversations/${encodeURIComponent(conv.id)}/delegate`;
    let detail;
    try {
      detail = await api("POST", path, { bot_id: botId }, ifMatch());
    } catch (failure) {
      if (failure.status !== 412 || !failure.current) {
        complain(t("Not handed over"), failure);
        return;
      }
      const before = { ...conv };
      applyDetail(failure.current);
      const what = describeChange(before, failure.current);
      if (!(await ask(t("This conversation changed"), what, t("Hand it over")))) {
        say(t("Not handed over. %(what)s", { what }));
        return;
      }
      try {
        detail = await api("POST", path, { bot_id: botId }, ifMatch());
      } catch (again) {
        complain(t("Not handed over"), again);
        return;
      }
    }
    applyDetail(detail);
    say(t("Handed to %(name)s.", { name: detail.bot_name || t("the bot") }));
    const back = document.querySelector("form.take-back button");
    if (back && !back.closest("form").hidden) back.focus();
  }

  // --- Replying -----------------------------------------------------------------------------

  let sending = false;

  // What to ask before a reply goes out, when the page knows it would surprise someone.
  function replyQuestion() {
    if (conv.status === "resolved") {
      const by = conv.status_changed_by;
      const text = by && by !== me
        ? t("%(name)s resolved this conversation. Send and reopen?", { name: personName(by) })
        : t("This conversation is resolved. Send and reopen?");
      return { text, yes: t("Send and reopen") };
    }
    if (conv.bot_id) {
      return {
        text: t("%(name)s is answering this conversation. Send anyway?", { name: conv.bot_name || t("A bot") }),
        yes: t("Send anyway"),
      };
    }
    if (conv.assignee_id && conv.assignee_id !== me) {
      return {
        text: t("This conversation is assigned to %(name)s. Send anyway?", { name: personName(conv.assignee_id) }),
        yes: t("Send anyway"),
      };
    }
    return null;
  }

  async function postReply(text) {
    const path = `/api/v1/conversations/${encodeURIComponent(conv.id)}/messages`;
    try {
      return await api("POST", path, { text }, ifMatch());
    } catch (failure) {
      if (failure.status !== 412 || !failure.current) throw failure;
      const before = { ...conv };
      applyDetail(failure.current);
      // Only a change that makes the reply a surprise asks (resolved, or someone else's now);
      // the contact writing again, say, does not.
      const question = replyQuestion();
      if (question) {
        const what = describeChange(before, failure.current);
        const asked = t("%(what)s Send anyway?", { what });
        if (!(await ask(t("Send this message?"), asked, question.yes))) return null;
      }
      return api("POST", path, { text }, ifMatch());
    }
  }

  async function sendReply(form) {
    const box = document.getElementById("reply-text");
    if (sending || contactDeleted || !conv) return;
    if (!box.value.trim()) {
      box.reportValidity();
      return;
    }
    const question = replyQuestion();
    if (question && !(await ask(t("Send this message?"), question.text, question.yes))) {
      say(t("Not sent. Your draft is kept."));
      box.focus();
      return;
    }
    sending = true;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    let message;
    try {
      message = await postReply(box.value);
    } catch (failure) {
      complain(t("Not sent"), failure);
      return;
    } finally {
      sending = false;
      button.disabled = contactDeleted;
    }
    if (!message) {
      say(t("Not sent. Your draft is kept."));
      box.focus();
      return;
    }
    box.value = "";
    // Shown by the stream already (its "created", perhaps its delivery after): this answer,
    // older, must not replace that (a reply to X stayed "Queued" when it did).
    if (appendMessage(message)) showMessage(message);
    touchItem(message);
    say(t("Reply sent."));
    box.focus();
    // The reply may have moved it to pending: the next change needs its new version.
    refreshConversation();
  }

  function setupReply() {
    const box = document.getElementById("reply-text");
    if (!box) return;
    box.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.isComposing) return;
      event.preventDefault();
      // As the Send reply button does: an empty reply is refused by the field's own check.
      box.form.requestSubmit();
    });
    box.form.addEventListener("submit", (event) => {
      event.preventDefault();
      sendReply(box.form);
    });
  }

  // --- A deleted contact ----------------------------------------------------------------------

  function showDeleted() {
    if (contactDeleted) return;
    contactDeleted = true;
    const notice = document.querySelector(".thread-deleted");
    if (notice) notice.hidden = false;
    const box = document.getElementById("reply-text");
    // Read-only, not disabled: the draft stays visible and can be selected and copied.
    if (box) box.readOnly = true;
    for (const control of document.querySelectorAll(
      "form.reply button, form.status-actions button, form.assign button, form.assign select, " +
      "form.take-back button, form.hand-to-bot button, form.hand-to-bot select",
    )) control.disabled = true;
  }

  // --- Keyboard shortcuts ---------------------------------------------------------------------

  function typing(target) {
    return Boolean(target && target.closest &&
      target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']"));
  }

  function move(step) {
    if (!list) return false;
    const links = [...list.querySelectorAll("li > a")];
    if (!links.length) return false;
    let index = links.indexOf(document.activeElement);
    if (index === -1) {
      const current = links.findIndex((a) => a.getAttribute("aria-current") === "true");
      index = current === -1 ? (step > 0 ? -1 : links.length) : current;
    }
    const next = Math.min(links.length - 1, Math.max(0, index + step));
    links[next].focus();
    return true;
  }

  function showShortcuts() {
    const dialog = document.querySelector(".shortcuts-dialog");
    if (dialog && !dialog.open) dialog.showModal();
  }

  function setupKeyboard() {
    const open = document.querySelector(".shortcuts-open");
    if (open) open.addEventListener("click", showShortcuts);
    document.addEventListener("keydown", (event) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
      if (typing(event.target) || document.querySelector("dialog[open]")) return;
      const inList = list && list.contains(document.activeElement);
      const nowhere = document.activeElement === document.body || !document.activeElement;
      let done = false;
      switch (event.key) {
        case "j":
          done = move(1);
          break;
        case "k":
          done = move(-1);
          break;
        case "ArrowDown":
          done = (inList || nowhere) && move(1);
          break;
        case "ArrowUp":
          done = (inList || nowhere) && move(-1);
          break;
        case "r": {
          const box = document.getElementById("reply-text");
          if (box && !contactDeleted) {
            box.focus();
            done = true;
          }
          break;
        }
        case "e":
          if (conv && !contactDeleted && conv.status !== "resolved") {
            setStatus("resolved");
            done = true;
          }
          break;
        case "?":
          showShortcuts();
          done = true;
          break;
        default:
          break;
      }
      if (done) event.preventDefault();
    });
  }

  // --- The stream -----------------------------------------------------------------------------

  function onEvent(event) {
    switch (event.type) {
      case "conversation.created":
      case "conversation.updated": {
        const item = event.conversation;
        if (!item) return;
        placeItem(item, event.type === "conversation.created");
        if (event.type === "conversation.created" && itemNode(item.id)) {
          pageSay(t("New conversation: %(name)s.", { name: item.contact_display_name }));
        }
        if (conv && item.id === conv.id) followConversation(item, event);
        const assigned = (event.changes || {}).assignee_id;
        const byMe = event.actor && event.actor.id === me;
        if (me && assigned && assigned.to === me && !byMe) notifyAssigned(item, event.actor);
        countsSoon();
        break;
      }
      case "message.created":
      case "message.updated": {
        const message = event.message;
        if (!message) return;
        if (event.type === "message.created") {
          touchItem(message);
          const author = message.author || {};
          const added = appendMessage(message);
          if (added && message.internal) {
            say(t("New internal note from %(name)s.", { name: author.name || authorWord(author.kind) }));
          } else if (added && message.direction === "inbound") {
            say(t("New message from %(name)s.", { name: author.name || authorWord(author.kind) }));
            if (!document.hidden) markRead();
          }
        }
        if (thread.list && message.conversation_id === thread.conversation) {
          showMessage(message);
              }
        break;
      }
      case "contact.updated":
        if (event.contact) followContact(event.contact);
        break;
      case "contact.deleted":
        if (list) {
          for (const node of list.querySelectorAll(`li[data-contact-id="${CSS.escape(event.contact_id)}"]`)) swap(node, null);
          showEmpty();
        }
        if (conv && conv.contact_id === event.contact_id) showDeleted();
        countsSoon();
        break;
      case "reload":
        reloadList();
        refreshThread();
        refreshConversation();
        refreshCounts();
        break;
      default:
        break;
    }
  }

  // The contact's name and VIP badge on its conversations in the list.
  function followContact(contact) {
    const heading = document.querySelector(".thread-head h3");
    if (heading && conv && conv.contact_id === contact.id && contact.display_name) {
      heading.textContent = contact.display_name;
    }
    if (!list) return;
    const nodes = list.querySelectorAll(`li[data-contact-id="${CSS.escape(contact.id)}"]`);
    if (!nodes.length) return;
    // A contact group's membership follows its values: only the server can tell.
    if (filters.group || filters.q) reloadListSoon();
    for (const node of nodes) {
      const name = node.querySelector(".item-name");
      if (name && contact.display_name) name.textContent = contact.display_name;
      const badge = node.querySelector(".badge.vip");
      if (contact.vip && !badge) name.after(" ", h("span", { class: "badge vip", text: "VIP" }));
      if (!contact.vip && badge) {
        if (badge.previousSibling && badge.previousSibling.nodeType === Node.TEXT_NODE) badge.previousSibling.remove();
        badge.remove();
      }
    }
  }

  function followConversation(item, event) {
    if (item.version < conv.version) return; // an older state, arriving late
    const before = { ...conv };
    conv.version = item.version;
    conv.status = item.status;
    conv.assignee_id = item.assignee_id;
    conv.team_id = item.team_id;
    conv.bot_id = item.bot_id || null;
    conv.bot_name = item.bot_name || "";
    const changes = event.changes || {};
    const actor = event.actor || null;
    if (changes.status) conv.status_changed_by = actor && actor.kind === "user" ? actor.id : null;
    if (Array.isArray(item.labels)) conv.labels = item.labels;
    else if (changes.labels) refreshConversation(); // list items carry no labels: the detail does
    showConversation();
    if (actor && actor.id === me) return;
    const parts = [];
    if (before.status !== conv.status) parts.push(statusChange(conv.status, actorName(actor)));
    if (conv.bot_id && before.bot_id !== conv.bot_id) {
      parts.push(t("%(name)s is answering this conversation now.", { name: conv.bot_name || t("A bot") }));
    } else if (before.bot_id && !conv.bot_id && !conv.assignee_id) {
      parts.push(t("%(name)s handed this conversation back.", { name: before.bot_name || t("A bot") }));
    } else if (before.assignee_id !== conv.assignee_id) {
      const took = actor && actor.kind === "user" && actor.id === conv.assignee_id;
      if (took) parts.push(t("%(name)s took this conversation.", { name: actorName(actor) }));
      else if (conv.assignee_id) {
        parts.push(t("%(name)s assigned this conversation to %(assignee)s.", {
          name: actorName(actor), assignee: personName(conv.assignee_id),
        }));
      } else parts.push(t("%(name)s unassigned this conversation.", { name: actorName(actor) }));
    }
    if (parts.length) say(parts.join(" "));
  }

  function start() {
    setupFilters();
    setupReply();
    setupActions();
    setupKeyboard();
    setupNotifications();
    thread.list = document.querySelector("ol.messages[data-conversation-id]");
    if (thread.list) {
      thread.conversation = thread.list.dataset.conversationId;
      refreshThread();
    }
    if (conv) {
      showConversation();
      markRead();
    }
    refreshCounts();
    if (window.rolodexLive) window.rolodexLive.subscribe(onEvent);
  }

  // Deferred scripts run in order and rolodex.js (its helpers) comes after this one.
  if (document.readyState === "complete" || (document.readyState === "interactive" && window.rolodex)) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
