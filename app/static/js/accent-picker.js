// Settings → Branding: the colour picker and the colour typed as text stay in step.
(function () {
  const form = document.querySelector("[data-accent-form]");
  if (!form) return;
  const picker = form.querySelector("input[type=color]");
  const text = form.querySelector("input[name=accent_color]");
  const sixDigits = /^#?([0-9a-f]{6}|[0-9a-f]{3})$/i;
  picker.addEventListener("input", () => {
    text.value = picker.value;
  });
  text.addEventListener("input", () => {
    const typed = text.value.trim();
    const found = sixDigits.exec(typed);
    if (!found) return;
    const digits = found[1].length === 3 ? found[1].replace(/./g, "$&$&") : found[1];
    picker.value = "#" + digits.toLowerCase();
  });
})();
