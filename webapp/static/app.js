/* The page's helpers: command ids made on the device, the outbox for field forms,
   photo resizing, the signature pad. No framework; htmx does the
   partial updates, outbox.js keeps and replays commands. */
(function () {
  "use strict";
  var Outbox = window.Outbox;

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.from(b, function (x) { return x.toString(16).padStart(2, "0"); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" +
      h.slice(16, 20) + "-" + h.slice(20);
  }

  function deviceId() {
    var id = localStorage.getItem("device_id");
    if (!id) { id = uuid(); localStorage.setItem("device_id", id); }
    return id;
  }

  function msg(name) {
    var t = document.querySelector('template[data-msg="' + name + '"]');
    return t.content.firstElementChild.cloneNode(true);
  }

  // The op_id is made once per filled form, on the device: a double tap or a
  // retry sends the same id, so the server applies the command once.
  function stamp(form) {
    var op = form.querySelector("[data-op-id]");
    if (op && !op.value) op.value = uuid();
    var dev = form.querySelector("[data-device-id]");
    if (dev) dev.value = deviceId();
    var t = form.querySelector("[data-device-time]");
    if (t) t.value = new Date().toISOString();
    return op ? op.value : uuid();
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.matches("[data-command]")) return;
    var opId = stamp(form);
    if (form.dataset.sending) { ev.preventDefault(); return; }
    form.dataset.sending = "1";
    form.classList.add("sending");
    if (form.matches("[data-outbox]") && Outbox && window.indexedDB) {
      ev.preventDefault();
      queue(form, opId).catch(function (err) {
        // Storage failed (private mode, disk full): fall back to a plain post.
        console.error(err);
        form.removeAttribute("data-outbox");
        form.submit();
      });
      return;
    }
    setTimeout(function () { delete form.dataset.sending; form.classList.remove("sending"); }, 8000);
  }, true);

  // --- Photos: resized on the phone (long side 1600 px, JPEG) before they are kept.
  var MAX_SIDE = 1600;
  // Whether a JPEG carries an EXIF block (APP1 "Exif\0\0", where cameras write GPS) in
  // its first 64 KB, where the format puts it.
  function hasExif(file) {
    if (!file.slice || !file.slice(0, 1).arrayBuffer) return Promise.resolve(true);
    return file.slice(0, 65536).arrayBuffer().then(function (buf) {
      var b = new Uint8Array(buf);
      for (var i = 2; i + 9 < b.length; i++) {
        if (b[i] === 0xff && b[i + 1] === 0xe1 && b[i + 4] === 0x45 && b[i + 5] === 0x78 &&
            b[i + 6] === 0x69 && b[i + 7] === 0x66 && b[i + 8] === 0 && b[i + 9] === 0) {
          return true;
        }
      }
      return false;
    });
  }
  function resize(file) {
    if (!window.createImageBitmap) return Promise.resolve(file);
    return Promise.all([createImageBitmap(file), hasExif(file)]).then(function (got) {
      var img = got[0];
      var scale = Math.min(1, MAX_SIDE / Math.max(img.width, img.height));
      // A small JPEG is kept as taken, unless it has EXIF: drawn again it keeps only the
      // pixels (upright), no place or camera. The outbox names whichever by its hash.
      if (scale === 1 && file.type === "image/jpeg" && !got[1]) return file;
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(img.width * scale);
      canvas.height = Math.round(img.height * scale);
      canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (b) { resolve(b || file); }, "image/jpeg", 0.85);
      });
    }).catch(function () { return file; });
  }

  function keep(blob, field, item) {
    return Outbox.sha256(blob).then(function (sha) {
      item.blobs.push({ field: field, sha256: sha, blob: blob });
      return sha;
    });
  }

  function collect(form, item) {
    var data = new FormData(form), files = [], hidden = hiddenNames(form);
    data.forEach(function (value, name) {
      if (hidden[name]) return;
      if (value instanceof Blob) {
        if (value.size) files.push([name, value]);
        return;
      }
      if (/^(csrf_token|op_id|device_id|device_time|base_version|signature_data)$/.test(name)) return;
      item.fields[name] = value;
    });
    var steps = files.map(function (f) {
      return resize(f[1]).then(function (blob) { return keep(blob, f[0], item); })
        .then(function (sha) { (item.fields[f[0]] = item.fields[f[0]] || []).push(sha); });
    });
    var pad = form.signaturePad;
    // A drawn signature goes with the form unless its part of the form is hidden.
    if (pad && !pad.isEmpty() && !pad.canvas.closest("[hidden]")) {
      item.fields.strokes = JSON.stringify(pad.toData());
      steps.push(new Promise(function (resolve) {
        pad.canvas.toBlob(resolve, "image/png");
      }).then(function (blob) { return keep(blob, "signature_image", item); })
        .then(function (sha) { item.fields.signature_image = sha; }));
    }
    return Promise.all(steps);
  }

  // Fields only in a hidden part of the form (data-when, for another answer) do not go
  // with it: what was filled in before the answer changed is not what was recorded.
  function hiddenNames(form) {
    var hidden = {};
    form.querySelectorAll("[data-when][hidden] [name]").forEach(function (el) {
      hidden[el.name] = true;
    });
    form.querySelectorAll("[name]").forEach(function (el) {
      if (!el.closest("[data-when][hidden]")) delete hidden[el.name];
    });
    return hidden;
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-client-error]").forEach(function (e) { e.remove(); });
    document.querySelectorAll("[data-queued],[data-rejected],[data-signed-out]")
      .forEach(function (e) { e.remove(); });
  }

  function showErrors(form, errors) {
    Object.keys(errors).forEach(function (name) {
      var field = form.querySelector('[name="' + name + '"]') ||
        form.querySelector("[data-signature-pad]") || form.querySelector("button");
      var p = document.createElement("p");
      p.className = "error"; p.setAttribute("role", "alert");
      p.dataset.error = name; p.dataset.clientError = "";
      p.textContent = errors[name];
      var label = field.closest("label") || field;
      label.insertAdjacentElement("afterend", p);
    });
  }

  function done(form) {
    delete form.dataset.sending;
    form.classList.remove("sending");
  }

  // A field form: keep it on the phone first, then try to send everything waiting.
  function queue(form, opId) {
    var item = {
      op_id: opId, user_id: Number(document.body.dataset.userId) || null,
      kind: form.dataset.command, target: form.dataset.target,
      base_version: Number((form.querySelector("[name=base_version]") || {}).value) || null,
      device_id: deviceId(), device_time: new Date().toISOString(),
      fields: {}, blobs: [], label: form.dataset.label || form.dataset.command,
      subject: form.dataset.subject === undefined ? null : form.dataset.subject,
      return_url: form.dataset.return || location.pathname, queued: false
    };
    clearErrors(form);
    return collect(form, item).then(function () {
      return Outbox.add(item);
    }).then(function () {
      syncSoon();
      return Outbox.flush();
    }).then(function (summary) {
      if (summary && summary.sent) refreshCache(true);  // the saved pages are out of date
      return Outbox.get(opId).then(function (now) { after(form, now, summary); });
    });
  }

  function after(form, item, summary) {
    done(form);
    if (!item) return;
    var res = item.result || {};
    if (item.state === "synced") {
      location.assign(item.return_url || res.redirect || location.pathname);
      return;
    }
    if (item.state === "attention" && res.status === "invalid") {
      // Nothing was stored: the form is still here with what was typed.
      Outbox.remove(item.op_id);
      showErrors(form, res.errors && Object.keys(res.errors).length ? res.errors
        : { form: res.message });
      return;
    }
    if (item.state === "attention") {
      var rej = msg("rejected");
      rej.querySelector("[data-text]").textContent = item.message;
      rej.querySelector("[data-kept]").hidden = !res.kept;
      (form.closest("[data-when-status]") || form).insertAdjacentElement("beforebegin", rej);
      form.hidden = true;
      return;
    }
    // Not sent yet (no signal, or signed out): it waits in the outbox.
    item.queued = true;
    Outbox.put(item);
    // Other forms recording the same thing (the callback's quick answer) go too.
    document.querySelectorAll("form[data-outbox]").forEach(function (other) {
      if (other !== form && other.dataset.target === item.target &&
          other.dataset.command === item.kind) other.hidden = true;
    });
    var note = msg(summary && summary.signedOut ? "signed-out" : "queued");
    var next = note.querySelector("[data-continue]");
    if (next) next.href = item.return_url;
    // Outside the step that is about to be hidden (the next step shows instead).
    (form.closest("[data-when-status]") || form).insertAdjacentElement("beforebegin", note);
    form.hidden = true;
    retryLater();
    window.Queued.show();
  }

  // --- Replay: on load, when the signal is back, on a timer with back-off,
  // and through Background Sync where the browser has it.
  var retryDelay = 5000, retryTimer = null;
  function retryLater() {
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
  }

  function flushNow() {
    if (!Outbox) return Promise.resolve(null);
    return Outbox.all().then(function (items) {
      // Items that waited are marked as replayed for the audit log.
      var waitingItems = items.filter(function (i) { return i.state === "saved" && !i.queued; });
      return Promise.all(waitingItems.map(function (i) { i.queued = true; return Outbox.put(i); }));
    }).then(function () { return Outbox.flush(); }).then(function (s) {
      var signedOut = document.querySelector("[data-outbox-signed-out]");
      if (signedOut) signedOut.hidden = !(s && s.signedOut);
      if (s && s.sent) refreshCache(true);
      return s;
    }).catch(function (e) { console.error(e); return null; });
  }

  function syncSoon() {
    if (!navigator.serviceWorker) return;
    navigator.serviceWorker.ready.then(function (reg) { if (reg.sync) return reg.sync.register("outbox"); })
      .catch(function () { /* Background Sync is optional */ });
  }

  // --- Pending count on every page, offline banner.
  function updateCount() {
    if (!Outbox) return;
    Outbox.pendingCount().then(function (n) {
      document.querySelectorAll("[data-pending-count]").forEach(function (el) { el.textContent = String(n); });
      document.querySelectorAll("[data-pending]").forEach(function (el) { el.classList.toggle("has-items", n > 0); });
    });
    window.Queued.show();
  }

  // --- Deadlines count down on the page (badges.due_badge marks them with data-due-at):
  // a list left open, or a page kept for offline use, shows the time left now.
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

  function updateOnline() {
    var banner = document.querySelector("[data-offline-banner]");
    if (banner) banner.hidden = navigator.onLine;
  }

  document.addEventListener("click", function (ev) {
    if (ev.target.closest("[data-outbox-send]")) flushNow();
  });

  // --- Service worker: cache this worker's pages while online.
  function refreshCache(force) {
    if (!navigator.serviceWorker || !navigator.serviceWorker.controller) return;
    if (!document.body.dataset.userId || !navigator.onLine) return;
    navigator.serviceWorker.controller.postMessage({ type: "refresh", force: !!force });
  }

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
      refreshCache(changed);
    }).catch(function (e) { console.error(e); });
    navigator.serviceWorker.addEventListener("controllerchange", function () {
      refreshCache(true);
    });
    navigator.serviceWorker.addEventListener("message", function (ev) {
      if (!ev.data || ev.data.type !== "cached") return;
      if (typeof ev.data.clock_offset_ms === "number") {
        localStorage.setItem("clock_offset_ms", String(ev.data.clock_offset_ms));
      }
      document.body.dataset.cached = "1";
    });
  }

  // Signing out: the pages and photos kept for this person leave the phone with them
  // (what waits in the outbox stays until they sign in again).
  document.addEventListener("submit", function (ev) {
    if (!ev.target.querySelector("[data-logout]")) return;
    localStorage.removeItem("cached_user");
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "forget" });
    }
  });

  // Parts of a form shown for some answers: data-when="a b" on the value of the
  // radio group named by data-when-field (default "outcome").
  function showWhen(form) {
    form.querySelectorAll("[data-when]").forEach(function (el) {
      var checked = form.querySelector('[name="' + (el.dataset.whenField || "outcome") +
        '"]:checked');
      el.hidden = !checked || el.dataset.when.split(" ").indexOf(checked.value) < 0;
    });
    if (form.fitSignature) form.fitSignature();  // a pad just shown (signature.js)
  }
  document.addEventListener("change", function (ev) {
    var form = ev.target.closest && ev.target.closest("form");
    if (form && form.querySelector("[data-when]")) showWhen(form);
  });

  // A place chosen in the address (from a scanned code) when the page came from the
  // phone's cache, which has no choice made.
  function choosePlaceFromQuery() {
    var q = new URLSearchParams(location.search);
    if (!q.get("place_type") || !q.get("place_id")) return;
    var radio = document.querySelector('[data-place="' + q.get("place_type") + ":" +
      q.get("place_id") + '"]');
    if (radio && !document.querySelector("[data-place]:checked")) radio.checked = true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    // The header's links scroll sideways on a phone: keep this page's in sight.
    var current = document.querySelector(".top nav [aria-current]");
    if (current) current.scrollIntoView({ block: "nearest", inline: "center" });
    choosePlaceFromQuery();
    tickDeadlines();
    setInterval(tickDeadlines, 30000);
    document.addEventListener("htmx:afterSettle", tickDeadlines);
    document.querySelectorAll("form").forEach(function (f) {
      if (f.querySelector("[data-when]")) showWhen(f);
    });
    // Back/Forward: htmx restores a filtered list, not what its controls held.
    document.addEventListener("htmx:historyRestore", function () {
      var params = new URLSearchParams(location.search);
      document.querySelectorAll("form[data-url-filters] [name]").forEach(function (el) {
        el.value = params.get(el.name) ?? (el.tagName === "SELECT" ? el.options[0].value : "");
      });
    });
    updateOnline();
    window.addEventListener("online", function () { updateOnline(); flushNow(); });
    window.addEventListener("offline", updateOnline);
    if (!Outbox || !window.indexedDB) return;
    Outbox.onChange(updateCount);
    updateCount();
    if (navigator.storage && navigator.storage.persist) {
      navigator.storage.persisted().then(function (yes) {
        if (!yes) navigator.storage.persist();
      });
    }
    // Staff phones keep the app offline; a resident reporting from a code does not need it.
    if (document.body.dataset.userId) startServiceWorker();
    flushNow().then(function (s) { if (s && (s.offline || s.signedOut)) retryLater(); });
  });
})();
