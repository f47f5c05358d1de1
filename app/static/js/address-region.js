/* The checkout's region field (state, province, oblast...) follows the chosen country: shown
   only for countries whose postal format has one, labelled with the country's own word for it,
   a list where the address data has one, else text. Without JavaScript the field is always
   there with a hint. Markup: <div data-region-for="ID of the country select"
   data-region-fields="ID of a JSON script: {country: {label, required, choices}}">. */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-region-for]"), function (box) {
    var country = document.getElementById(box.dataset.regionFor);
    var data = document.getElementById(box.dataset.regionFields);
    if (!country || !data) return;
    var fields = JSON.parse(data.textContent);
    var label = box.querySelector("label");
    var hint = box.querySelector("[data-region-hint]");
    if (hint) hint.hidden = true;  // the field now appears only where it is asked for

    function control() {
      return box.querySelector("select, input");
    }

    function replaceControl(field) {
      var old = control();
      var typed = old.value;
      var fresh;
      if (field.choices.length) {
        fresh = document.createElement("select");
        fresh.appendChild(new Option("—", ""));
        field.choices.forEach(function (choice) {
          var wanted = typed.toLowerCase();
          var chosen = wanted !== "" && (choice[0].toLowerCase() === wanted || choice[1].toLowerCase() === wanted);
          fresh.appendChild(new Option(choice[1], choice[0], chosen, chosen));
        });
      } else {
        fresh = document.createElement("input");
        fresh.type = "text";
        fresh.maxLength = 120;
        fresh.value = old.tagName === "SELECT" ? "" : typed;
      }
      ["id", "name", "autocomplete"].forEach(function (name) {
        fresh.setAttribute(name, old.getAttribute(name));
      });
      if (old.hasAttribute("aria-invalid")) fresh.setAttribute("aria-invalid", "true");
      old.parentNode.replaceChild(fresh, old);
    }

    function update(first) {
      var field = fields[country.value];
      box.hidden = !field;
      control().disabled = !field;  // a hidden region is not sent
      if (!field) return;
      label.textContent = field.label;
      // The server drew the right control for the country it knew; redraw after a change.
      if (!first || (field.choices.length > 0) !== (control().tagName === "SELECT")) replaceControl(field);
      control().required = field.required;
    }

    country.addEventListener("change", function () { update(false); });
    update(true);
  });
})();
