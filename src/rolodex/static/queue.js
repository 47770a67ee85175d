// The queue page: choosing a team shows its queue at once (no separate button).
"use strict";
(() => {
  function start() {
    const team = document.getElementById("queue-team");
    if (team) team.addEventListener("change", () => team.form.submit());
  }
  // Deferred like rolodex.js, which comes after this script: start once both have run.
  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
