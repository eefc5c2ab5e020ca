// Inspections in the field: sort the due list by distance, and the checklist queue.
//
// A signed-off checklist goes through the field pages' offline queue (web/queue.js), online or
// not, like the field reports: stored with its own Idempotency-Key, sent, removed only when
// the server answers.
// A checklist sent twice (a lost answer, a reload) carries the same key: stored once.
(function () {
  "use strict";
  var script = document.getElementById("inspections-script");
  var T = script ? script.dataset : {};

  function position(done, failed) {
    if (!navigator.geolocation) { failed(); return; }
    navigator.geolocation.getCurrentPosition(function (p) {
      done(p.coords.longitude, p.coords.latitude);
    }, failed, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  var lon = document.getElementById("lon");
  var lat = document.getElementById("lat");
  var locate = document.getElementById("locate");
  if (locate) {
    locate.addEventListener("click", function () {
      position(function (x, y) {
        lon.value = x.toFixed(7); lat.value = y.toFixed(7);
        document.getElementById("position-form").submit();
      }, function () { locate.textContent = T.noGps || ""; });
    });
  }

  // --- the shared offline queue (web/queue.js) ----------------------------------------
  var Q = window.CivicGridQueue;
  var queue = new Q.Queue("civicgrid-inspections", "visits");
  function allItems() { return queue.all(); }
  function putItem(item) { return queue.put(item); }
  function removeItem(key) { return queue.remove(key); }
  var newKey = Q.newKey;
  var csrfToken = Q.csrfToken;

  var listEl = document.getElementById("inspection-queue");
  var cardEl = document.getElementById("inspection-queue-card");
  var statusEl = document.getElementById("visit-status");
  var errorEl = document.getElementById("send-error");
  function render() {
    if (!listEl) { return Promise.resolve(); }
    return allItems().then(function (items) {
      listEl.textContent = "";
      cardEl.hidden = items.length === 0;
      items.forEach(function (item) {
        var li = document.createElement("li");
        li.className = item.error ? "queue-error" : "queue-waiting";
        li.textContent = item.title + " · " + (item.error || T.waiting || "");
        if (item.error) {
          var drop = document.createElement("button");
          drop.type = "button";
          drop.textContent = T.remove || "×";
          drop.addEventListener("click", function () { removeItem(item.key).then(render); });
          li.appendChild(document.createTextNode(" "));
          li.appendChild(drop);
        }
        listEl.appendChild(li);
      });
    }).catch(function () {});
  }

  function send(item) {
    var body = new FormData();
    Object.keys(item.fields).forEach(function (name) { body.append(name, item.fields[name]); });
    (item.photos || []).forEach(function (p) { body.append(p.name, p.blob, p.name + ".jpg"); });
    return fetch(item.url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Idempotency-Key": item.key, "Accept": "application/json", "X-CSRFToken": csrfToken() }
    }).then(function (response) {
      if (response.status === 200 || response.status === 201) {
        return response.json().then(function (answer) {
          return removeItem(item.key).then(function () {
            if (statusEl) {
              statusEl.textContent = (T.sent || "") + " ";
              var link = document.createElement("a");
              link.href = answer.url;
              link.id = "sent-visit";
              link.textContent = answer.number;
              statusEl.appendChild(link);
            }
            return true;
          });
        });
      }
      if (response.status >= 400 && response.status < 500) {
        // Refused for a reason the same request cannot fix: keep it and say why.
        return response.json().catch(function () { return { message: "HTTP " + response.status }; })
          .then(function (answer) {
            item.error = answer.message + (answer.field ? " (" + answer.field + ")" : "");
            if (errorEl) { errorEl.hidden = false; errorEl.textContent = item.error; }
            return putItem(item).then(function () { return true; });
          });
      }
      return false; // server trouble: try again later
    }, function () { return false; }); // no network: the next "online" resumes
  }

  function flush() {
    if (!navigator.onLine) { return Promise.resolve(); }
    return queue.flush(send).then(render);
  }

  var form = document.getElementById("visit-form");
  if (form) {
    position(function (x, y) { lon.value = x.toFixed(7); lat.value = y.toFixed(7); }, function () {});
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!form.reportValidity()) { return; }
      document.getElementById("visited_at").value = new Date().toISOString();
      var data = new FormData(form);
      var fields = {};
      var photos = [];
      data.forEach(function (value, name) {
        if (value instanceof Blob) {
          if (value.size) { photos.push({ name: name, blob: value }); }
        } else {
          fields[name] = value;
        }
      });
      var item = { key: newKey(), created: Date.now(), url: window.location.pathname,
                   title: form.dataset.title, fields: fields, photos: photos, error: "" };
      if (errorEl) { errorEl.hidden = true; }
      putItem(item).then(function () {
        form.reset();
        if (statusEl) { statusEl.textContent = navigator.onLine ? (T.sending || "") : (T.queued || ""); }
        return render();
      }).then(flush);
    });
  }

  window.addEventListener("online", flush);
  render().then(flush);
})();
