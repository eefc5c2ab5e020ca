// While on patrol: watch the phone's position and send it in batches, buffered offline and
// retried with the same Idempotency-Key so a batch is stored once.
(function () {
  "use strict";
  var script = document.getElementById("patrol-script");
  var state = document.getElementById("patrol-state");
  var note = document.getElementById("sender-state");
  if (!script || !state || !state.dataset.on || !navigator.geolocation) { return; }
  var KEY = "civicgrid-patrol-queue";
  function load() { try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } }
  function save(queue) { localStorage.setItem(KEY, JSON.stringify(queue)); }
  var pending = [];

  function seal() {
    if (!pending.length) { return; }
    var queue = load();
    var key = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
    queue.push({ key: key, positions: pending });
    pending = [];
    save(queue);
  }
  function send() {
    seal();
    var queue = load();
    if (!queue.length) { note.textContent = ""; return; }
    var batch = queue[0];
    fetch(script.dataset.endpoint, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Idempotency-Key": batch.key, "X-CSRFToken": script.dataset.csrf },
      body: JSON.stringify({ positions: batch.positions })
    }).then(function (r) {
      if (r.ok || (r.status >= 400 && r.status < 500 && r.status !== 401 && r.status !== 408 && r.status !== 429)) {
        save(load().filter(function (b) { return b.key !== batch.key; }));
        if (load().length) { send(); } else { note.textContent = ""; }
      } else { throw new Error(r.status); }
    }).catch(function () { note.textContent = load().length + " " + script.dataset.waiting; });
  }
  navigator.geolocation.watchPosition(function (pos) {
    pending.push({
      lon: pos.coords.longitude, lat: pos.coords.latitude, time: new Date(pos.timestamp).toISOString(),
      accuracy: pos.coords.accuracy, speed: pos.coords.speed === null ? null : Math.max(0, pos.coords.speed)
    });
  }, function () {}, { enableHighAccuracy: true, maximumAge: 5000 });
  window.setInterval(send, 30000);
  window.addEventListener("online", send);
})();
