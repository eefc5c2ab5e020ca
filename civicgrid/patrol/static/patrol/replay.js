// Track replay: the route of a day with a time slider moving a marker along it.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  var map = L.map(el, { zoomSnap: 0.25 });
  var slider = document.getElementById("slider");
  var output = document.getElementById("slider-time");
  var points = [];
  var marker = null;

  function show(index) {
    var p = points[index];
    if (!p) { return; }
    marker.setLatLng(p.latlng);
    output.textContent = p.time.toLocaleTimeString();
    output.setAttribute("data-time", p.iso);
  }
  fetch(el.dataset.track, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(function (data) {
      var lines = L.featureGroup().addTo(map);
      data.features.forEach(function (f) {
        var p = f.properties;
        if (p.kind === "segment") {
          var coords = f.geometry.type === "Point" ? [f.geometry.coordinates] : f.geometry.coordinates;
          var latlngs = coords.map(function (c) { return [c[1], c[0]]; });
          if (latlngs.length > 1) { L.polyline(latlngs, { color: "#2563eb", weight: 4, className: "route" }).addTo(lines); }
          latlngs.forEach(function (ll, i) {
            points.push({ latlng: ll, iso: p.times[i], time: new Date(p.times[i]) });
          });
        } else if (p.kind === "gap") {
          var span = new Date(p.from).toLocaleTimeString() + "–" + new Date(p.to).toLocaleTimeString();
          f.geometry.coordinates.forEach(function (c) {
            L.circleMarker([c[1], c[0]], { radius: 5, color: "#6b7280", fillColor: "#fff", fillOpacity: 1, dashArray: "2 2", className: "gap-end" })
              .bindTooltip(span).addTo(lines);
          });
          var item = document.createElement("li");
          item.className = "gap";
          item.setAttribute("data-from", p.from);
          item.setAttribute("data-to", p.to);
          item.textContent = span + " (" + p.minutes + " " + document.getElementById("gaps").dataset.minutesLabel + ")";
          document.getElementById("gaps").appendChild(item);
          document.getElementById("gaps-section").hidden = false;
        } else if (p.kind === "stop") {
          L.circleMarker([f.geometry.coordinates[1], f.geometry.coordinates[0]],
            { radius: 6, color: "#b45309", fillColor: "#f59e0b", fillOpacity: 0.9 })
            .bindTooltip(el.dataset.stopLabel + " " + new Date(p.from).toLocaleTimeString() + "–" + new Date(p.to).toLocaleTimeString())
            .addTo(lines);
        }
      });
      if (!points.length) {
        document.getElementById("track-empty").hidden = false;
        map.setView([23.01, 113.02], 13);
        return;
      }
      map.fitBounds(lines.getBounds().pad(0.2));
      marker = L.circleMarker(points[0].latlng, { radius: 8, color: "#111827", fillColor: "#ef4444", fillOpacity: 1 }).addTo(map);
      slider.max = String(points.length - 1);
      slider.disabled = false;
      slider.addEventListener("input", function () { show(Number(slider.value)); });
      show(0);
    }).catch(function () { document.getElementById("track-empty").hidden = false; });
})();
