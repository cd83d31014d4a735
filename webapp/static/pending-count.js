/* How many commands wait on this phone, in every page's header (data-pending-count,
   data-pending), and what pages show of them (queued.js), kept current as the outbox
   changes. */
(function () {
  "use strict";
  var Outbox = window.Outbox;

  function updateCount() {
    if (!Outbox) return;
    Outbox.pendingCount().then(function (n) {
      document.querySelectorAll("[data-pending-count]").forEach(function (el) { el.textContent = String(n); });
      document.querySelectorAll("[data-pending]").forEach(function (el) { el.classList.toggle("has-items", n > 0); });
    });
    window.Queued.show();
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!Outbox || !window.indexedDB) return;
    Outbox.onChange(updateCount);
    updateCount();
  });
})();
