/* Sign-up: preselect the browser's timezone. The page marks the select with data-browser-zone
   only on a fresh form, so a choice that came back with the form's errors is kept. */
(function () {
  "use strict";
  var select = document.querySelector("select[data-browser-zone]");
  if (!select) return;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && select.querySelector('option[value="' + zone + '"]')) select.value = zone;
})();
