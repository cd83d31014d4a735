/* What the page scripts share, on window.App: ids made on the device, the page's
   message templates, and asking the service worker for fresh copies of the saved pages.
   Loaded before the other page scripts (views/sync.PAGE_ASSETS: deferred, they run in
   that order), which add their own parts to App (keepForm, flushNow, ...). */
(function () {
  "use strict";
  var App = window.App = window.App || {};

  App.uuid = function () {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.from(b, function (x) { return x.toString(16).padStart(2, "0"); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" +
      h.slice(16, 20) + "-" + h.slice(20);
  };

  App.deviceId = function () {
    var id = localStorage.getItem("device_id");
    if (!id) { id = App.uuid(); localStorage.setItem("device_id", id); }
    return id;
  };

  // A copy of one of the page's messages (_messages.html: template[data-msg]).
  App.msg = function (name) {
    var t = document.querySelector('template[data-msg="' + name + '"]');
    return t.content.firstElementChild.cloneNode(true);
  };

  // The service worker keeps this worker's pages while online (sw-register.js); force:
  // fetch them now, they are out of date.
  App.refreshCache = function (force) {
    if (!navigator.serviceWorker || !navigator.serviceWorker.controller) return;
    if (!document.body.dataset.userId || !navigator.onLine) return;
    navigator.serviceWorker.controller.postMessage({ type: "refresh", force: !!force });
  };
})();
