// A control marked data-autosubmit sends its form when changed (the month pickers of
// the statistics pages). A listener here, not an onchange attribute: the pages' policy
// runs no inline script.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.requestSubmit();
  });
})();
