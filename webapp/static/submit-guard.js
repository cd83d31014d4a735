/* Forms that send a command (data-command): the command's id, the device and its clock
   are stamped on the phone, and a second tap while the form is being sent does nothing.
   A field form (data-outbox) is then kept on the phone instead of posted
   (App.keepForm, outbox-form.js). */
(function () {
  "use strict";
  var App = window.App;

  // The op_id is made once per filled form, on the device: a double tap or a
  // retry sends the same id, so the server applies the command once.
  function stamp(form) {
    var op = form.querySelector("[data-op-id]");
    if (op && !op.value) op.value = App.uuid();
    var dev = form.querySelector("[data-device-id]");
    if (dev) dev.value = App.deviceId();
    var t = form.querySelector("[data-device-time]");
    if (t) t.value = new Date().toISOString();
    return op ? op.value : App.uuid();
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.matches("[data-command]")) return;
    var opId = stamp(form);
    if (form.dataset.sending) { ev.preventDefault(); return; }
    form.dataset.sending = "1";
    form.classList.add("sending");
    if (App.keepForm && App.keepForm(form, opId, ev)) return;
    setTimeout(function () { delete form.dataset.sending; form.classList.remove("sending"); }, 8000);
  }, true);
})();
