// Lightbox for the client gallery: click or Enter opens the preview; arrows move; Escape closes.
(function () {
  "use strict";
  const grid = document.querySelector("[data-lightbox]");
  const box = document.querySelector(".lightbox");
  if (!grid || !box) return;
  const images = Array.from(grid.querySelectorAll("img[data-preview]"));
  const big = box.querySelector("img");
  const caption = box.querySelector(".lb-caption");
  let index = 0;
  let opener = null;

  function show(i) {
    index = (i + images.length) % images.length;
    big.src = images[index].dataset.preview;
    big.alt = images[index].alt;
    caption.textContent = (index + 1) + " / " + images.length;
    // Warm the next preview so moving on feels instant.
    const next = images[(index + 1) % images.length];
    if (next) { const warm = new Image(); warm.src = next.dataset.preview; }
  }
  function open(i) {
    opener = document.activeElement;
    box.hidden = false;
    box.classList.add("open");
    show(i);
    box.querySelector(".lb-close").focus();
  }
  function close() {
    box.classList.remove("open");
    box.hidden = true;
    big.removeAttribute("src");
    if (opener) opener.focus();
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
  box.addEventListener("click", function (event) { if (event.target === box) close(); });
  document.addEventListener("keydown", function (event) {
    if (box.hidden) return;
    if (event.key === "Escape") close();
    else if (event.key === "ArrowRight") show(index + 1);
    else if (event.key === "ArrowLeft") show(index - 1);
    else if (event.key === "Tab") {  // keep focus inside the dialog
      const buttons = Array.from(box.querySelectorAll("button"));
      const at = buttons.indexOf(document.activeElement);
      event.preventDefault();
      buttons[(at + (event.shiftKey ? -1 : 1) + buttons.length) % buttons.length].focus();
    }
  });
})();
