// Record a visit, online or not, through the field pages' shared queue (web/queue.js):
// every visit is kept in IndexedDB with its own idempotency key, sent, and removed only when
// the server acknowledges it. A visit sent twice (a lost answer, the connection back)
// carries the same key: stored once. The service worker keeps the offline page and these
// files for /care/field/, as /field/ has them.
(function () {
  "use strict";
  var Q = window.CivicGridQueue;
  var script = document.getElementById("visit-script");
  var T = script ? script.dataset : {};
  var form = document.getElementById("visit-form");
  var statusEl = document.getElementById("visit-status");
  var listEl = document.getElementById("visit-queue");
  var cardEl = document.getElementById("visit-queue-card");
  var queue = new Q.Queue("civicgrid-care", "visits");
  var target = (script && script.dataset.post) || (form && form.action) || "";

  if (script && script.dataset.sw) { Q.registerWorker(script.dataset.sw, script.dataset.scope || "/care/field/"); }

  function say(text) { if (statusEl) { statusEl.textContent = text; } }

  function render() {
    if (!listEl) { return Promise.resolve(); }
    return queue.all().then(function (items) {
      listEl.textContent = "";
      cardEl.hidden = items.length === 0;
      items.forEach(function (item) {
        var li = document.createElement("li");
        li.dataset.key = item.key;
        li.className = item.error ? "queue-error" : "queue-waiting";
        li.textContent = item.fields.house + " · " + item.fields.visited_on + " · " + (item.error || T.waiting || "");
        listEl.appendChild(li);
      });
    }).catch(function () {});
  }

  function send(item) {
    var body = new FormData();
    Object.keys(item.fields).forEach(function (name) { body.append(name, item.fields[name]); });
    return fetch(target, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Idempotency-Key": item.key, "Accept": "application/json", "X-CSRFToken": Q.csrfToken() }
    }).then(function (response) {
      if (response.status >= 500) { say(T.queued || ""); return false; } // try again later
      return response.json().then(function (answer) {
        if (response.ok) {
          say(T.saved || "");
          return queue.remove(item.key).then(function () { return true; });
        }
        // Refused (a field named): keep it, marked, so nothing typed is lost.
        item.error = answer.message || String(response.status);
        say(item.error);
        return queue.put(item).then(function () { return true; });
      });
    }, function () {
      say(T.queued || "");
      return false; // offline: stop, try again when the connection returns
    });
  }

  function flush() { return queue.flush(send).then(render); }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var fields = {};
      new FormData(form).forEach(function (value, name) {
        if (name !== "csrfmiddlewaretoken" && name !== "idempotency_key") { fields[name] = value; }
      });
      var item = { key: Q.newKey(), created: Date.now(), fields: fields, error: "" };
      queue.put(item).then(function () {
        form.reset();
        return render();
      }).then(flush);
    });
  }
  window.addEventListener("online", flush);
  render().then(flush);
})();
