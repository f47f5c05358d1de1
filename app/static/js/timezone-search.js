/* A search box above each select marked data-timezone-search: typing narrows its options to
   the timezones whose name holds every word typed ("new york", "stockholm", "america/"). Without
   JavaScript the plain select still works. The box's label and placeholder come from the
   select's data-search-label and data-search-placeholder (translated by the page). */
(function () {
  "use strict";

  function words(text) {
    return text.toLowerCase().replace(/[_/]+/g, " ").split(/\s+/).filter(Boolean);
  }

  function enhance(select, index) {
    var all = Array.prototype.slice.call(select.options);
    var search = document.createElement("input");
    search.type = "search";
    search.id = (select.id || "timezone-" + index) + "-search";
    search.className = "timezone-search";
    search.autocomplete = "off";
    search.placeholder = select.dataset.searchPlaceholder || "";
    search.setAttribute("aria-controls", select.id);
    var label = document.createElement("label");
    label.htmlFor = search.id;
    label.className = "visually-hidden";
    label.textContent = select.dataset.searchLabel || "Search";
    select.parentNode.insertBefore(label, select);
    select.parentNode.insertBefore(search, select);

    search.addEventListener("input", function () {
      var wanted = words(search.value);
      var chosen = select.value;
      var matches = all.filter(function (option) {
        var haystack = (option.value + " " + option.text).toLowerCase().replace(/[_/]+/g, " ");
        return wanted.every(function (word) { return haystack.indexOf(word) !== -1; });
      });
      // Safari ignores hidden options: the list is rebuilt from the matches instead.
      select.textContent = "";
      (matches.length ? matches : all).forEach(function (option) { select.appendChild(option); });
      var kept = matches.some(function (option) { return option.value === chosen; });
      select.value = kept || !matches.length ? chosen : matches[0].value;
      select.classList.toggle("no-match", !matches.length);
    });
    // Enter picks the first match rather than sending the form half filled.
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        select.focus();
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("select[data-timezone-search]"), enhance);
})();
