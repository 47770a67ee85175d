// The workspace's live feed: one EventSource on GET /api/v1/stream (the session cookie), shared
// by every script of the page. The browser reconnects by itself and resumes with Last-Event-ID;
// after a gap that could not be bridged (a `reload` event, or a connection closed for good and
// opened again) listeners are told to reload their data. <html data-live> says "open" or
// "connecting" (tests wait on it).
"use strict";
(() => {
  const TYPES = [
    "conversation.created", "conversation.updated", "message.created", "message.updated",
    "contact.updated", "contact.deleted", "reload",
  ];
  const listeners = new Set();
  let source = null;
  let retryDelay = 5; // seconds before opening a stream the server closed

  function dispatch(data) {
    for (const listener of listeners) {
      try {
        listener(data);
      } catch (error) {
        // One page part failing must not stop the others from following the stream.
        console.error(error);
      }
    }
  }

  function state(value) {
    document.documentElement.dataset.live = value;
  }

  function connect() {
    if (source || !("EventSource" in window)) return;
    state("connecting");
    source = new EventSource("/api/v1/stream");
    // After a drop the browser resumes with Last-Event-ID; the server says `reload` when it
    // cannot replay what was missed.
    source.addEventListener("open", () => {
      state("open");
      retryDelay = 5;
    });
    source.addEventListener("error", (event) => {
      state("connecting");
      if (event.target.readyState === EventSource.CLOSED && event.target === source) {
        // Closed for good (signed out, or the server refused): try again later and later.
        source = null;
        setTimeout(() => { connect(); dispatch({ type: "reload" }); }, retryDelay * 1000);
        retryDelay = Math.min(retryDelay * 2, 60);
      }
    });
    for (const type of TYPES) {
      source.addEventListener(type, (event) => {
        let data;
        try {
          data = JSON.parse(event.data);
        } catch {
          return;
        }
        dispatch({ ...data, type: data.type || type });
      });
    }
  }

  window.rolodexLive = {
    // Call `listener(data)` for every event of the stream (data.type says which).
    subscribe(listener) {
      listeners.add(listener);
      connect();
      return () => listeners.delete(listener);
    },
  };
})();
