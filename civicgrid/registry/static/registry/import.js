// Progress display for the registry import: the file is sent with XMLHttpRequest so the
// upload can report its progress, then the row report replaces the result area. Without
// JavaScript (or XHR upload events) the form posts normally and the page comes back whole.
(function () {
  var form = document.getElementById("import-form");
  var box = document.getElementById("import-progress");
  var result = document.getElementById("import-result");
  if (!form || !box || !result || !window.FormData || !window.XMLHttpRequest) return;
  var probe = new XMLHttpRequest();
  if (!probe.upload) return;
  var bar = document.getElementById("import-bar");
  var status = document.getElementById("import-status");
  var button = form.querySelector("button[type=submit]");

  function size(bytes) {
    if (bytes >= 1048576) return (bytes / 1048576).toFixed(1) + " MB";
    return Math.round(bytes / 1024) + " KB";
  }

  function done(message) {
    button.disabled = false;
    if (message) { status.textContent = message; } else { box.hidden = true; }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(form);
    var xhr = new XMLHttpRequest();
    var url = form.action || window.location.href;
    xhr.open("POST", url);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    bar.value = 0;
    bar.setAttribute("value", "0");
    status.textContent = "";
    box.hidden = false;
    button.disabled = true;
    result.textContent = "";
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) { bar.removeAttribute("value"); return; }
      var percent = Math.floor((e.loaded / e.total) * 100);
      bar.value = percent;
      status.textContent = box.dataset.uploading
        .replace("{done}", size(e.loaded)).replace("{total}", size(e.total)) + " (" + percent + "%)";
    });
    xhr.upload.addEventListener("load", function () {
      bar.removeAttribute("value"); // the server now checks the rows: no measure of that
      status.textContent = box.dataset.checking;
    });
    xhr.addEventListener("load", function () {
      if (xhr.responseURL && xhr.responseURL.split("#")[0] !== url.split("#")[0]) {
        window.location.href = xhr.responseURL; // redirected (signed out): follow it
        return;
      }
      if (xhr.status === 202) { // a large file: the worker imports it; its page shows the progress
        window.location.href = JSON.parse(xhr.responseText).job;
        return;
      }
      if (xhr.status !== 200) { done(box.dataset.failed + " (HTTP " + xhr.status + ")"); return; }
      result.innerHTML = xhr.responseText; // the server-rendered, escaped report fragment
      done("");
    });
    xhr.addEventListener("error", function () { done(box.dataset.failed); });
    xhr.addEventListener("abort", function () { done(box.dataset.failed); });
    xhr.send(data);
  });
})();
