/* The header's links scroll sideways on a phone: keep this page's (aria-current) in
   sight. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var current = document.querySelector(".top nav [aria-current]");
    if (current) current.scrollIntoView({ block: "nearest", inline: "center" });
  });
})();
