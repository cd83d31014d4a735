// htmx swaps only 2xx answers. A form marked data-swap-status="409 422" also takes those
// answers' bodies (the refusal, the form with its messages) in place, not as an error.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    // The element that sent the request (detail.elt is the swap's target).
    var from = event.detail.requestConfig && event.detail.requestConfig.elt;
    var el = from && from.closest("[data-swap-status]");
    if (!el) return;
    var codes = el.getAttribute("data-swap-status").split(/\s+/);
    if (codes.indexOf(String(event.detail.xhr.status)) >= 0) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
