/* Back/Forward: htmx restores a filtered list, not what its controls held. A filter
   form marked data-url-filters takes its values from the address again. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.addEventListener("htmx:historyRestore", function () {
      var params = new URLSearchParams(location.search);
      document.querySelectorAll("form[data-url-filters] [name]").forEach(function (el) {
        el.value = params.get(el.name) ?? (el.tagName === "SELECT" ? el.options[0].value : "");
      });
    });
  });
})();
