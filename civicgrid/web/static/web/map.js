// Villages and active grids on a plain background: the platform fetches nothing from
// outside the township's own server, so there is no tile layer.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  var map = L.map(el, { zoomSnap: 0.25 });
  var label = el.dataset.householdsLabel;
  function load(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); });
  }
  Promise.all([load(el.dataset.villages), load(el.dataset.grids)]).then(function (data) {
    var villages = L.geoJSON(data[0], { style: { color: "#12406b", weight: 3, fill: false } });
    var grids = L.geoJSON(data[1], {
      style: { color: "#3a7bbf", weight: 1, fillOpacity: 0.15 },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        var text = document.createElement("span");
        text.textContent = p.code_spaced + " · " + p.village_name + " · " + p.households + " " + label;
        layer.bindTooltip(text);
      }
    });
    grids.addTo(map);
    villages.addTo(map);
    var bounds = villages.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds); }
  });
})();
