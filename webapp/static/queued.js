/* What pages show of the commands waiting on this phone: the outbox page's list, the
   job page's next step once a step is saved, and on the sign page the work the
   resident signs for. Read from outbox.js's IndexedDB; pending-count.js calls
   Queued.show() whenever the outbox changes, outbox-form.js when a form waits in it. */
(function () {
  "use strict";
  var Outbox = window.Outbox;

  // Waiting to be sent, and recorded by whoever is signed in now (on a shared phone
  // the last person's items wait for them, and are not this person's).
  function waiting(i) {
    return i.state !== "synced" && i.state !== "attention" &&
      String(i.user_id) === document.body.dataset.userId;
  }

  // --- The job page offline: show the next step once this one is in the outbox.
  var NEXT = { "job.claim": "accepted", "job.accept": "accepted", "job.arrive": "arrived",
    "job.pause": "paused", "job.complete": "completed", "job.signoff": "closed",
    "job.decline": "new" };
  function showSteps(items) {
    var box = document.querySelector("[data-job-steps]");
    if (!box) return;
    var status = box.dataset.status, queued = 0;
    items.forEach(function (i) {
      if (i.target === box.dataset.jobSteps && NEXT[i.kind] && waiting(i)) {
        status = NEXT[i.kind]; queued++;
      }
    });
    box.querySelectorAll("[data-when-status]").forEach(function (el) {
      el.hidden = el.dataset.whenStatus.split(" ").indexOf(status) < 0;
    });
    // One notice at a time: the step just saved says so itself.
    var here = box.querySelector("[data-queued-here]");
    if (here) here.hidden = queued === 0 || !!document.querySelector("[data-queued]");
    // The badge says where the saved steps lead, and the server's status again once
    // a saved step is refused.
    var names = document.querySelector("template[data-status-names]");
    var badge = document.querySelector("[data-job-page] .badge[data-status]");
    var name = names && names.content.querySelector('[data-name="' + status + '"]');
    if (badge && name) {
      badge.textContent = name.textContent;
      badge.className = "badge st-" + status;
    }
  }

  // "2026-11-23 08:05", as the server writes times: in the estates' zone (<html data-zone>),
  // whatever zone the phone is set to.
  var zone = document.documentElement.dataset.zone || undefined;
  var parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23"
  });
  function when(iso) {
    var p = {};
    parts.formatToParts(new Date(iso)).forEach(function (x) { p[x.type] = x.value; });
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute;
  }

  // The round: a place inspected with no signal shows so, not "not visited yet".
  function showRound(items) {
    var rows = document.querySelectorAll('[data-round-place][data-visited="0"]');
    if (!rows.length) return;
    rows.forEach(function (row) {
      var saved = items.some(function (i) {
        // ...today: an inspection saved on an earlier day is not this round's.
        return i.kind === "inspection.record" && i.target === row.dataset.roundPlace &&
          waiting(i) && when(i.device_time).slice(0, 10) === when(new Date().toISOString()).slice(0, 10);
      });
      row.querySelector("[data-visited-queued]").hidden = !saved;
      row.querySelector("[data-not-visited]").hidden = saved;
    });
    // The count counts them too.
    document.querySelectorAll("[data-round]").forEach(function (round) {
      var count = round.querySelector("[data-round-progress]");
      var done = round.querySelectorAll('[data-visited="1"]').length +
        round.querySelectorAll("[data-visited-queued]:not([hidden])").length;
      count.textContent = count.dataset.words.replace("{n}", done)
        .replace("{m}", count.dataset.total);
    });
  }

  // Feedback I sent: what waits on the phone, above what reached the server.
  function showFeedback(items) {
    var list = document.querySelector('[data-list="my-feedback"]');
    var tpl = list && list.querySelector("template[data-queued-feedback]");
    if (!tpl) return;
    list.querySelectorAll("[data-queued-feedback-row]").forEach(function (r) { r.remove(); });
    // Each goes right under the template: the newest, added last, ends up on top.
    items.filter(function (i) { return i.kind === "feedback.create" && waiting(i); })
      .forEach(function (i) {
        var row = tpl.content.firstElementChild.cloneNode(true);
        row.querySelector("[data-label]").textContent = i.label;
        row.querySelector("[data-when]").textContent = when(i.device_time);
        row.querySelector("[data-note]").textContent = i.fields.note || "";  // which one
        tpl.after(row);
      });
    var empty = list.querySelector("[data-empty]");
    if (empty) empty.hidden = !!list.querySelector("[data-queued-feedback-row]");
  }
  // The handover log: handovers recorded on this phone and not sent yet, on top.
  function showHandovers(items) {
    var list = document.querySelector("[data-handover-list]");
    var tpl = list && list.querySelector("template[data-queued-handover]");
    if (!tpl) return;
    list.querySelectorAll("[data-queued-handover-row]").forEach(function (r) { r.remove(); });
    items.filter(function (i) { return i.kind === "handover.record" && waiting(i); })
      .forEach(function (i) {
        var row = tpl.content.firstElementChild.cloneNode(true);
        row.querySelector("[data-when]").textContent = when(i.device_time);
        row.querySelector("[data-text]").textContent = (i.fields.happened || "").slice(0, 60);
        tpl.after(row);
      });
    var empty = list.querySelector("[data-empty]");
    if (empty) empty.hidden = !!list.querySelector("[data-queued-handover-row]");
  }

  // The sign page: what the resident signs for, also when it is only on this phone.
  function showQueuedWork(items) {
    var line = document.querySelector("[data-work-done]");
    if (!line) return;
    items.forEach(function (i) {
      if (i.target === line.dataset.workDone && i.kind === "job.complete" &&
          waiting(i) && i.fields.work_done) {
        line.querySelector("[data-work-text]").textContent = i.fields.work_done;
        line.hidden = false;
      }
    });
  }

  // An item named in today's language: what it is about (a job number, a place) and
  // its kind; items saved before items had a subject keep the label they were saved with.
  function label(i, kinds) {
    var name = kinds[i.kind];
    if (!name || i.subject === null || i.subject === undefined) return i.label;
    return i.subject ? i.subject + " · " + name : name;
  }

  // --- The outbox page.
  function renderOutbox(items) {
    var list = document.querySelector("[data-outbox-list]");
    if (!list) return;
    var names = {};
    document.querySelectorAll("[data-state-names] [data-state]").forEach(function (li) {
      names[li.dataset.state] = li.textContent;
    });
    var tpl = document.querySelector("template[data-outbox-item]");
    var kinds = {};
    var named = document.querySelector("template[data-kind-names]");
    if (named) named.content.querySelectorAll("[data-kind]").forEach(function (el) {
      kinds[el.dataset.kind] = el.textContent;
    });
    list.innerHTML = "";
    items.slice().reverse().forEach(function (i) {
      var li = tpl.content.firstElementChild.cloneNode(true);
      li.dataset.opId = i.op_id;
      li.dataset.stateNow = i.state;
      li.querySelector("[data-label]").textContent = label(i, kinds);
      li.querySelector("[data-state]").textContent = names[i.state] || i.state;
      li.querySelector("[data-state]").dataset.state = i.state;
      li.querySelector("[data-when]").textContent = when(i.device_time);
      li.querySelector("[data-message]").textContent = i.message || "";
      var dismiss = li.querySelector("[data-dismiss]");
      dismiss.hidden = i.state !== "attention";
      dismiss.addEventListener("click", function () { Outbox.remove(i.op_id); });
      list.appendChild(li);
    });
    document.querySelector("[data-outbox-empty]").hidden = items.some(function (i) {
      return i.state !== "synced";
    });
  }

  // The outbox is read once for all of them.
  window.Queued = {
    // A step the server applied while the page stays (outbox-form.js does not reload
    // over a form holding input): the page now stands where that step led.
    applied: function (item) {
      var box = document.querySelector("[data-job-steps]");
      if (box && item.target === box.dataset.jobSteps && NEXT[item.kind]) {
        box.dataset.status = NEXT[item.kind];
      }
      this.show();
    },
    show: function () {
      if (!Outbox) return;
      Outbox.all().then(function (items) {
        [renderOutbox, showSteps, showQueuedWork, showRound, showFeedback, showHandovers]
          .forEach(function (show) { show(items); });
      });
    }
  };
})();
