/* Parts of a form shown for some answers: data-when="a b" on the value of the radio
   group named by data-when-field (default "outcome"). */
(function () {
  "use strict";

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

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(function (f) {
      if (f.querySelector("[data-when]")) showWhen(f);
    });
  });
})();
