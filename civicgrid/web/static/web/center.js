// The center: villages, grids and open cases on one map; queue counts refreshed by polling.
(function () {
  "use strict";
  var COLOURS = { reported: "#d97706", filed: "#7c3aed", dispatched: "#2563eb",
                  disposed: "#0d9488", verified: "#16a34a" };
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
  }

  // --- counts -------------------------------------------------------------------------
  var queue = document.getElementById("queue");
  function refreshCounts() {
    if (!queue) { return; }
    getJSON(queue.dataset.counts).then(function (counts) {
      Object.keys(counts).forEach(function (key) {
        document.querySelectorAll('[data-count="' + key + '"]').forEach(function (el) {
          var before = el.textContent;
          el.textContent = String(counts[key]);
          var stale = el.closest("details") && el.closest("details").querySelector(".stale");
          if (stale && before !== el.textContent) { stale.hidden = false; }
        });
      });
    }).catch(function () { /* offline for a moment: the next poll tries again */ });
  }
  if (queue) { window.setInterval(refreshCounts, 15000); }

  // --- map ----------------------------------------------------------------------------
  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  var map = L.map(el, { zoomSnap: 0.25 });
  var cases = L.layerGroup().addTo(map);
  var spreader = window.CivicGridMap ? window.CivicGridMap.spread(map, cases) : null;
  var filters = document.getElementById("map-filters");
  var counter = document.getElementById("map-count");

  function text(value) { var s = document.createElement("span"); s.textContent = value; return s; }

  function gridPopup(layer, code) {
    getJSON(el.dataset.gridUrl + encodeURIComponent(code) + ".json").then(function (g) {
      var box = document.createElement("div");
      box.appendChild(text(g.code + " · " + g.households + " " + el.dataset.householdsLabel));
      box.appendChild(document.createElement("br"));
      box.appendChild(text(el.dataset.teamLabel + ": " + (g.team.join(", ") || "-")));
      box.appendChild(document.createElement("br"));
      box.appendChild(text(el.dataset.openLabel + ": " + g.open_count));
      box.appendChild(document.createElement("br"));
      box.appendChild(text(el.dataset.registryLabel + ": " + [
        g.registry.houses, g.registry.persons, g.registry.legal_persons,
        g.registry.components + " (" + g.registry.components_damaged + ")"
      ].join(" / ")));
      layer.bindPopup(box).openPopup();
    }).catch(function () {});
  }

  function loadCases() {
    var params = new URLSearchParams(new FormData(filters));
    getJSON(el.dataset.cases + "?" + params.toString()).then(function (data) {
      cases.clearLayers();
      data.features.forEach(function (f) {
        var p = f.properties;
        var c = f.geometry.coordinates;
        var marker = L.circleMarker([c[1], c[0]], {
          radius: 7, weight: p.overdue ? 3 : 1, color: p.overdue ? "#b91c1c" : "#1f2937",
          fillColor: COLOURS[p.state] || "#6b7280", fillOpacity: 0.9, className: "case-marker"
        });
        var link = document.createElement("a");
        link.href = p.url;
        link.textContent = p.number + " · " + p.state_label + " · " + p.category;
        marker.bindPopup(link);
        marker.bindTooltip(text(p.number + " · " + p.state_label));
        cases.addLayer(marker);
      });
      if (spreader) { spreader.layout(); }
      if (counter) { counter.textContent = String(data.features.length); }
    }).catch(function () {});
  }

  Promise.all([getJSON(el.dataset.villages), getJSON(el.dataset.grids)]).then(function (data) {
    var villages = L.geoJSON(data[0], { style: { color: "#12406b", weight: 3, fill: false }, interactive: false });
    var grids = L.geoJSON(data[1], {
      style: { color: "#3a7bbf", weight: 1, fillOpacity: 0.08 },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindTooltip(text(p.code_spaced + " · " + p.village_name + " · " + p.households + " " + el.dataset.householdsLabel));
        layer.on("click", function () { gridPopup(layer, p.code); });
      }
    });
    grids.addTo(map);
    villages.addTo(map);
    cases.bringToFront && cases.eachLayer(function (l) { l.bringToFront(); });
    var bounds = villages.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds); }
    loadCases();
  }).catch(function () {});
  if (filters) { filters.addEventListener("change", loadCases); }
})();
