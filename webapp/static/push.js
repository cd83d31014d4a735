/* Web Push on this phone (templates/push/_subscribe.html): after a tap on
   [data-push-subscribe], ask for permission, subscribe through the service worker with
   the installation's key, and send the subscription to the server; [data-push-unsubscribe]
   undoes it. The box stays hidden where the browser has no Push API (iOS outside the
   home screen, most in-app browsers). */
(function () {
  "use strict";

  function box() { return document.querySelector("[data-push]"); }

  function keyBytes(base64url) {
    var pad = "=".repeat((4 - base64url.length % 4) % 4);
    var raw = atob((base64url + pad).replace(/-/g, "+").replace(/_/g, "/"));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function post(el, url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": el.dataset.pushCsrf },
      body: JSON.stringify(body)
    }).then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r; });
  }

  function show(el, on, message) {
    el.querySelector("[data-push-subscribe]").hidden = on;
    el.querySelector("[data-push-unsubscribe]").hidden = !on;
    el.querySelector("[data-push-status]").textContent = message || "";
  }

  function subscribe(el) {
    return Notification.requestPermission().then(function (answer) {
      if (answer !== "granted") throw new Error("denied");
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      return reg.pushManager.getSubscription().then(function (had) {
        return had || reg.pushManager.subscribe({
          userVisibleOnly: true, applicationServerKey: keyBytes(el.dataset.pushKey)
        });
      });
    }).then(function (sub) {
      return post(el, el.dataset.pushUrl, sub.toJSON());
    }).then(function () {
      show(el, true, el.dataset.msgOn);
    }).catch(function (err) {
      show(el, false, err && err.message === "denied" ? el.dataset.msgDenied : el.dataset.msgFailed);
    });
  }

  function unsubscribe(el) {
    return navigator.serviceWorker.ready.then(function (reg) {
      return reg.pushManager.getSubscription();
    }).then(function (sub) {
      if (!sub) return null;
      return post(el, el.dataset.pushUnsubscribeUrl, { endpoint: sub.endpoint })
        .then(function () { return sub.unsubscribe(); });
    }).then(function () {
      show(el, false, el.dataset.msgOff);
    }).catch(function () {
      show(el, true, el.dataset.msgFailed);
    });
  }

  function start() {
    var el = box();
    if (!el || !("serviceWorker" in navigator) || !("PushManager" in window) ||
        !("Notification" in window)) return;
    el.hidden = false;
    el.querySelector("[data-push-subscribe]").addEventListener("click", function () {
      subscribe(el);
    });
    el.querySelector("[data-push-unsubscribe]").addEventListener("click", function () {
      unsubscribe(el);
    });
    // Already on (this phone subscribed before, permission kept): say so.
    navigator.serviceWorker.ready.then(function (reg) {
      return reg.pushManager.getSubscription();
    }).then(function (sub) {
      if (sub && Notification.permission === "granted") show(el, true, el.dataset.msgOn);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
