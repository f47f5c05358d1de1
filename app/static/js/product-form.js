/* Product form: show only the fields of the chosen kind (the server ignores the others anyway). */
(function () {
  "use strict";
  var form = document.querySelector("[data-product-form]");
  if (!form) return;
  var kind = form.querySelector("select[name=kind]");
  function sync() {
    form.querySelectorAll("[data-kind-only]").forEach(function (el) {
      el.hidden = el.getAttribute("data-kind-only") !== kind.value;
    });
  }
  kind.addEventListener("change", sync);
  sync();
})();
