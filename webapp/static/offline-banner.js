/* The "no signal" banner (data-offline-banner), shown while the phone is offline. */
(function () {
  "use strict";

  function updateOnline() {
    var banner = document.querySelector("[data-offline-banner]");
    if (banner) banner.hidden = navigator.onLine;
  }

  document.addEventListener("DOMContentLoaded", function () {
    updateOnline();
    window.addEventListener("online", updateOnline);
    window.addEventListener("offline", updateOnline);
  });
})();
