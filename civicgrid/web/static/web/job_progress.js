// Progress of a background job (a registry import, a division): asks the job page for its
// JSON every second and moves the bar; when the job is finished the page reloads and shows
// the result. The page marks the box with data-status-url; the bar is its <progress> and
// the message its role="status" element.
(function () {
  var box = document.querySelector("[data-status-url]");
  if (!box || !window.fetch) return;
  var bar = box.querySelector("progress");
  var status = box.querySelector("[role=status]");
  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        bar.value = job.percent;
        status.textContent = job.message;
        if (job.finished) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
