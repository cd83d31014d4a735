/* The service worker (sw.js) on staff phones: registered once the page has loaded,
   asked for fresh copies of the saved pages when the language or the person changes,
   and told to forget them on signing out. A resident reporting from a code does not
   need it. */
(function () {
  "use strict";
  var App = window.App;

  function startServiceWorker() {
    if (!navigator.serviceWorker) return;
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function () {
      // A new language, or another person on this phone: the saved pages are the old
      // one's, fetch them again now.
      var changed = false;
      [["lang", document.documentElement.lang], ["cached_user", document.body.dataset.userId]]
        .forEach(function (pair) {
          var had = localStorage.getItem(pair[0]);
          localStorage.setItem(pair[0], pair[1]);
          changed = changed || (had !== null && had !== pair[1]);
        });
      App.refreshCache(changed);
    }).catch(function (e) { console.error(e); });
    navigator.serviceWorker.addEventListener("controllerchange", function () {
      App.refreshCache(true);
    });
    navigator.serviceWorker.addEventListener("message", function (ev) {
      if (!ev.data || ev.data.type !== "cached") return;
      if (typeof ev.data.clock_offset_ms === "number") {
        localStorage.setItem("clock_offset_ms", String(ev.data.clock_offset_ms));
      }
      document.body.dataset.cached = "1";
    });
  }

  // Signing out: the pages, photos and drafts kept for this person leave the phone with
  // them (what waits in the outbox stays until they sign in again).
  document.addEventListener("submit", function (ev) {
    if (!ev.target.querySelector("[data-logout]")) return;
    localStorage.removeItem("cached_user");
    if (window.App.dropAllDrafts) window.App.dropAllDrafts();
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "forget" });
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    // Pages kept offline need the outbox too: no worker where it cannot be stored.
    if (!window.Outbox || !window.indexedDB) return;
    if (document.body.dataset.userId) startServiceWorker();
  });
})();
