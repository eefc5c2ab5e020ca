// The field app: my grid on a map, the position from the phone, and the report queue.
//
// Every report goes through one queue in IndexedDB (web/queue.js, shared with the other
// field pages), online or not: it is stored with its own idempotency key, sent, and
// removed only when the server acknowledges it. A report
// sent twice (a lost answer, two tabs) carries the same key, so the server creates it once.
(function () {
  "use strict";
  var script = document.getElementById("field-script");
  var T = script ? script.dataset : {};

  if ("serviceWorker" in navigator && script && script.dataset.sw) {
    navigator.serviceWorker.register(script.dataset.sw, { scope: "/field/" }).catch(function () {});
  }

  // --- map ----------------------------------------------------------------------------
  var mapEl = document.getElementById("grid-map");
  var shapesEl = document.getElementById("grid-shapes");
  var map = null;
  var here = null;
  if (mapEl && window.L) {
    map = L.map(mapEl, { zoomSnap: 0.25 });
    var shapes = shapesEl ? JSON.parse(shapesEl.textContent) : null;
    if (shapes && shapes.features.length) {
      var layer = L.geoJSON(shapes, { style: { color: "#3a7bbf", weight: 2, fillOpacity: 0.1 } }).addTo(map);
      map.fitBounds(layer.getBounds());
    } else {
      map.setView([23.0, 113.0], 12);
    }
  }

  // --- position -----------------------------------------------------------------------
  var lon = document.getElementById("lon");
  var lat = document.getElementById("lat");
  var accuracy = document.getElementById("accuracy");
  function place(latitude, longitude, metres) {
    if (!lon || !lat) { return; }
    lon.value = longitude.toFixed(7);
    lat.value = latitude.toFixed(7);
    if (accuracy) {
      accuracy.textContent = metres == null ? "" : (T.accuracy || "± %(m)s m").replace("%(m)s", Math.round(metres));
    }
    if (map) {
      if (here) { map.removeLayer(here); }
      here = L.circleMarker([latitude, longitude], { radius: 8, color: "#a40000" }).addTo(map);
      if (metres) { L.circle([latitude, longitude], { radius: metres, weight: 1 }).addTo(map); }
    }
  }
  var locate = document.getElementById("locate");
  if (locate) {
    locate.addEventListener("click", function () {
      if (!navigator.geolocation) { accuracy.textContent = T.noGps || ""; return; }
      navigator.geolocation.getCurrentPosition(function (p) {
        // Browsers report WGS 84; a position typed from a Chinese map app is GCJ-02.
        document.getElementById("gcj02").checked = false;
        place(p.coords.latitude, p.coords.longitude, p.coords.accuracy);
      }, function () { accuracy.textContent = T.noGps || ""; },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
    });
  }
  if (map && lon) {
    map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng, null); });
  }

  // --- the queue: the field pages' shared module (web/queue.js) -------------------------
  var Q = window.CivicGridQueue;
  var queue = new Q.Queue("civicgrid-field", "reports");
  function allItems() { return queue.all(); }
  function putItem(item) { return queue.put(item); }
  function removeItem(key) { return queue.remove(key); }
  function newKey() { return Q.newKey(); }

  // --- the answer to a send, at the top of the page -------------------------------------
  var statusEl = document.getElementById("report-status");
  function announce(kind, text, link, focus) {
    if (!statusEl) { return; }
    statusEl.hidden = false;
    statusEl.className = "banner " + kind;
    statusEl.textContent = text;
    if (link) {
      statusEl.appendChild(document.createTextNode(" "));
      statusEl.appendChild(link);
    }
    // The form is long on a phone: the answer would be out of sight below or above it.
    if (focus) { statusEl.focus({ preventScroll: true }); }
    statusEl.scrollIntoView({ block: "center" });
  }

  // --- recent categories first ----------------------------------------------------------
  var RECENT_MAX = 5;
  function rememberCategory(code) {
    var select = document.getElementById("category");
    if (!select || !code) { return; }
    var group = document.getElementById("recent-categories");
    if (!group) {
      group = document.createElement("optgroup");
      group.id = "recent-categories";
      group.label = T.recent || "";
      select.insertBefore(group, select.options[0].nextSibling);
    }
    var option = null;
    Array.prototype.forEach.call(group.children, function (o) { if (o.value === code) { option = o; } });
    if (!option) {
      var original = select.querySelector("optgroup:not(#recent-categories) option[value='" + code + "']");
      if (!original) { return; }
      option = original.cloneNode(true);
      option.selected = false;
      option.removeAttribute("selected");
    }
    group.insertBefore(option, group.firstChild);
    while (group.children.length > RECENT_MAX) { group.removeChild(group.lastChild); }
  }

  var listEl = document.getElementById("offline-queue");
  var cardEl = document.getElementById("offline-queue-card");
  function render() {
    if (!listEl) { return Promise.resolve(); }
    return allItems().then(function (items) {
      listEl.textContent = "";
      cardEl.hidden = items.length === 0;
      items.forEach(function (item) {
        var li = document.createElement("li");
        li.dataset.key = item.key;
        li.className = item.error ? "queue-error" : "queue-waiting";
        li.textContent = item.fields.description.slice(0, 60) + " · " + (item.error || T.waiting || "");
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

  function flush() {
    if (!navigator.onLine) { return Promise.resolve(); }
    return queue.flush(send).then(render);
  }

  function send(item) {
    var body = new FormData();
    Object.keys(item.fields).forEach(function (name) { body.append(name, item.fields[name]); });
    (item.photos || []).forEach(function (blob, i) { body.append("photos", blob, "photo-" + i + ".jpg"); });
    return fetch("/field/report/", {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Idempotency-Key": item.key, "Accept": "application/json", "X-CSRFToken": Q.csrfToken() }
    }).then(function (response) {
      if (response.status === 200 || response.status === 201) {
        return response.json().then(function (answer) {
          return removeItem(item.key).then(function () {
            var link = document.createElement("a");
            link.href = answer.url;
            link.id = "sent-case";
            link.textContent = answer.number;
            announce("success", T.sent || "", link, true);
            return true;
          });
        });
      }
      if (response.status >= 400 && response.status < 500) {
        // Refused for a reason the same request cannot fix: keep it, say why.
        return response.json().catch(function () { return { message: "HTTP " + response.status }; })
          .then(function (answer) {
            item.error = answer.message || ("HTTP " + response.status);
            announce("error", (T.refused || "") + " " + item.error, null, true);
            return putItem(item).then(function () { return true; });
          });
      }
      return false; // server trouble: try again later
    }, function () { return false; }); // network gone: stop, the next "online" resumes
  }

  var form = document.getElementById("report-form");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!form.reportValidity()) { return; }
      var data = new FormData(form);
      var fields = {};
      ["category", "description", "lon", "lat", "address", "measures", "complied"].forEach(function (name) {
        fields[name] = String(data.get(name) || "");
      });
      fields.crs = data.get("crs") ? "gcj02" : "wgs84";
      fields.on_the_spot = data.get("on_the_spot") ? "1" : "";
      var photos = data.getAll("photos").filter(function (f) { return f && f.size; });
      var item = { key: newKey(), created: Date.now(), fields: fields, photos: photos, error: "" };
      putItem(item).then(function () {
        rememberCategory(fields.category);
        // Back to no category (the placeholder): the next report is not this one's.
        form.reset();
        if (accuracy) { accuracy.textContent = ""; }
        announce(navigator.onLine ? "pending" : "queued",
                 navigator.onLine ? (T.sending || "") : (T.queued || ""), null, !navigator.onLine);
        return render();
      }).then(flush);
    });
  }

  window.addEventListener("online", flush);
  render().then(flush);
})();
