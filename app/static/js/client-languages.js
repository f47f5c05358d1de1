/* Studio settings: the studio's own language is always offered to clients. Its checkbox is
   ticked and disabled and a hidden input sends it; when another studio language is chosen,
   that one takes the place, and the former one stays ticked (offered) as an ordinary box. */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-client-languages]"), function (set) {
    var select = document.getElementById(set.dataset.defaultFrom);
    var hidden = set.querySelector("[data-default-language]");
    if (!select || !hidden) return;
    select.addEventListener("change", function () {
      Array.prototype.forEach.call(set.querySelectorAll("input[type=checkbox]"), function (box) {
        if (box.value === select.value) {
          box.checked = true;
          box.disabled = true;
        } else if (box.disabled) {
          box.disabled = false;
          box.checked = true;
        }
      });
      hidden.value = select.value;
    });
  });
})();
