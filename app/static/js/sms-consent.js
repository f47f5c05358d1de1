/* The SMS consent box of a form with a mobile number: shown once a number is typed (always
   shown without JavaScript). Emptying the number hides the box and unticks it, so a consent is
   never sent without a number. Markup: <div data-sms-consent-for="ID of the phone input">. */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-sms-consent-for]"), function (box) {
    var phone = document.getElementById(box.dataset.smsConsentFor);
    if (!phone) return;
    var checkbox = box.querySelector("input[type=checkbox]");
    function update() {
      var typed = phone.value.trim() !== "";
      box.hidden = !typed;
      if (!typed && checkbox) checkbox.checked = false;
    }
    phone.addEventListener("input", update);
    update();
  });
})();
