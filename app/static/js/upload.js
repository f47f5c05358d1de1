/* Photo uploader of the gallery page: drop or choose many files; three travel at once, each in
   chunks to an upload session of its own (app/galleries/upload_routes.py), with a progress bar,
   automatic retries with backoff after a network error, and a Retry button once those run out.
   After a dropped connection the uploader asks the server how much arrived and goes on from there.
   A finished file shows in the grid as "processing" until the server has made its previews.
   Without JavaScript the same form posts all files at once. */
(function () {
  "use strict";
  var CONCURRENT = 3;
  var POLL_MS = 1500;

  var form = document.querySelector("[data-uploader]");
  if (!form) return;
  var input = form.querySelector("[data-file-input]");
  var list = form.querySelector("[data-upload-list]");
  var grid = document.querySelector("[data-photo-grid]");
  var maxBytes = parseInt(form.dataset.maxBytes, 10);
  var chunkBytes = parseInt(form.dataset.chunkBytes, 10) || 8 * 1024 * 1024;
  // Seconds before each automatic retry of a file whose connection failed; then a Retry button.
  var BACKOFF = (form.dataset.backoff || "1,2,4,8,16").split(",").map(Number);
  var queue = [], running = 0, pending = 0, okCount = 0, failedCount = 0, chosen = 0;
  // Sessions are opened one after the other in the order chosen: the gallery keeps that order
  // however the transfers overtake each other.
  var sessionsOpened = Promise.resolve();
  var watched = {}; // photo id -> its upload job (or null for a tile already on the page)
  var pollTimer = null;

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
    status.textContent = form.dataset.waiting;
    var retry = document.createElement("button");
    retry.type = "button";
    retry.className = "button small upload-retry";
    retry.textContent = form.dataset.retryLabel;
    retry.hidden = true;
    item.append(name, bar, status, retry);
    list.appendChild(item);
    return {item: item, bar: bar, status: status, retry: retry};
  }

  // ------------------------------------------------------------ requests

  /* One request; resolves with {status, body} for any answer, rejects on a network failure. */
  function call(method, url, body, headers, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      Object.keys(headers || {}).forEach(function (key) { xhr.setRequestHeader(key, headers[key]); });
      if (onProgress) xhr.upload.onprogress = onProgress;
      xhr.onload = function () {
        var parsed = null;
        try { parsed = JSON.parse(xhr.responseText); } catch (err) { parsed = null; }
        resolve({status: xhr.status, body: parsed});
      };
      xhr.onerror = xhr.onabort = xhr.ontimeout = function () { reject(new Error("network")); };
      xhr.send(body === undefined ? null : body);
    });
  }

  function wait(seconds) {
    return new Promise(function (resolve) { setTimeout(resolve, seconds * 1000); });
  }

  /* Why an answer that is not ours failed: a log-in page, an expired form, a server error. */
  function answerMessage(job, answer) {
    if (answer.body && answer.body.message) return answer.body.message;
    var template = answer.status >= 500 ? form.dataset.serverError : form.dataset.sessionExpired;
    return text(template, {NAME: job.file.name});
  }

  // ------------------------------------------------------------ one file

  function openSession(job) {
    var body = JSON.stringify({filename: job.file.name, size: job.file.size});
    return call("POST", form.dataset.sessionsUrl, body, {"Content-Type": "application/json"}).then(function (answer) {
      if (answer.status === 201 && answer.body) {
        job.url = answer.body.url;
        job.offset = answer.body.offset;
        return;
      }
      var refusal = new Error("refused");
      refusal.message = answerMessage(job, answer);
      refusal.final = true;
      throw refusal;
    });
  }

  function showProgress(job, sentOfChunk) {
    var sent = Math.min(job.file.size, job.offset + (sentOfChunk || 0));
    job.view.bar.value = job.file.size ? Math.round(sent / job.file.size * 100) : 100;
  }

  /* Send what the server does not have yet, chunk by chunk; resolves with the finished answer. */
  function sendChunks(job) {
    var end = Math.min(job.offset + chunkBytes, job.file.size);
    var headers = {"Upload-Offset": String(job.offset), "Content-Type": "application/offset+octet-stream"};
    return call("PATCH", job.url, job.file.slice(job.offset, end), headers, function (event) {
      if (event.lengthComputable) showProgress(job, event.loaded);
    }).then(function (answer) {
      if ((answer.status === 200 || answer.status === 409) && answer.body && typeof answer.body.offset === "number") {
        job.offset = answer.body.offset; // a 409 names where the server stands: go on from there
        job.attempts = 0;
        showProgress(job, 0);
        if (answer.body.complete) return answer.body;
        return sendChunks(job);
      }
      var refusal = new Error("refused");
      refusal.message = answerMessage(job, answer);
      refusal.final = answer.status < 500;
      throw refusal;
    });
  }

  /* After a failure: ask the server how much it has (HEAD), then carry on from there. */
  function resume(job) {
    return call("GET", job.url).then(function (answer) {
      if (answer.status === 200 && answer.body) {
        job.offset = answer.body.offset;
        if (answer.body.complete) return answer.body;
        return sendChunks(job);
      }
      var refusal = new Error("refused");
      refusal.message = answerMessage(job, answer);
      refusal.final = answer.status < 500;
      throw refusal;
    });
  }

  function transfer(job) {
    var started = job.url ? resume(job) : job.opened.then(function () { return sendChunks(job); });
    return started.catch(function (error) {
      if (error.final) throw error;
      if (job.attempts >= BACKOFF.length) throw error; // out of automatic retries: the button
      var seconds = BACKOFF[job.attempts];
      job.attempts += 1;
      job.view.status.textContent = text(form.dataset.retrying, {SECONDS: seconds});
      return wait(seconds).then(function () {
        if (!job.url) job.opened = openSession(job);
        return transfer(job);
      });
    });
  }

  function start(job) {
    job.view.retry.hidden = true;
    job.view.item.classList.remove("is-failed");
    job.view.status.textContent = "";
    transfer(job).then(function (finished) {
      job.done = finished;
      job.view.bar.value = 100;
      job.view.status.textContent = text(form.dataset.processing, {NAME: job.file.name});
      if (finished.html) addToGrid(finished.html, job.index);
      watch(finished.photo_id, job);
      release();
    }, function (error) {
      if (error.final) {
        settle(job, false, error.message);
      } else {
        // Out of automatic retries: the photographer may try again when the connection is back.
        job.view.item.classList.add("is-failed");
        job.view.status.textContent = text(form.dataset.networkError, {NAME: job.file.name});
        job.view.retry.hidden = false;
      }
      release();
    });
  }

  function release() {
    running -= 1;
    next();
  }

  /* A file's final outcome: uploaded and processed, or refused with the reason. */
  function settle(job, ok, message) {
    if (job.settled) return;
    job.settled = true;
    job.view.item.classList.add(ok ? "is-done" : "is-failed");
    job.view.bar.value = 100;
    job.view.retry.hidden = true;
    job.view.status.textContent = message;
    if (ok) { okCount += 1; } else { failedCount += 1; }
    pending -= 1;
    summarize();
  }

  function summarize() {
    if (pending || running || queue.length || !(okCount || failedCount)) return;
    form.dataset.state = "done";
    var summary = form.querySelector("[data-upload-summary]") || document.createElement("p");
    summary.setAttribute("data-upload-summary", "");
    summary.className = "upload-summary";
    summary.textContent = text(form.dataset.done, {OK: okCount, FAILED: failedCount});
    list.after(summary);
  }

  function next() {
    while (running < CONCURRENT && queue.length) {
      running += 1;
      start(queue.shift());
    }
  }

  // ------------------------------------------------------------ the grid and processing states

  function updateCount() {
    var empty = document.querySelector("[data-empty-photos]");
    if (empty) empty.hidden = grid.children.length > 0;
    var count = document.querySelector("[data-photo-count]");
    if (count) count.textContent = grid.children.length;
    document.dispatchEvent(new CustomEvent("photos:changed"));
  }

  function tileOf(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html.trim();
    return holder.content.firstElementChild;
  }

  /* A new photo's tile, placed among this batch's tiles in the order the files were chosen
     (the server keeps that order too, however the transfers overtake each other). */
  function addToGrid(html, index) {
    if (!grid || !html) return;
    var tile = tileOf(html);
    var later = null;
    if (index !== undefined) {
      tile.dataset.uploadIndex = index;
      later = Array.prototype.find.call(grid.children, function (other) {
        return other.dataset.uploadIndex !== undefined && Number(other.dataset.uploadIndex) > index;
      }) || null;
    }
    grid.insertBefore(tile, later);
    updateCount();
  }

  function replaceTile(id, html) {
    var tile = grid && grid.querySelector('[data-photo-id="' + id + '"]');
    if (!tile) { addToGrid(html); return; } // its first answer was lost: the tile never came
    var fresh = tileOf(html);
    if (tile.dataset.uploadIndex !== undefined) fresh.dataset.uploadIndex = tile.dataset.uploadIndex;
    tile.replaceWith(fresh);
    updateCount();
  }

  function watch(photoId, job) {
    if (!photoId) return;
    watched[photoId] = job || null;
    if (!pollTimer) pollTimer = setTimeout(poll, POLL_MS);
  }

  /* Ask for the states of the photos still processing; swap each finished tile in. */
  function poll() {
    pollTimer = null;
    var ids = Object.keys(watched);
    if (!ids.length) return;
    var url = form.dataset.statesUrl + "?ids=" + ids.join(",");
    call("GET", url).then(function (answer) {
      var photos = (answer.body && answer.body.photos) || [];
      photos.forEach(function (photo) {
        if (photo.state === "processing") return;
        var job = watched[photo.id];
        delete watched[photo.id];
        replaceTile(photo.id, photo.html);
        if (job) {
          var ok = photo.state === "ready";
          settle(job, ok, ok ? text(form.dataset.uploaded, {NAME: job.file.name}) : photo.message);
        }
      });
    }, function () { /* offline for now: ask again later */ }).then(function () {
      if (Object.keys(watched).length && !pollTimer) pollTimer = setTimeout(poll, POLL_MS);
    });
  }

  // ------------------------------------------------------------ choosing files

  function enqueue(files) {
    form.dataset.state = "uploading";
    Array.prototype.forEach.call(files, function (file) {
      var job = {file: file, view: row(file), url: null, offset: 0, attempts: 0, index: chosen++};
      pending += 1;
      if (file.size > maxBytes) { // no point sending what the server will refuse
        settle(job, false, text(form.dataset.tooLarge, {NAME: file.name}));
        return;
      }
      // Opened in order, one after the other, whatever the previous one's outcome.
      job.opened = sessionsOpened = sessionsOpened.catch(function () {}).then(function () { return openSession(job); });
      job.view.retry.addEventListener("click", function () {
        job.attempts = 0;
        if (!job.url) job.opened = openSession(job);
        queue.unshift(job);
        next();
      });
      queue.push(job);
    });
    next();
  }

  Array.prototype.forEach.call(document.querySelectorAll('[data-photo-state="processing"]'), function (tile) {
    watch(tile.dataset.photoId, null); // processing since before this page loaded
  });

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
