// The resident portal's two maps: picking a place for a report, and the public case map.
// No tile layer: nothing is fetched from outside the township's own server.
(function () {
  "use strict";
  if (!window.L) { return; }

  function load(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); });
  }

  function outline(map, url) {
    return load(url).then(function (data) {
      var layer = L.geoJSON(data, { style: { color: "#3a7bbf", weight: 1, fillOpacity: 0.08 } });
      layer.addTo(map);
      var bounds = layer.getBounds();
      if (bounds.isValid()) { map.fitBounds(bounds); }
      return layer;
    });
  }

  var pick = document.getElementById("pick-map");
  if (pick) {
    var map = L.map(pick, { zoomSnap: 0.25 }).setView([23.01, 113.02], 13);
    var lat = document.getElementById("id_lat");
    var lon = document.getElementById("id_lon");
    var crs = document.getElementById("id_crs");
    var status = document.getElementById("place-status");
    var marker = null;
    function place(latlng, system) {
      lat.value = latlng.lat.toFixed(7);
      lon.value = latlng.lng.toFixed(7);
      crs.value = system;
      if (marker) { marker.setLatLng(latlng); } else { marker = L.circleMarker(latlng, { radius: 9, color: "#a40000" }).addTo(map); }
      status.textContent = status.dataset.picked;
    }
    outline(map, pick.dataset.area).then(function () {
      if (lat.value && lon.value && crs.value === "wgs84") {
        place(L.latLng(parseFloat(lat.value), parseFloat(lon.value)), "wgs84");
      }
    });
    // The map draws the stored WGS 84 geography, so a tap is a WGS 84 point.
    map.on("click", function (e) { place(e.latlng, "wgs84"); });
    document.getElementById("locate").addEventListener("click", function () {
      if (!navigator.geolocation) { status.textContent = status.dataset.denied; return; }
      status.textContent = status.dataset.locating;
      navigator.geolocation.getCurrentPosition(function (p) {
        // Browsers report WGS 84; a link from a GCJ-02 map app arrives with crs=gcj02 instead.
        var here = L.latLng(p.coords.latitude, p.coords.longitude);
        place(here, "wgs84");
        map.setView(here, 17);
      }, function () { status.textContent = status.dataset.denied; }, { enableHighAccuracy: true, timeout: 10000 });
    });
  }

  var casesEl = document.getElementById("case-map");
  if (casesEl) {
    var cmap = L.map(casesEl, { zoomSnap: 0.25 }).setView([23.01, 113.02], 13);
    outline(cmap, casesEl.dataset.area);
    load(casesEl.dataset.cases).then(function (data) {
      var markers = L.geoJSON(data, {
        pointToLayer: function (f, latlng) {
          var open = f.properties.status === "open";
          return L.circleMarker(latlng, { radius: 7, color: open ? "#a40000" : "#1e6b34" });
        },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          var text = document.createElement("span");
          text.textContent = p.number + " · " + p.service + " · " + p.state;
          layer.bindTooltip(text);
        }
      }).addTo(cmap);
      if (window.CivicGridMap) {
        var spreader = window.CivicGridMap.spread(cmap, markers);
        spreader.layout();
      }
    });
  }
})();

// A refused report: bring its reasons into view and to the screen reader at once.
(function () {
  "use strict";
  var errors = document.getElementById("form-errors") || document.querySelector(".portal-form .errorlist");
  if (errors) {
    errors.setAttribute("tabindex", "-1");
    errors.focus({ preventScroll: true });
    errors.scrollIntoView({ block: "center" });
  }
})();
