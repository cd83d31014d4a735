// The resident's signature on the sign-off and callback forms (signature_pad): the pad
// fits its canvas, and its strokes and image go with the form. show-when.js calls
// form.fitSignature when it shows a hidden pad.
(function () {
  "use strict";

  // --- Signature pad: strokes and an image go with the form.
  function initSignature() {
    var canvas = document.querySelector("[data-signature-pad]");
    if (!canvas || !window.SignaturePad) return;
    var pad = new SignaturePad(canvas, { backgroundColor: "rgb(255,255,255)" });
    fitCanvas(pad);
    // Shown later (queued.js reveals the form once the work is saved) or turned sideways.
    if (window.ResizeObserver) new ResizeObserver(function () { fitCanvas(pad); }).observe(canvas);
    var form = canvas.closest("form");
    form.signaturePad = pad;
    form.querySelector("[data-signature-clear]").addEventListener("click", function () {
      pad.clear();
    });
    form.addEventListener("submit", function () {
      if (!pad.isEmpty()) {
        form.querySelector("[data-signature-data]").value = pad.toDataURL("image/png");
        form.querySelector("[data-signature-strokes]").value = JSON.stringify(pad.toData());
      }
    }, true);
    form.fitSignature = function () { fitCanvas(pad); };
  }

  // The canvas is sized to what it shows; a pad that was hidden is sized when shown.
  function fitCanvas(pad) {
    var canvas = pad.canvas, ratio = Math.max(window.devicePixelRatio || 1, 1);
    var width = Math.round(canvas.offsetWidth * ratio);
    if (!width || canvas.width === width) return;
    canvas.width = width;
    canvas.height = Math.round(canvas.offsetHeight * ratio);
    canvas.getContext("2d").scale(ratio, ratio);
    var strokes = pad.toData();  // what was drawn stays, redrawn at the new size
    pad.clear();
    pad.fromData(strokes);
  }

  document.addEventListener("DOMContentLoaded", initSignature);
})();
