/* A field form (data-outbox) is kept in the phone's outbox (outbox.js) before anything
   is sent: its fields, its photos (App.resizePhoto) and the drawn signature as PNG.
   Then everything waiting is sent; what came back is shown on the form (or, sent, the
   page the server named for a data-return-answer form: what it made). The submit guard (submit-guard.js) hands the form over through App.keepForm. */
(function () {
  "use strict";
  var App = window.App, Outbox = window.Outbox;

  // Whether the form is kept on the phone; if so the plain post does not happen.
  App.keepForm = function (form, opId, ev) {
    if (!form.matches("[data-outbox]") || !Outbox || !window.indexedDB) return false;
    ev.preventDefault();
    queue(form, opId).catch(function (err) {
      // Storage failed (private mode, disk full): fall back to a plain post.
      console.error(err);
      form.removeAttribute("data-outbox");
      form.submit();
    });
    return true;
  };

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
      return App.resizePhoto(f[1]).then(function (blob) { return keep(blob, f[0], item); })
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
      device_id: App.deviceId(), device_time: new Date().toISOString(),
      fields: {}, blobs: [], label: form.dataset.label || form.dataset.command,
      subject: form.dataset.subject === undefined ? null : form.dataset.subject,
      return_url: form.dataset.return || location.pathname, queued: false
    };
    clearErrors(form);
    return collect(form, item).then(function () {
      return Outbox.add(item);
    }).then(function () {
      App.dropDraft(form);  // the outbox holds it now
      App.syncSoon();
      return Outbox.flush();
    }).then(function (summary) {
      if (summary && summary.sent) App.refreshCache(true);  // the saved pages are out of date
      return Outbox.get(opId).then(function (now) { after(form, now, summary); });
    });
  }

  function after(form, item, summary) {
    done(form);
    if (!item) return;
    var res = item.result || {};
    if (item.state === "synced") {
      // Never reloaded over what another form holds typed (drafts.js): the page follows.
      if (App.holdsInput(form)) return window.Queued.applied(item);
      location.assign((form.hasAttribute("data-return-answer") && res.redirect) ||  // made now
        item.return_url || res.redirect || location.pathname);
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
      var rej = App.msg("rejected");
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
    var note = App.msg(summary && summary.signedOut ? "signed-out" : "queued");
    var next = note.querySelector("[data-continue]");
    if (next) next.href = item.return_url;
    // Outside the step that is about to be hidden (the next step shows instead).
    (form.closest("[data-when-status]") || form).insertAdjacentElement("beforebegin", note);
    form.hidden = true;
    App.retryLater();
    window.Queued.show();
  }
})();
