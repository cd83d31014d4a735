/* Sending what waits in the outbox (outbox.js): on load, when the signal is back, on the
   "send now" button (data-outbox-send), on a timer with back-off, and through Background
   Sync where the browser has it. outbox-form.js calls App.syncSoon and App.retryLater. */
(function () {
  "use strict";
  var App = window.App, Outbox = window.Outbox;

  var retryDelay = 5000, retryTimer = null;
  App.retryLater = function retryLater() {
    if (retryTimer) return;
    retryTimer = setTimeout(function () {
      retryTimer = null;
      flushNow().then(function (s) {
        if (s && (s.offline || s.signedOut)) {
          retryDelay = Math.min(retryDelay * 2, 300000);
          retryLater();
        } else {
          retryDelay = 5000;
        }
      });
    }, retryDelay);
  };

  function flushNow() {
    if (!Outbox) return Promise.resolve(null);
    return Outbox.all().then(function (items) {
      // Items that waited are marked as replayed for the audit log.
      var waitingItems = items.filter(function (i) { return i.state === "saved" && !i.queued; });
      return Promise.all(waitingItems.map(function (i) { i.queued = true; return Outbox.put(i); }));
    }).then(function () { return Outbox.flush(); }).then(function (s) {
      var signedOut = document.querySelector("[data-outbox-signed-out]");
      if (signedOut) signedOut.hidden = !(s && s.signedOut);
      if (s && s.sent) App.refreshCache(true);
      return s;
    }).catch(function (e) { console.error(e); return null; });
  }
  App.flushNow = flushNow;

  App.syncSoon = function () {
    if (!navigator.serviceWorker) return;
    navigator.serviceWorker.ready.then(function (reg) { if (reg.sync) return reg.sync.register("outbox"); })
      .catch(function () { /* Background Sync is optional */ });
  };

  document.addEventListener("click", function (ev) {
    if (ev.target.closest("[data-outbox-send]")) flushNow();
  });

  document.addEventListener("DOMContentLoaded", function () {
    window.addEventListener("online", function () { flushNow(); });
    if (!Outbox || !window.indexedDB) return;
    if (navigator.storage && navigator.storage.persist) {
      navigator.storage.persisted().then(function (yes) {
        if (!yes) navigator.storage.persist();
      });
    }
    flushNow().then(function (s) { if (s && (s.offline || s.signedOut)) App.retryLater(); });
  });
})();
