/* Photo uploader of the gallery page: drop or choose many files, one request per file, with a
   progress bar and a result per file. Without JavaScript the same form posts all files at once. */
(function () {
  "use strict";
  // One at a time: photos take their place in the gallery as they arrive, so sending them in the
  // order chosen keeps that order (and a slow connection is not split between files).
  var CONCURRENT = 1;

  var form = document.querySelector("[data-uploader]");
  if (!form) return;
  var input = form.querySelector("[data-file-input]");
  var list = form.querySelector("[data-upload-list]");
  var grid = document.querySelector("[data-photo-grid]");
  var maxBytes = parseInt(form.dataset.maxBytes, 10);
  var maxRequestBytes = parseInt(form.dataset.maxRequestBytes, 10);
  var queue = [], running = 0, okCount = 0, failedCount = 0;

  function text(template, values) {
    return Object.keys(values).reduce(function (out, key) {
      return out.split("__" + key + "__").join(values[key]);
    }, template);
  }

  function csrfToken() {
    var field = form.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function row(file) {
    var item = document.createElement("li");
    item.className = "upload-item";
    var name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    var status = document.createElement("span");
    status.className = "upload-status";
    item.append(name, bar, status);
    list.appendChild(item);
    return {item: item, bar: bar, status: status};
  }

  function finish(view, ok, message) {
    view.item.classList.add(ok ? "is-done" : "is-failed");
    view.bar.value = 100;
    view.status.textContent = message;
    if (ok) { okCount += 1; } else { failedCount += 1; }
    running -= 1;
    next();
  }

  function addToGrid(html) {
    if (!grid || !html) return;
    grid.insertAdjacentHTML("beforeend", html);
    var empty = document.querySelector("[data-empty-photos]");
    if (empty) empty.hidden = true;
    var count = document.querySelector("[data-photo-count]");
    if (count) count.textContent = grid.children.length;
    document.dispatchEvent(new CustomEvent("photos:changed"));
  }

  function send(job) {
    var data = new FormData();
    data.append("csrf_token", csrfToken());
    data.append("photos", job.file, job.file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) job.view.bar.value = Math.round(event.loaded / event.total * 100);
    };
    xhr.onload = function () {
      if (xhr.status === 413) {
        // Over the request limit (ours, or a proxy's answering with its own page): name the file.
        finish(job.view, false, text(form.dataset.requestTooLarge, {NAME: job.file.name}));
        return;
      }
      var result;
      try { result = JSON.parse(xhr.responseText).results[0]; } catch (err) { result = null; }
      if (!result) {
        // Not our JSON: a log-in page after the session ended, an expired form, or a server error.
        var template = xhr.status >= 500 ? form.dataset.serverError : form.dataset.sessionExpired;
        finish(job.view, false, text(template, {NAME: job.file.name}));
        return;
      }
      if (result.ok) addToGrid(result.html);
      finish(job.view, result.ok, result.message);
    };
    xhr.onerror = function () { finish(job.view, false, text(form.dataset.networkError, {NAME: job.file.name})); };
    xhr.send(data);
  }

  function next() {
    while (running < CONCURRENT && queue.length) {
      running += 1;
      send(queue.shift());
    }
    if (!running && !queue.length && (okCount || failedCount)) {
      form.dataset.state = "done";
      var summary = form.querySelector("[data-upload-summary]") || document.createElement("p");
      summary.setAttribute("data-upload-summary", "");
      summary.className = "upload-summary";
      summary.textContent = text(form.dataset.done, {OK: okCount, FAILED: failedCount});
      list.after(summary);
    }
  }

  function enqueue(files) {
    form.dataset.state = "uploading";
    Array.prototype.forEach.call(files, function (file) {
      var view = row(file);
      // No point sending what the server will refuse.
      var refusal = file.size > maxBytes ? form.dataset.tooLarge
        : file.size > maxRequestBytes ? form.dataset.requestTooLarge : null;
      if (refusal) {
        running += 1;
        finish(view, false, text(refusal, {NAME: file.name}));
        return;
      }
      queue.push({file: file, view: view});
    });
    next();
  }

  input.addEventListener("change", function () {
    if (input.files.length) enqueue(input.files);
    input.value = "";
  });
  ["dragenter", "dragover"].forEach(function (type) {
    form.addEventListener(type, function (event) {
      if (!event.dataTransfer || Array.prototype.indexOf.call(event.dataTransfer.types, "Files") < 0) return;
      event.preventDefault();
      form.classList.add("is-dragging");
    });
  });
  ["dragleave", "drop"].forEach(function (type) {
    form.addEventListener(type, function () { form.classList.remove("is-dragging"); });
  });
  form.addEventListener("drop", function (event) {
    if (!event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    enqueue(event.dataTransfer.files);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (input.files.length) enqueue(input.files);
  });
})();
