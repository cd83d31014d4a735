/* Sending what waits in the outbox (outbox.js): on load, when the signal is back, on the
   "send now" button (data-outbox-send), on a timer with back-off, and through Background
   Sync where the browser has it. outbox-form.js calls App.syncSoon and App.retryLater. */
(function () {
  "use strict";
  var App = window.App, Outbox = window.Outbox;

  // While the phone has a network but the server does not answer (restarting, a dead
  // Wi-Fi uplink), ask again every 5 s: a failed ask costs nothing, and the outbox goes
  // out within 5 s of the server coming back. With no network at all, wait for the
  // browser's "online" instead. Signed out: the person signs in again, so slowly.
  var RETRY_MS = 5000, SIGNED_OUT_MAX_MS = 300000;
  var retryDelay = RETRY_MS, retryTimer = null;
  App.retryLater = function retryLater() {
    if (retryTimer) return;
    retryTimer = setTimeout(function () {
      retryTimer = null;
      if (!navigator.onLine) return;  // the "online" event sends and retries
      flushNow().then(function (s) {
        if (s && s.signedOut) retryDelay = Math.min(retryDelay * 2, SIGNED_OUT_MAX_MS);
        else retryDelay = RETRY_MS;
        if (s && (s.offline || s.signedOut)) retryLater();
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
    window.addEventListener("online", function () {
      flushNow().then(function (s) { if (s && (s.offline || s.signedOut)) App.retryLater(); });
    });
    if (!Outbox || !window.indexedDB) return;
    if (navigator.storage && navigator.storage.persist) {
      navigator.storage.persisted().then(function (yes) {
        if (!yes) navigator.storage.persist();
      });
    }
    flushNow().then(function (s) { if (s && (s.offline || s.signedOut)) App.retryLater(); });
  });
})();
