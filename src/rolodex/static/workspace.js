// The agent workspace around the Contact tab: the list's filters apply as soon as they change
// (no Filter button), Ctrl+Enter (Cmd+Enter on a Mac) sends the reply being written, and the
// thread shows what the API says of each message: its delivery status (Retry when it failed),
// files still downloading or failed (Retry), and reactions. It asks again while something is
// on its way, less and less often.
"use strict";
(() => {
  const h = (...args) => window.rolodex.h(...args);
  const api = (...args) => window.rolodex.api(...args);
  const t = (...args) => window.rolodex.t(...args);
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

  // --- The thread: delivery, files, reactions ------------------------------------------------

  // Seconds between looks while a message or a file is on its way (the last one repeats).
  const POLL_SECONDS = [1, 1.5, 2, 3, 5, 8, 13, 20];
  const WAITING = new Set(["queued", "sent", "delivered"]);
  const thread = {
    list: null, conversation: "", round: 0, timer: null, seen: new Map(), loaded: false,
  };

  // (rolodex.js runs after this file: its helpers are used only once the page has loaded.)
  function deliveryWords(delivery) {
    const words = {
      queued: t("Queued"), sent: t("Sent"), delivered: t("Delivered"), read: t("Read"),
    };
    if (delivery.status !== "failed") return words[delivery.status] || delivery.status;
    const error = delivery.error;
    if (!error) return t("Failed");
    return t("Failed: %(title)s (%(code)s)", { title: error.title, code: error.code });
  }

  // Platform codes whose meaning a person needs in plain words.
  function explanation(code) {
    const known = {
      131047: t("More than 24 hours have passed since this person last wrote: WhatsApp only allows a template message now."),
    };
    return known[code] || "";
  }

  function authorWord(kind) {
    const words = { contact: t("Contact"), agent: t("Agent"), bot: t("Bot"), system: t("System") };
    return words[kind] || kind;
  }

  function say(text) {
    const line = document.querySelector(".thread-status");
    const alert = document.querySelector(".thread-error");
    if (alert) {
      alert.hidden = true;
      alert.textContent = "";
    }
    if (line) line.textContent = text;
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

  // After Retry its button is gone: the keyboard goes to the first of `focusIds` still shown.
  async function retry(path, done, ...focusIds) {
    try {
      await api("POST", path);
    } catch (failure) {
      complain(t("Not retried"), failure);
      return;
    }
    say(done);
    thread.round = 0;
    await refreshThread();
    const again = focusIds.map((id) => document.getElementById(id)).find(Boolean);
    if (again) again.focus();
  }

  function deliveryBlock(message) {
    const delivery = message.delivery;
    if (!delivery || message.direction !== "outbound") return [];
    const id = `delivery-${message.id}`;
    const failed = delivery.status === "failed";
    const why = failed && delivery.error ? explanation(delivery.error.code) : "";
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

  function showAttachment(attachment) {
    const line = thread.list.querySelector(`[data-attachment-id="${CSS.escape(attachment.id)}"]`);
    if (!line) return;
    const old = line.querySelector(".attachment-state");
    if (old) old.remove();
    const label = document.getElementById(`attachment-${attachment.id}`);
    if (label) {
      const values = { filename: attachment.filename, size: attachment.size };
      label.textContent = attachment.status === "stored"
        ? t("Attachment: %(filename)s (%(size)s bytes)", values)
        : t("Attachment: %(filename)s", values);
    }
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

  function showMessage(message) {
    const item = thread.list.querySelector(`[data-message-id="${CSS.escape(message.id)}"]`);
    if (!item) return;
    // Redrawn only when it changed: a person reading (or on a button) is not disturbed.
    const signature = JSON.stringify([message.delivery, message.reactions, message.attachments]);
    if (thread.seen.get(message.id) === signature) return;
    thread.seen.set(message.id, signature);
    const slot = item.querySelector(".message-state");
    const parts = [...deliveryBlock(message), ...reactionsBlock(message)].filter(Boolean);
    if (slot) slot.replaceChildren(...parts);
    for (const attachment of message.attachments || []) showAttachment(attachment);
  }

  function waiting(messages) {
    return messages.some((m) =>
      (m.delivery && m.direction === "outbound" && WAITING.has(m.delivery.status)) ||
      (m.attachments || []).some((a) => a.status === "pending"));
  }

  function schedule(delaySeconds) {
    clearTimeout(thread.timer);
    thread.timer = setTimeout(refreshThread, delaySeconds * 1000);
  }

  async function refreshThread() {
    clearTimeout(thread.timer);
    // A tab in the background is not asked about; it catches up when shown again.
    if (document.hidden && thread.loaded) return;
    let page;
    try {
      const id = encodeURIComponent(thread.conversation);
      page = await api("GET", `/api/v1/conversations/${id}/messages?limit=200`);
    } catch {
      // Offline for a moment, or signed out: try again later, as slowly as when idle.
      schedule(POLL_SECONDS[POLL_SECONDS.length - 1]);
      return;
    }
    thread.loaded = true;
    for (const message of page.items) showMessage(message);
    if (waiting(page.items)) {
      schedule(POLL_SECONDS[Math.min(thread.round, POLL_SECONDS.length - 1)]);
      thread.round += 1;
    }
  }

  function setupThread() {
    thread.list = document.querySelector("ol.messages[data-conversation-id]");
    if (!thread.list) return;
    thread.conversation = thread.list.dataset.conversationId;
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) return;
      thread.round = 0;
      refreshThread();
    });
    // Deferred scripts run in order and rolodex.js (its API helper) comes after this one.
    if (window.rolodex) refreshThread();
    else document.addEventListener("DOMContentLoaded", refreshThread, { once: true });
  }

  function start() {
    setupFilters();
    setupReply();
    setupThread();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
