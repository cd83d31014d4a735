/* Photos of a field form, resized on the phone (long side 1600 px, JPEG) before the
   outbox keeps them (outbox-form.js); one with EXIF is drawn again without it. */
(function () {
  "use strict";
  var MAX_SIDE = 1600;

  // Whether a JPEG carries an EXIF block (APP1 "Exif\0\0", where cameras write GPS) in
  // its first 64 KB, where the format puts it.
  function hasExif(file) {
    if (!file.slice || !file.slice(0, 1).arrayBuffer) return Promise.resolve(true);
    return file.slice(0, 65536).arrayBuffer().then(function (buf) {
      var b = new Uint8Array(buf);
      for (var i = 2; i + 9 < b.length; i++) {
        if (b[i] === 0xff && b[i + 1] === 0xe1 && b[i + 4] === 0x45 && b[i + 5] === 0x78 &&
            b[i + 6] === 0x69 && b[i + 7] === 0x66 && b[i + 8] === 0 && b[i + 9] === 0) {
          return true;
        }
      }
      return false;
    });
  }

  window.App.resizePhoto = function (file) {
    if (!window.createImageBitmap) return Promise.resolve(file);
    return Promise.all([createImageBitmap(file), hasExif(file)]).then(function (got) {
      var img = got[0];
      var scale = Math.min(1, MAX_SIDE / Math.max(img.width, img.height));
      // A small JPEG is kept as taken, unless it has EXIF: drawn again it keeps only the
      // pixels (upright), no place or camera. The outbox names whichever by its hash.
      if (scale === 1 && file.type === "image/jpeg" && !got[1]) return file;
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(img.width * scale);
      canvas.height = Math.round(img.height * scale);
      canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (b) { resolve(b || file); }, "image/jpeg", 0.85);
      });
    }).catch(function () { return file; });
  };
})();
