// The inspection form's visit time: the phone's clock when the page opened (also when it
// opens from the saved copy offline). The server corrects it by the device's offset.
(function () {
  "use strict";
  var stamp = document.querySelector("[data-stamp-visit]");
  if (stamp) stamp.value = new Date().toISOString();
})();
