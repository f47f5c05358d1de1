/* Gallery settings form: show the password field only when access asks for a password. */
(function () {
  "use strict";
  var access = document.querySelector("select[name=access]");
  var field = document.querySelector("[data-password-field]");
  if (!access || !field) return;
  function sync() { field.hidden = access.value !== "password"; }
  access.addEventListener("change", sync);
  sync();
})();
