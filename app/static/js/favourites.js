/* Hearts on the client gallery: each [data-favourite] form posts the state it asks for
   (favourite_routes.py) and the page updates in place; without this script the form posts and
   the page comes back. A visitor who has not registered is told to register, here.
   Other scripts (the lightbox) call window.proofsheetFavourites.toggle(photoId) and listen to
   the "favourite-changed" event ({photoId, favourite}) on document. */
(function () {
  "use strict";
  var notice = document.querySelector("[data-favourite-notice]");
  var counter = document.querySelector("[data-favourite-count]");

  function formFor(photoId) {
    var button = document.querySelector("form[data-favourite] button[data-photo-id='" + photoId + "']");
    return button ? button.form : null;
  }

  function show(form, favourite) {
    var button = form.querySelector("button");
    var was = button.getAttribute("aria-pressed") === "true";
    button.setAttribute("aria-pressed", favourite ? "true" : "false");
    form.elements.favourite.value = favourite ? "0" : "1";
    if (counter && was !== favourite) {
      counter.textContent = String(Number(counter.textContent) + (favourite ? 1 : -1));
    }
    document.dispatchEvent(new CustomEvent("favourite-changed", {
      detail: { photoId: button.dataset.photoId, favourite: favourite },
    }));
  }

  function tell(message) {
    document.dispatchEvent(new CustomEvent("favourite-refused", { detail: { message: message } }));
    if (!notice) return;
    notice.textContent = message;
    notice.hidden = false;
    var register = document.getElementById("register");
    if (register) { register.open = true; }
  }

  function send(form) {
    var button = form.querySelector("button");
    if (button.disabled) return Promise.resolve();
    button.disabled = true;
    return fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (response.ok) show(form, Boolean(answer.favourite));
        else tell(answer.message || form.dataset.failed || "");
      });
    }).catch(function () {
      form.submit();  // offline or odd answer: let the browser try the plain way
    }).finally(function () {
      button.disabled = false;
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.matches("form[data-favourite]")) return;
    event.preventDefault();
    send(form);
  });

  window.proofsheetFavourites = {
    isFavourite: function (photoId) {
      var form = formFor(photoId);
      return Boolean(form && form.querySelector("button").getAttribute("aria-pressed") === "true");
    },
    toggle: function (photoId) {
      var form = formFor(photoId);
      return form ? send(form) : Promise.resolve();
    },
  };
})();
