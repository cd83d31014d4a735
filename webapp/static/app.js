/* The page's small helpers: command ids made on the device, unit picking, the
   signature pad. No framework; htmx does the partial updates. */
(function () {
  "use strict";

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.from(b, function (x) { return x.toString(16).padStart(2, "0"); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function deviceId() {
    var id = localStorage.getItem("device_id");
    if (!id) { id = uuid(); localStorage.setItem("device_id", id); }
    return id;
  }

  // The op_id is made once per filled form, on the device: a double tap or a
  // retry sends the same id, so the server applies the command once.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.matches("[data-command]")) return;
    var op = form.querySelector("[data-op-id]");
    if (op && !op.value) op.value = uuid();
    var dev = form.querySelector("[data-device-id]");
    if (dev) dev.value = deviceId();
    var t = form.querySelector("[data-device-time]");
    if (t) t.value = new Date().toISOString();
    if (form.dataset.sending) { ev.preventDefault(); return; }
    form.dataset.sending = "1";
    form.classList.add("sending");
    setTimeout(function () { delete form.dataset.sending; form.classList.remove("sending"); }, 8000);
  }, true);

  // Choosing a unit from the search results.
  document.addEventListener("click", function (ev) {
    var pick = ev.target.closest("[data-unit-pick]");
    if (!pick) return;
    var form = pick.closest("form");
    form.querySelector("[data-unit-id]").value = pick.dataset.unitPick;
    form.querySelector("[data-unit-label]").value = pick.dataset.label;
    form.querySelector("[data-unit-query]").value = pick.dataset.label;
    // Offer the resident on record; the desk overwrites it if someone else called.
    var name = form.querySelector("[name=reporter_name]");
    var phone = form.querySelector("[name=reporter_phone]");
    if (name && !name.value) name.value = pick.dataset.surname || "";
    if (phone && !phone.value) phone.value = pick.dataset.phone || "";
    pick.closest("[data-unit-results]").innerHTML = "";
  });

  // Signature pad: strokes and an image go with the form.
  function initSignature() {
    var canvas = document.querySelector("[data-signature-pad]");
    if (!canvas || !window.SignaturePad) return;
    var ratio = Math.max(window.devicePixelRatio || 1, 1);
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    var pad = new SignaturePad(canvas, { backgroundColor: "rgb(255,255,255)" });
    var form = canvas.closest("form");
    form.querySelector("[data-signature-clear]").addEventListener("click", function () { pad.clear(); });
    form.addEventListener("submit", function () {
      if (!pad.isEmpty()) {
        form.querySelector("[data-signature-data]").value = pad.toDataURL("image/png");
        form.querySelector("[data-signature-strokes]").value = JSON.stringify(pad.toData());
      }
    }, true);
    function showOutcome() {
      var chosen = form.querySelector("[name=outcome]:checked").value;
      form.querySelectorAll("[data-when]").forEach(function (el) {
        el.hidden = el.dataset.when.split(" ").indexOf(chosen) < 0;
      });
    }
    form.addEventListener("change", showOutcome);
    showOutcome();
  }
  document.addEventListener("DOMContentLoaded", initSignature);
})();
