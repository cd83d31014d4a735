/* Places: download label sheets with progress shown, and the QR scanner (camera frames or
   a picture, decoded with the vendored jsQR). No framework. */
(function () {
  "use strict";

  // --- Label sheets: the buttons stay disabled and the progress shows until the PDF is in.
  function filename(response) {
    var m = /filename="?([^";]+)"?/.exec(response.headers.get("Content-Disposition") || "");
    return m ? m[1] : "qr-labels.pdf";
  }

  document.addEventListener("click", function (ev) {
    var link = ev.target.closest && ev.target.closest("[data-labels-download]");
    if (!link || !window.fetch || !window.URL || !URL.createObjectURL) return;
    ev.preventDefault();
    var links = document.querySelectorAll("[data-labels-download]");
    var progress = document.querySelector("[data-labels-progress]");
    var error = document.querySelector("[data-labels-error]");
    if (link.getAttribute("aria-disabled") === "true") return;
    links.forEach(function (l) { l.setAttribute("aria-disabled", "true"); });
    link.classList.add("htmx-request");
    progress.hidden = false;
    error.hidden = true;
    fetch(link.href, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      var name = filename(r);
      return r.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var a = document.createElement("a");
        a.href = url; a.download = name; a.hidden = true;
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
      });
    }).catch(function (e) {
      console.error(e);
      error.hidden = false;
    }).then(function () {
      links.forEach(function (l) { l.removeAttribute("aria-disabled"); });
      link.classList.remove("htmx-request");
      progress.hidden = true;
    });
  });

  // --- The scanner.
  var box = document.querySelector("[data-scan]");
  if (!box) return;
  var video = box.querySelector("[data-scan-video]");
  var view = box.querySelector("[data-scan-view]");
  var status = box.querySelector("[data-scan-status]");
  var error = box.querySelector("[data-scan-error]");
  var start = box.querySelector("[data-scan-start]");
  var canvas = document.createElement("canvas");
  var ctx = canvas.getContext("2d", { willReadFrequently: true });
  var stream = null, done = false;

  function say(name, extra) {
    var t = document.querySelector('template[data-scan-msg="' + name + '"]');
    return (t ? t.content.textContent.trim() : name) + (extra ? " " + extra : "");
  }

  function problem(text) {
    error.textContent = text;
    error.hidden = !text;
  }

  // A code of this site opens here (the same host, whatever scheme the label was printed
  // with, so the service worker's saved pages are used offline); anything else is shown.
  function found(text) {
    var url;
    try { url = new URL(text, location.href); } catch (e) { url = null; }
    if (url && /^https?:$/.test(url.protocol) && url.host === location.host) {
      done = true;
      stop();
      status.textContent = say("opening");
      location.assign(url.pathname + url.search + url.hash);
      return true;
    }
    problem(say("foreign", text));
    return false;
  }

  function decode(source, width, height, maxSide, attempts) {
    var scale = Math.min(1, maxSide / Math.max(width, height));
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
    var img = ctx.getImageData(0, 0, canvas.width, canvas.height);
    var code = window.jsQR(img.data, img.width, img.height, { inversionAttempts: attempts });
    return code && code.data ? code.data : null;
  }

  function tick() {
    if (done || !stream) return;
    if (video.readyState >= 2 && video.videoWidth) {
      var text = decode(video, video.videoWidth, video.videoHeight, 640, "dontInvert");
      if (text && found(text)) return;
    }
    setTimeout(tick, 150);
  }

  function stop() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
  }

  function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      status.textContent = say("nocamera");
      return;
    }
    navigator.mediaDevices.getUserMedia({
      video: { facingMode: { ideal: "environment" } }, audio: false
    }).then(function (s) {
      stream = s;
      video.srcObject = s;
      view.hidden = false;
      start.hidden = true;
      status.textContent = say("looking");
      return video.play();
    }).then(tick).catch(function (e) {
      console.error(e);
      stop();
      view.hidden = true;
      // Permission refused: the button asks again. No camera at all: nothing to offer.
      start.hidden = !!e && e.name === "NotFoundError";
      status.textContent = say("nocamera");
    });
  }

  function loadPicture(file) {
    if (window.createImageBitmap) return createImageBitmap(file);
    return new Promise(function (resolve, reject) {
      var img = new Image();
      img.onload = function () { resolve(img); };
      img.onerror = reject;
      img.src = URL.createObjectURL(file);
    });
  }

  box.querySelector("[data-scan-file]").addEventListener("change", function (ev) {
    var file = ev.target.files && ev.target.files[0];
    if (!file) return;
    problem("");
    status.textContent = say("reading");
    loadPicture(file).then(function (img) {
      var w = img.width || img.naturalWidth, h = img.height || img.naturalHeight;
      // A phone photo is large and the code may be small in it: try two sizes.
      var text = decode(img, w, h, 1000, "attemptBoth") || decode(img, w, h, 2000, "attemptBoth");
      if (!text) { problem(say("none")); status.textContent = ""; return; }
      found(text);
    }).catch(function (e) {
      console.error(e);
      problem(say("none"));
    });
  });

  start.addEventListener("click", startCamera);
  window.addEventListener("pagehide", stop);
  if (window.jsQR) startCamera();
})();
