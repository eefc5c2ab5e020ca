// Progress of a background import: asks the job page for its JSON every second and moves
// the bar; when the job is finished the page reloads and shows the report.
(function () {
  var box = document.getElementById("import-job");
  if (!box || !window.fetch) return;
  var bar = document.getElementById("import-bar");
  var status = document.getElementById("import-status");
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
