/* "Add to home screen" (templates/install/_prompt.html). Where the browser offers to
   install the app (beforeinstallprompt), our button asks it; iOS Safari has no such
   event, so its steps are shown instead. Nothing when the app already runs from the
   home screen, or once dismissed or installed on this phone. */
(function () {
  "use strict";
  var KEY = "install_dismissed";
  var offer = null;  // the browser's deferred install prompt

  function box() { return document.querySelector("[data-install]"); }

  function installed() {
    return window.matchMedia("(display-mode: standalone)").matches ||
      navigator.standalone === true;  // iOS's own flag for a home-screen app
  }

  function dismissed() {
    try { return localStorage.getItem(KEY) === "1"; } catch (e) { return false; }
  }

  function remember() {
    try { localStorage.setItem(KEY, "1"); } catch (e) { /* private mode: asks again */ }
  }

  // Safari itself: other iOS browsers and in-app views (WeChat) name Share differently
  // or cannot add to the home screen at all.
  function iosSafari() {
    var ua = navigator.userAgent;
    var ios = /iPhone|iPad|iPod/.test(ua) ||
      (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);  // iPadOS
    return ios && /Safari\//.test(ua) && !/CriOS|FxiOS|EdgiOS|OPiOS|MicroMessenger/.test(ua);
  }

  function show(part) {
    var el = box();
    if (!el || installed() || dismissed()) return false;
    el.querySelector("[data-install-add]").hidden = part !== "prompt";
    el.querySelector("[data-install-ios]").hidden = part !== "ios";
    el.hidden = false;
    return true;
  }

  function hide() {
    var el = box();
    if (el) el.hidden = true;
  }

  window.addEventListener("beforeinstallprompt", function (ev) {
    // Our button replaces the browser's own banner only where the button is shown.
    if (!show("prompt")) return;
    ev.preventDefault();
    offer = ev;
  });

  window.addEventListener("appinstalled", function () {
    remember();
    hide();
  });

  document.addEventListener("click", function (ev) {
    if (ev.target.closest("[data-install-dismiss]")) {
      remember();
      hide();
    } else if (ev.target.closest("[data-install-add]") && offer) {
      var asked = offer;
      offer = null;  // a prompt can be shown once
      asked.prompt();
      asked.userChoice.then(function (choice) {
        if (choice.outcome === "accepted") remember();
        hide();
      });
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    if (iosSafari()) show("ios");
  });
})();
