/* A place chosen in the address (from a scanned code, ?place_type=&place_id=) when the
   page came from the phone's cache, which has no choice made: its data-place radio is
   checked. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var q = new URLSearchParams(location.search);
    if (!q.get("place_type") || !q.get("place_id")) return;
    var radio = document.querySelector('[data-place="' + q.get("place_type") + ":" +
      q.get("place_id") + '"]');
    if (radio && !document.querySelector("[data-place]:checked")) radio.checked = true;
  });
})();
