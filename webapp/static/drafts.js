/* A field form (data-outbox) keeps what is typed in it on the phone as a draft until it
   is sent, so that nothing typed is lost to a reload, a weak signal or a closed tab; a
   reopened page fills the form in again. A form with a draft "holds input": the page
   does not reload itself then (App.holdsInput, outbox-form.js). The outbox takes over
   once the form is kept in it (App.dropDraft). */
(function () {
  "use strict";
  var App = window.App;
  var SKIP = /^(csrf_token|op_id|device_id|device_time|base_version|signature_data|strokes|signature_image)$/;

  function key(form) {
    return "draft:" + (document.body.dataset.userId || "") + ":" +
      form.dataset.command + ":" + (form.dataset.target || location.pathname);
  }

  function typed(el) {
    return el.name && !SKIP.test(el.name) && el.type !== "hidden" && el.type !== "file" &&
      el.type !== "submit" && el.type !== "button";
  }

  function save(form) {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!typed(el)) return;
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) values[el.name] = el.value;
      } else if (el.value) {
        values[el.name] = el.value;
      }
    });
    try {
      if (Object.keys(values).length) localStorage.setItem(key(form), JSON.stringify(values));
      else localStorage.removeItem(key(form));
    } catch (e) { /* storage full or off: the form still works */ }
    form.toggleAttribute("data-draft", Object.keys(values).length > 0);
  }

  function restore(form) {
    var values;
    try { values = JSON.parse(localStorage.getItem(key(form)) || "null"); } catch (e) { values = null; }
    if (!values) return;
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!typed(el) || !(el.name in values)) return;
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = el.value === values[el.name];
      } else if (!el.value || el.tagName === "SELECT") {
        el.value = values[el.name];  // what the server filled in after an error stays
      }
      el.dispatchEvent(new Event("change", { bubbles: true }));  // data-when parts follow
    });
    form.setAttribute("data-draft", "");
  }

  App.dropDraft = function (form) {
    try { localStorage.removeItem(key(form)); } catch (e) { /* nothing kept */ }
    form.removeAttribute("data-draft");
  };

  // Another form on the page (not `except`) holds what was typed and not yet sent.
  App.holdsInput = function (except) {
    return Array.prototype.some.call(document.querySelectorAll("form[data-draft]"),
      function (f) { return f !== except; });
  };

  // Every draft on the phone (sw-register.js, on sign-out: nothing typed stays behind).
  App.dropAllDrafts = function () {
    try {
      Object.keys(localStorage).filter(function (k) { return k.indexOf("draft:") === 0; })
        .forEach(function (k) { localStorage.removeItem(k); });
    } catch (e) { /* storage off: nothing kept */ }
  };

  document.querySelectorAll("form[data-outbox]").forEach(function (form) {
    restore(form);
    form.addEventListener("input", function () { save(form); });
    form.addEventListener("change", function () { save(form); });
  });

  // A form of long text that is not a field form (a report's analysis, data-keep-draft)
  // keeps a draft until it is sent itself: another form's post on the page (issuing the
  // report) reloads the page, which fills it in again. Delegated: htmx swaps such a form
  // in anew after it saves.
  document.querySelectorAll("form[data-keep-draft]").forEach(restore);
  document.addEventListener("input", function (e) {
    var form = e.target.form;
    if (form && form.matches("[data-keep-draft]")) save(form);
  });
  document.addEventListener("submit", function (e) {
    if (e.target.matches("form[data-keep-draft]")) App.dropDraft(e.target);
  }, true);
})();
