/* The gallery page's photos grid: drag to reorder (saved on drop), and the copy-link button. */
(function () {
  "use strict";
  var grid = document.querySelector("[data-photo-grid]");
  var form = document.querySelector("[data-reorder]");
  var statusLine = document.querySelector("[data-reorder-status]");
  var dragged = null;

  function say(message, failed) {
    if (!statusLine) return;
    statusLine.textContent = message;
    statusLine.classList.toggle("error", !!failed);
  }

  function currentOrder() {
    return Array.prototype.map.call(grid.querySelectorAll("[data-photo-id]"), function (figure) {
      return figure.dataset.photoId;
    }).join(",");
  }

  function save() {
    var body = new URLSearchParams();
    body.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
    body.append("order", currentOrder());
    say(form.dataset.saving || "…");
    fetch(form.action, {method: "POST", body: body, headers: {"Accept": "application/json"},
                        credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (answer) { say(answer.message, !answer.ok); })
      .catch(function () { say(form.dataset.failed || "Could not save the order.", true); });
  }

  if (grid && form) {
    grid.addEventListener("dragstart", function (event) {
      dragged = event.target.closest("[data-photo-id]");
      if (!dragged) return;
      dragged.classList.add("is-dragged");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.dataset.photoId);
    });
    grid.addEventListener("dragover", function (event) {
      var target = event.target.closest("[data-photo-id]");
      if (!dragged || !target || target === dragged) return;
      event.preventDefault();
      var box = target.getBoundingClientRect();
      var after = event.clientX > box.left + box.width / 2;
      target.parentNode.insertBefore(dragged, after ? target.nextSibling : target);
    });
    grid.addEventListener("drop", function (event) { if (dragged) event.preventDefault(); });
    grid.addEventListener("dragend", function () {
      if (!dragged) return;
      dragged.classList.remove("is-dragged");
      dragged = null;
      if (currentOrder() !== form.elements.order.value) {
        form.elements.order.value = currentOrder();
        save();
      }
    });
    document.addEventListener("photos:changed", function () { form.elements.order.value = currentOrder(); });
    // Keyboard users: focus a photo, then Alt + arrow keys move it one place.
    grid.addEventListener("keydown", function (event) {
      var figure = event.target.closest("[data-photo-id]");
      if (!figure || !event.altKey || event.target !== figure) return;
      var before = event.key === "ArrowLeft" || event.key === "ArrowUp";
      var after = event.key === "ArrowRight" || event.key === "ArrowDown";
      if (before && figure.previousElementSibling) {
        grid.insertBefore(figure, figure.previousElementSibling);
      } else if (after && figure.nextElementSibling) {
        grid.insertBefore(figure.nextElementSibling, figure);
      } else {
        return;
      }
      event.preventDefault();
      figure.focus();
      form.elements.order.value = currentOrder();
      save();
    });
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.dataset.copy).then(function () {
        var label = button.textContent;
        button.textContent = "✓";
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  });
})();
