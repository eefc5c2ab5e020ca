// The case's location on a small map, with its grid's outline; no tiles from outside.
(function () {
  "use strict";
  var el = document.getElementById("case-map");
  if (!el || !window.L) { return; }
  var point = [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)];
  var map = L.map(el, { zoomSnap: 0.25 }).setView(point, 16);
  L.circleMarker(point, { radius: 8, color: "#a40000", fillOpacity: 0.8 }).addTo(map);
  if (el.dataset.grid) {
    fetch(el.dataset.grid, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (grid) {
        if (!grid) { return; }
        var layer = L.geoJSON(grid, { style: { color: "#3a7bbf", weight: 2, fillOpacity: 0.1 } }).addTo(map);
        map.fitBounds(layer.getBounds());
      });
  }
})();
