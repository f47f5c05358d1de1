/* Order page: show the carrier and tracking fields only for "shipped", the reason only for
   "cancelled". */
(function () {
  "use strict";
  var form = document.querySelector("[data-status-form]");
  if (!form) return;
  var status = form.querySelector("select[name=status]");
  var carrier = form.querySelector("select[name=carrier]");
  function sync() {
    form.querySelectorAll("[data-when-status]").forEach(function (el) {
      el.hidden = el.getAttribute("data-when-status") !== status.value;
    });
    form.querySelectorAll("[data-when-carrier]").forEach(function (el) {
      el.hidden = el.getAttribute("data-when-carrier") !== carrier.value;
    });
  }
  status.addEventListener("change", sync);
  carrier.addEventListener("change", sync);
  sync();
})();
