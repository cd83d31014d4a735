// Live lists (docs/FIELD.md, "Live lists"): a region marked data-live="<version
// address>" data-live-list="<list address>" asks every few seconds for its list's version
// and, only when it differs, fetches the list again and swaps it in (never over a form
// being filled). The same answer carries the bell's unread count; a page with no list
// asks for the bell alone (/live/bell), every 15 s.
(function () {
  "use strict";
  // Every 5 s: a change shows within seconds, at one small read per open list; the
  // figure is in docs/BENCHMARKS.md. After a failed ask, wait longer, up to a minute.
  var EVERY_MS = 5000, MOST_MS = 60000;
  var BELL_MS = 15000;  // a page that keeps no list asks for the bell alone, less often
  var wait = EVERY_MS;
  var timer = null;
  var running = false;
  var signedOut = false;  // the last ask was answered by the sign-in page

  function shownList(region) {
    var list = region.querySelector("[data-live-version]");
    return list && list.getAttribute("data-live-version") ? list : null;
  }

  // The query the shown list was rendered with, and how many rows it shows now.
  function query(region, list) {
    var params = new URLSearchParams(list.getAttribute("data-live-query") || "");
    var count = region.getAttribute("data-live-count");
    if (count) params.set("shown", String(region.querySelectorAll(count).length));
    var text = params.toString();
    return text ? "?" + text : "";
  }

  function edited(el) {
    if (el.type === "checkbox" || el.type === "radio") return el.checked !== el.defaultChecked;
    if (el.tagName === "SELECT") {
      return Array.prototype.some.call(el.options, function (o) {
        return o.selected !== o.defaultSelected;
      });
    }
    if (el.type === "file") return el.files && el.files.length > 0;
    if (el.type === "hidden") return false;  // set by scripts, never typed
    return el.value !== el.defaultValue;
  }

  // Someone is filling a form in the region: focus in it, or input not sent yet.
  function filling(region) {
    var el = document.activeElement;
    if (el && el !== document.body && region.contains(el) &&
        (el.closest("form") || el.matches("input, textarea, select, [contenteditable]"))) {
      return true;
    }
    return Array.prototype.some.call(region.querySelectorAll("input, textarea, select"), edited);
  }

  // htmx requests into a region (a filter, "show more") count as changes to it: a
  // poll that started before one must not swap its older answer over it.
  function touched(event) {
    var target = event.detail && event.detail.target;
    var region = target && target.closest && target.closest("[data-live]");
    if (region) region.liveChanges = (region.liveChanges || 0) + 1;
  }
  document.addEventListener("htmx:beforeRequest", touched);
  document.addEventListener("htmx:afterSwap", touched);

  function get(url, headers) {
    return fetch(url, { credentials: "same-origin", cache: "no-store", headers: headers })
      .then(function (r) {
        // Signed out (the login page) or refused: not a version, try later.
        if (!r.ok || r.redirected) throw Object.assign(new Error("live: " + r.status),
                                                       { signedOut: r.redirected || r.status === 401 });
        return r;
      });
  }

  function check(region) {
    var list = shownList(region);
    if (!list) return Promise.resolve();
    var q = query(region, list);
    var changes = region.liveChanges || 0;
    // Still the list asked about, nobody filling a form in it, no "show more" under way
    // (htmx marks the link it sends with .htmx-request).
    var unchanged = function () {
      return (region.liveChanges || 0) === changes && shownList(region) === list &&
        query(region, list) === q && !filling(region) && !region.querySelector(".htmx-request");
    };
    return get(region.getAttribute("data-live") + q, { Accept: "application/json" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        bell(data.unread);
        if (data.version === list.getAttribute("data-live-version") || !unchanged()) return null;
        return get(region.getAttribute("data-live-list") + q,
                   { "HX-Request": "true", Accept: "text/html" })
          .then(function (r) { return r.text(); })
          .then(function (html) {
            if (unchanged()) htmx.swap(region, html, { swapStyle: "innerHTML" });
          });
      });
  }

  function bell(unread) {
    var link = document.querySelector("[data-bell]");
    if (!link || typeof unread !== "number") return;
    link.setAttribute("data-unread-count", String(unread));
    link.classList.toggle("unread", unread > 0);
    var count = link.querySelector("[data-bell-count]");
    if (count) count.textContent = unread ? (unread > 99 ? "99+" : String(unread)) : "";
  }

  function askBell() {
    var link = document.querySelector("[data-bell-live]");
    return get(link.getAttribute("data-bell-live"), { Accept: "application/json" })
      .then(function (r) { return r.json(); })
      .then(function (data) { bell(data.unread); });
  }

  function every() { return document.querySelector("[data-live]") ? EVERY_MS : BELL_MS; }

  function active() {
    return document.visibilityState === "visible" && navigator.onLine;
  }

  function tick() {
    timer = null;
    if (!active()) return;  // visibilitychange or online starts it again
    running = true;
    var regions = Array.prototype.slice.call(document.querySelectorAll("[data-live]"));
    Promise.all(regions.length ? regions.map(check) : [askBell()]).then(function () {
      wait = every();
      signedOut = false;
    }, function (e) {
      signedOut = !!(e && e.signedOut);
      wait = Math.min(wait * 2, MOST_MS);
    }).then(function () {
      running = false;
      schedule();
    });
  }

  function schedule() {
    if (timer === null && !running && active()) timer = setTimeout(tick, wait);
  }

  // Back in view or back online: look now, rather than after a whole wait.
  function resume() {
    if (!active() || running) return;
    // Signed out: the page shown again will be answered the same; keep the back-off (a
    // phone woken all day would ask each time). Signing in loads a new page.
    if (signedOut) { schedule(); return; }
    if (timer !== null) clearTimeout(timer);
    wait = every();
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!document.querySelector("[data-live], [data-bell-live]") || !window.fetch ||
        !window.htmx) return;
    wait = every();
    document.addEventListener("visibilitychange", resume);
    window.addEventListener("online", resume);
    schedule();
  });
})();
