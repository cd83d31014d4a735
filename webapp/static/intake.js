/* The intake forms' unit picker (units/_picker.html): a unit chosen from the search
   results fills the form; editing the box afterwards undoes the choice. */
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var pick = ev.target.closest("[data-unit-pick]");
    if (!pick) return;
    var form = pick.closest("form");
    form.querySelector("[data-unit-id]").value = pick.dataset.unitPick;
    form.querySelector("[data-unit-label]").value = pick.dataset.label;
    form.querySelector("[data-unit-query]").value = pick.dataset.label;
    // Offer the resident on record; the desk overwrites it if someone else called.
    form.querySelectorAll("[data-fill]").forEach(function (input) {
      if (!input.value) input.value = pick.dataset[input.dataset.fill] || "";
    });
    pick.closest("[data-unit-results]").innerHTML = "";
  });

  // A unit picked, then the box edited: the pick no longer holds (the server reads
  // what is typed instead).
  document.addEventListener("input", function (ev) {
    if (!ev.target.matches("[data-unit-query]")) return;
    var form = ev.target.closest("form");
    if (ev.target.value !== form.querySelector("[data-unit-label]").value) {
      form.querySelector("[data-unit-id]").value = "";
      form.querySelector("[data-unit-label]").value = "";
    }
  });
})();
