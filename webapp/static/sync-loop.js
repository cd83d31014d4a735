/* Sending what waits in the outbox (outbox.js): on load, when the signal is back, on the
   "send now" button (data-outbox-send), on a timer with back-off, and through Background
   Sync where the browser has it. outbox-form.js calls App.syncSoon and App.retryLater. */
(function () {
  "use strict";
  var App = window.App, Outbox = window.Outbox;

  // While the phone has a network but the server does not answer (restarting, a dead
  // Wi-Fi uplink), ask again every 5 s for the first two minutes: a server restart is
  // over by then, and the outbox goes out within 5 s of it coming back. Past that the
  // outage is a long one (a dead uplink all afternoon): ask less often, up to once a
  // minute, so a phone left in a pocket does not spend its battery asking; showing the
  // page again asks at once. With no network at all, wait for the browser's "online"
  // instead. Signed out: the person signs in again, so slowly.
  var RETRY_MS = 5000, FAST_FOR_MS = 120000, OFFLINE_MAX_MS = 60000,
    SIGNED_OUT_MAX_MS = 300000;
  var retryDelay = RETRY_MS, retryTimer = null, failingSince = null;
  // The last attempt was answered "signed out". Showing the page or the signal coming back
  // does not sign anyone in: asking at once then would only have a phone woken all day
  // ask again and again. Signing in loads a page, whose first attempt sends at once.
  var signedOut = false;
  App.retryLater = function retryLater() {
    if (retryTimer) return;
    retryTimer = setTimeout(function () {
      retryTimer = null;
      if (!navigator.onLine) return;  // the "online" event sends and retries
      flushNow().then(function (s) {
        var failing = s && (s.offline || s.signedOut);
        if (!failing) { retryDelay = RETRY_MS; failingSince = null; return; }
        failingSince = failingSince || Date.now();
        if (s.signedOut) retryDelay = Math.min(retryDelay * 2, SIGNED_OUT_MAX_MS);
        else if (Date.now() - failingSince >= FAST_FOR_MS) {
          retryDelay = Math.min(Math.round(retryDelay * 1.5), OFFLINE_MAX_MS);
        }
        retryLater();
      });
    }, retryDelay);
  };

  function retryNow() {
    // Signed out: the back-off goes on (a timer stopped with the signal starts again).
    if (signedOut) { App.retryLater(); return; }
    // Back in front of the person: ask now, and quickly again for a while.
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
    retryDelay = RETRY_MS; failingSince = null;
    flushNow().then(function (s) { if (s && (s.offline || s.signedOut)) App.retryLater(); });
  }

  function flushNow() {
    if (!Outbox) return Promise.resolve(null);
    return Outbox.all().then(function (items) {
      // Items that waited are marked as replayed for the audit log.
      var waitingItems = items.filter(function (i) { return i.state === "saved" && !i.queued; });
      return Promise.all(waitingItems.map(function (i) { i.queued = true; return Outbox.put(i); }));
    }).then(function () { return Outbox.flush(); }).then(function (s) {
      signedOut = !!(s && s.signedOut);
      var notice = document.querySelector("[data-outbox-signed-out]");
      if (notice) notice.hidden = !signedOut;
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
    window.addEventListener("online", retryNow);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && retryTimer) retryNow();
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
