/* Email settings: suggest the usual port when the security mode changes (587 STARTTLS,
   465 SSL/TLS, 25 none), unless the photographer typed another one. */
(function () {
  "use strict";
  var security = document.querySelector("[data-mail-settings] select[name=security]");
  var port = document.querySelector("[data-mail-settings] input[name=smtp_port]");
  var usual = {starttls: "587", ssl: "465", none: "25"};
  if (!security || !port) return;
  security.addEventListener("change", function () {
    if (!port.value || ["25", "465", "587"].indexOf(port.value) >= 0) port.value = usual[security.value];
  });
})();
