// The rich-text email editor: Quill for the message, the variable picker, and for workflow
// emails the rule's fields. Order email templates and the review queue use it too.
(function () {
  "use strict";
  var form = document.querySelector("[data-email-form]");
  if (!form || !window.Quill) return;

  // Emails have no stylesheet: alignment and size must be inline styles, not classes.
  var Size = Quill.import("attributors/style/size");
  Size.whitelist = ["12px", "14px", "16px", "20px", "24px", "32px"];
  Quill.register(Size, true);
  Quill.register(Quill.import("attributors/style/align"), true);
  // Call-to-action links in the templates are styled as buttons: keep those inline styles
  // when a message is loaded, edited and saved (the server's allowlist accepts them).
  var Parchment = Quill.import("parchment");
  ["padding", "border-radius", "text-decoration"].forEach(function (name) {
    Quill.register(new Parchment.StyleAttributor(name, name, { scope: Parchment.Scope.INLINE }), true);
  });

  // One editor per message: the default language's, and one per client language (each in a
  // <details> section with its own subject).
  var editors = Array.prototype.map.call(form.querySelectorAll("[data-editor]"), function (holder) {
    var editor = { holder: holder, hidden: holder.parentNode.querySelector("[data-body]") };
    editor.quill = new Quill(holder, {
      theme: "snow",
      modules: {
        toolbar: {
          container: [
            [{ header: [1, 2, 3, false] }],
            ["bold", "italic", "underline"],
            [{ color: [] }, { size: Size.whitelist }],
            [{ align: [] }],
            [{ list: "ordered" }, { list: "bullet" }],
            ["link", "image"],
            ["clean"],
          ],
          handlers: { image: function () { insertImage(editor); } },
        },
      },
    });
    // sanitized by the server
    if (editor.hidden.value) editor.quill.clipboard.dangerouslyPasteHTML(editor.hidden.value);
    return editor;
  });
  if (!editors.length) return;

  function insertImage(editor) {
    var quill = editor.quill, holder = editor.holder;
    var address = window.prompt(holder.dataset.imagePrompt, "");
    if (address === null) return;  // cancelled
    var at = (quill.getSelection(true) || { index: quill.getLength() }).index;
    if (address) {
      if (/^https?:\/\//i.test(address)) quill.insertEmbed(at, "image", address, "user");
      return;
    }
    var input = document.createElement("input");
    input.type = "file";
    input.accept = "image/jpeg,image/png,image/gif";
    input.onchange = function () {
      var data = new FormData();
      data.append("image", input.files[0]);
      data.append("csrf_token", holder.dataset.csrf);
      fetch(holder.dataset.uploadUrl, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (answer) {
          if (answer.url) quill.insertEmbed(at, "image", answer.url, "user");
          else window.alert(answer.error || holder.dataset.imageError);
        })
        .catch(function () { window.alert(holder.dataset.imageError); });
    };
    input.click();
  }

  // The variable picker inserts at the cursor of the message, or of the subject, last focused
  // (of whichever language).
  var lastFocus = { editor: editors[0] };
  form.addEventListener("focusin", function (event) {
    // A subject or a text message: plain text fields, a variable goes in at their cursor.
    if (event.target.matches("[data-subject], [data-sms-counter]")) { lastFocus = { subject: event.target }; return; }
    editors.forEach(function (editor) {
      if (editor.holder.contains(event.target)) lastFocus = { editor: editor };
    });
  });
  editors.forEach(function (editor) {
    editor.quill.on("selection-change", function (range) {
      if (range) lastFocus = { editor: editor };
    });
  });
  // A closed language section takes no variable: back to the default message.
  form.querySelectorAll("details").forEach(function (section) {
    section.addEventListener("toggle", function () {
      var focused = lastFocus.subject || lastFocus.editor.holder;
      if (!section.open && section.contains(focused)) lastFocus = { editor: editors[0] };
    });
  });
  document.querySelectorAll("[data-variable]").forEach(function (button) {
    button.addEventListener("mousedown", function (event) { event.preventDefault(); });
    button.addEventListener("click", function () {
      var text = button.dataset.variable;
      var subject = lastFocus.subject;
      if (subject) {
        var start = subject.selectionStart || 0, end = subject.selectionEnd || 0;
        subject.value = subject.value.slice(0, start) + text + subject.value.slice(end);
        subject.focus();
        subject.setSelectionRange(start + text.length, start + text.length);
        subject.dispatchEvent(new Event("input", { bubbles: true }));  // the text counter follows
        dirty = true;
      } else {
        var quill = lastFocus.editor.quill;
        var range = quill.getSelection(true);
        var at = range ? range.index : quill.getLength() - 1;
        quill.insertText(at, text, "user");
        quill.setSelection(at + text.length, 0, "user");
      }
    });
  });

  // Days and send time only matter for "days before" and "days after". "Days before" only
  // exists for date triggers, and "not ordered" never follows an order: those choices are
  // greyed out here (the server checks every rule again and explains what is wrong).
  var rule = form.querySelector("select[name=rule]");
  var trigger = form.querySelector("select[name=trigger]");
  var audience = form.querySelector("select[name=recipient_filter]");
  var timed = form.querySelector("[data-when-rule=timed]");
  var dateTriggers = (form.dataset.dateTriggers || "").split(" ");
  function option(select, value) { return select.querySelector("option[value='" + value + "']"); }
  function refreshRule() {
    timed.hidden = rule.value === "instant";
    var before = option(rule, "before");
    if (before) before.disabled = dateTriggers.indexOf(trigger.value) < 0 && rule.value !== "before";
    var notOrdered = option(audience, "not_ordered");
    if (notOrdered) notOrdered.disabled = trigger.value === "order" && audience.value !== "not_ordered";
  }
  if (rule && trigger && audience && timed) {  // only workflow emails have a rule
    [rule, trigger, audience].forEach(function (select) {
      select.addEventListener("change", refreshRule);
    });
    refreshRule();
  }

  // A new email's kind (service or marketing) follows its trigger, rule and audience, as the
  // server would default it (data-service-defaults), until the photographer picks one.
  var serviceDefaults = (form.dataset.serviceDefaults || "").split(" ");
  var purposeChosen = !form.hasAttribute("data-new-email");
  form.querySelectorAll("input[name=purpose]").forEach(function (radio) {
    radio.addEventListener("change", function () { purposeChosen = true; });
  });
  function refreshPurpose() {
    if (purposeChosen) return;
    var key = trigger.value + "/" + rule.value + "/" + audience.value;
    var wanted = serviceDefaults.indexOf(key) >= 0 ? "service" : "marketing";
    var radio = form.querySelector("input[name=purpose][value=" + wanted + "]");
    if (radio) radio.checked = true;
  }
  if (rule && trigger && audience) {
    [rule, trigger, audience].forEach(function (select) {
      select.addEventListener("change", refreshPurpose);
    });
  }

  // The text message's fields (every language's) show only while it is turned on, or while
  // one has an error to correct.
  var smsToggle = form.querySelector("[data-sms-toggle]");
  function refreshSms() {
    form.querySelectorAll("[data-sms-fields]").forEach(function (part) {
      part.hidden = !smsToggle.checked && !part.querySelector(".has-errors");
    });
  }
  if (smsToggle) {
    smsToggle.addEventListener("change", refreshSms);
    refreshSms();
  }

  // The variable list can be filtered by name or description.
  var filter = document.querySelector("[data-variable-filter]");
  if (filter) {
    filter.addEventListener("input", function () {
      var words = filter.value.trim().toLowerCase();
      document.querySelectorAll("[data-variable-item]").forEach(function (item) {
        item.hidden = words !== "" && item.dataset.variableItem.toLowerCase().indexOf(words) < 0;
      });
    });
  }

  // Warn before leaving with unsaved changes (any field, or the message).
  var dirty = false;
  editors.forEach(function (editor) {
    editor.quill.on("text-change", function (delta, old, source) {
      if (source === "user") dirty = true;
    });
  });
  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("change", function () { dirty = true; });
  window.addEventListener("beforeunload", function (event) {
    if (!dirty) return;
    event.preventDefault();
    event.returnValue = editors[0].holder.dataset.leaveWarning;
  });

  form.addEventListener("submit", function () {
    dirty = false;
    editors.forEach(function (editor) {
      var quill = editor.quill;
      editor.hidden.value = quill.getLength() > 1 ? plainSpaces(quill.getSemanticHTML()) : "";
    });
  });

  // Quill 2.0.3's getSemanticHTML writes every space as &nbsp;, which stops lines from
  // wrapping in mail apps: keep ordinary spaces, and &nbsp; only where spaces follow each other.
  function plainSpaces(html) {
    return html.replace(/(&nbsp;)+/g, function (run) {
      var count = run.length / 6;
      return " " + new Array(count).join("&nbsp;");
    });
  }
})();
