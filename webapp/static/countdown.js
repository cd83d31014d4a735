/* Deadlines count down on the page (badges.due_badge marks them with data-due-at, in
   UTC; the words are _messages.html's template[data-msg=due]): a list left open, or a
   page kept for offline use, shows the time left now. */
(function () {
  "use strict";

  function fill(format, values) {
    return format.replace(/\{(\w)\}/g, function (_, k) { return values[k]; });
  }

  function tickDeadlines() {
    var words = document.querySelector('template[data-msg="due"]');
    if (!words) return;
    var w = words.dataset;
    // The server's clock: the phone's, corrected by what the last sync measured.
    var now = Date.now() + (Number(localStorage.getItem("clock_offset_ms")) || 0);
    document.querySelectorAll("[data-due-at]").forEach(function (el) {
      var ms = Date.parse(el.dataset.dueAt) - now;
      var minutes = Math.floor(Math.abs(ms) / 60000);
      var d = Math.floor(minutes / 1440), h = Math.floor(minutes % 1440 / 60), m = minutes % 60;
      var t = d ? fill(w.days, { d: d, h: h }) : h ? fill(w.hours, { h: h, m: String(m).padStart(2, "0") })
        : fill(w.minutes, { m: m });
      var late = ms < 0;
      el.querySelector("[data-due-text]").textContent = fill(late ? w.overdue : w.left, { t: t });
      el.classList.toggle("overdue", late);
      el.dataset.due = late ? "overdue" : "ok";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tickDeadlines();
    setInterval(tickDeadlines, 30000);
    document.addEventListener("htmx:afterSettle", tickDeadlines);
  });
})();
