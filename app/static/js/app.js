/* Behaviours every page may use, declared in the markup instead of inline handlers (the
   Content-Security-Policy allows no inline script):
   - data-confirm="Question?" on a form, or on its submit button: ask before submitting;
   - data-autosubmit on a select: submit its form when the choice changes;
   - data-print on a button: print the page;
   - data-navigate="field" on a form: go to the URL chosen in that field instead of submitting. */
(function () {
  "use strict";

  // Capture phase: the question comes before any other submit listener (an editor that
  // serialises its content, an uploader), and a "no" stops them as the inline handler did.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = (button && button.dataset.confirm) || form.dataset.confirm;
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.dataset.navigate) return;
    event.preventDefault();
    window.location.href = form.elements[form.dataset.navigate].value;
  });

  document.addEventListener("change", function (event) {
    var select = event.target;
    // form.submit() fires no submit event, as this.form.submit() did before.
    if (select.matches("select[data-autosubmit]") && select.form) select.form.submit();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });
})();
