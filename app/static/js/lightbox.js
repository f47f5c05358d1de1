/* The client gallery's lightbox, a modal dialog: click, Enter or Space on a photo opens its
   preview; arrows, swipes (touch, pen or mouse drag) and the ‹ › buttons move; Escape closes and
   focus goes back to the photo. Focus stays inside while it is open. The heart follows the
   grid's (favourites.js); the buy form adds the photo shown to the cart without leaving
   (add_to_cart answers JSON) and says so here. */
(function () {
  "use strict";
  var grid = document.querySelector("[data-lightbox]");
  var box = document.querySelector(".lightbox");
  if (!grid || !box) return;
  var images = Array.from(grid.querySelectorAll("img[data-preview]"));
  var big = box.querySelector(".lb-stage img");
  var stage = box.querySelector(".lb-stage");
  var caption = box.querySelector(".lb-caption");
  var heart = box.querySelector(".lb-heart");
  var buy = box.querySelector("[data-lightbox-buy] form");
  var message = box.querySelector("[data-lb-message]");
  var cartLink = box.querySelector("[data-lb-cart]");
  var SWIPE = 40;  // px: shorter moves are taps or a shaky hand
  var index = 0;
  var opener = null;

  function currentId() { return images[index].dataset.photoId; }

  function say(text, ok) {
    if (!message) return;
    message.textContent = text || "";
    message.className = ok ? "ok" : (text ? "error" : "");
    if (cartLink) cartLink.hidden = !ok;
  }

  function syncHeart() {
    if (!heart) return;
    var favourites = window.proofsheetFavourites;
    heart.setAttribute("aria-pressed", favourites && favourites.isFavourite(currentId()) ? "true" : "false");
  }

  function show(i) {
    index = (i + images.length) % images.length;
    big.src = images[index].dataset.preview;
    big.alt = images[index].alt;
    caption.textContent = (index + 1) + " / " + images.length;
    if (buy) buy.elements.photo_id.value = currentId();
    say("");
    syncHeart();
    // Warm the next preview so moving on feels instant.
    var next = images[(index + 1) % images.length];
    if (next) { var warm = new Image(); warm.src = next.dataset.preview; }
  }

  function open(i) {
    opener = document.activeElement;
    box.hidden = false;
    box.classList.add("open");
    document.documentElement.classList.add("lightbox-open");  // no page scroll behind it
    show(i);
    box.querySelector(".lb-close").focus();
  }

  function close() {
    box.classList.remove("open");
    box.hidden = true;
    document.documentElement.classList.remove("lightbox-open");
    big.removeAttribute("src");
    if (opener && opener.focus) opener.focus();
  }

  function focusable() {
    return Array.from(box.querySelectorAll("button, select, input:not([type=hidden]), a[href]"))
      .filter(function (element) { return !element.disabled && element.offsetParent !== null; });
  }

  function trapTab(event) {
    var items = focusable();
    if (!items.length) return;
    var at = items.indexOf(document.activeElement);
    event.preventDefault();
    items[(at + (event.shiftKey ? -1 : 1) + items.length) % items.length].focus();
  }

  images.forEach(function (img, i) {
    img.addEventListener("click", function () { open(i); });
    img.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); open(i); }
    });
  });
  box.querySelector(".lb-close").addEventListener("click", close);
  box.querySelector(".lb-prev").addEventListener("click", function () { show(index - 1); });
  box.querySelector(".lb-next").addEventListener("click", function () { show(index + 1); });
  box.addEventListener("click", function (event) {
    if (swiped) { swiped = false; return; }  // a mouse drag ends in a click: not a "close"
    if (event.target === box || event.target === stage) close();
    if (event.target.closest("[data-lb-register]")) {
      close();
      var register = document.getElementById("register");
      if (register) register.open = true;
    }
  });

  document.addEventListener("keydown", function (event) {
    if (box.hidden) return;
    // Arrows inside the product list or the quantity change them, not the photo.
    var typing = event.target.closest && event.target.closest("select, input, textarea");
    if (event.key === "Escape") close();
    else if (event.key === "ArrowRight" && !typing) show(index + 1);
    else if (event.key === "ArrowLeft" && !typing) show(index - 1);
    else if (event.key === "Tab") trapTab(event);
  });

  // Swipe: pointer events cover touch, pen and mouse alike; the stage lets the browser pan
  // vertically only (touch-action in app.css), so a sideways move reaches us.
  var start = null;
  var swiped = false;
  stage.addEventListener("pointerdown", function (event) {
    start = { x: event.clientX, y: event.clientY, id: event.pointerId };
    swiped = false;
  });
  stage.addEventListener("pointerup", function (event) {
    if (!start || start.id !== event.pointerId) return;
    var dx = event.clientX - start.x;
    var dy = event.clientY - start.y;
    start = null;
    if (Math.abs(dx) >= SWIPE && Math.abs(dx) > Math.abs(dy)) {
      swiped = true;
      show(index + (dx < 0 ? 1 : -1));
    }
  });
  stage.addEventListener("pointercancel", function () { start = null; });
  big.addEventListener("dragstart", function (event) { event.preventDefault(); });

  if (heart) {
    heart.addEventListener("click", function () {
      if (window.proofsheetFavourites) window.proofsheetFavourites.toggle(currentId());
    });
    document.addEventListener("favourite-changed", function (event) {
      if (!box.hidden && event.detail.photoId === currentId()) syncHeart();
    });
    document.addEventListener("favourite-refused", function (event) {
      if (box.hidden) return;
      if (message) { say(event.detail.message, false); return; }
      // A visitor: the registration form is on the page, behind the dialog.
      close();
      var register = document.getElementById("register");
      if (register) register.scrollIntoView({ block: "start" });
    });
  }

  if (buy) {
    buy.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = buy.querySelector("button[type=submit]");
      button.disabled = true;
      fetch(buy.action, {
        method: "POST",
        body: new FormData(buy),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      }).then(function (response) {
        return response.json().then(function (answer) { say(answer.message, response.ok && answer.ok); });
      }).catch(function () {
        buy.submit();  // no JSON (a proxy, an error page): the plain form still works
      }).finally(function () {
        button.disabled = false;
      });
    });
  }
})();
