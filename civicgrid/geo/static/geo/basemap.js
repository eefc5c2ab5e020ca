// Every Leaflet map of the platform gets the township's reference layers (roads, rivers,
// water, building footprints, place names, village names, grid numbers) from the
// platform's own server, drawn under the page's own layers; and, when the operator set
// one, a tile layer. Load after leaflet.js and before the page's map script: it hooks into
// every L.map created afterwards, so the page scripts stay as they are.
//
// GCJ-02 tiles: the map's projection offsets every WGS 84 coordinate into GCJ-02 (the
// same formula as civicgrid/geo/crs.py) before projecting, and undoes it for a click, so
// the stored WGS 84 grids, cases and positions line up with the tiles and a tap still
// gives a WGS 84 point.
(function () {
  "use strict";
  if (!window.L) { return; }
  var configEl = document.getElementById("basemap-config");
  var config = configEl ? JSON.parse(configEl.textContent) : {};

  // --- GCJ-02 ---------------------------------------------------------------------------
  var A = 6378245.0, EE = 0.00669342162296594323, PI = Math.PI;
  function insideChina(lon, lat) {
    return lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271;
  }
  function offset(lon, lat) {
    var x = lon - 105.0, y = lat - 35.0, root = Math.sqrt(Math.abs(x));
    var ripple = (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * root + ripple;
    dlat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    dlat += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * root + ripple;
    dlon += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    dlon += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    var rad = lat / 180.0 * PI, s = 1 - EE * Math.sin(rad) * Math.sin(rad);
    dlat = dlat * 180.0 / ((A * (1 - EE)) / (s * Math.sqrt(s)) * PI);
    dlon = dlon * 180.0 / (A / Math.sqrt(s) * Math.cos(rad) * PI);
    return [dlon, dlat];
  }
  function wgs84ToGcj02(lon, lat) {
    if (!insideChina(lon, lat)) { return [lon, lat]; }
    var d = offset(lon, lat);
    return [lon + d[0], lat + d[1]];
  }
  function gcj02ToWgs84(lon, lat) {
    var wlon = lon, wlat = lat;
    for (var i = 0; i < 30; i++) {
      var f = wgs84ToGcj02(wlon, wlat), elon = f[0] - lon, elat = f[1] - lat;
      wlon -= elon; wlat -= elat;
      if (Math.abs(elon) < 1e-9 && Math.abs(elat) < 1e-9) { break; }
    }
    return [wlon, wlat];
  }
  var merc = L.Projection.SphericalMercator;
  var gcjProjection = {
    R: merc.R, MAX_LATITUDE: merc.MAX_LATITUDE, bounds: merc.bounds,
    project: function (latlng) {
      var g = wgs84ToGcj02(latlng.lng, latlng.lat);
      return merc.project(L.latLng(g[1], g[0]));
    },
    unproject: function (point) {
      var g = merc.unproject(point), w = gcj02ToWgs84(g.lng, g.lat);
      return L.latLng(w[1], w[0]);
    }
  };
  L.CRS.GCJ02 = L.extend({}, L.CRS.EPSG3857, { code: "GCJ02", projection: gcjProjection });

  var tiles = config.tiles || null;
  if (tiles && tiles.crs === "gcj02") { L.Map.mergeOptions({ crs: L.CRS.GCJ02 }); }

  // --- reference layers -------------------------------------------------------------------
  var STYLES = {
    water: { color: "#6fa8dc", weight: 1, fillColor: "#a9cdf0", fillOpacity: 0.8 },
    river: { color: "#4a90d9", weight: 5, opacity: 0.8, fillColor: "#a9cdf0", fillOpacity: 0.8 },
    road: { color: "#b8c2cc", weight: 3, opacity: 1 },
    building: { color: "#a8927a", weight: 0.5, fillColor: "#d9c8b4", fillOpacity: 0.9 }
  };
  function style(feature) {
    var s = STYLES[feature.properties.layer] || STYLES.road;
    return L.extend({ interactive: false, className: "ref ref-" + feature.properties.layer }, s);
  }
  function label(feature, latlng, pane) {
    var p = feature.properties;
    var text = document.createElement("span");
    text.textContent = p.name;
    return L.marker(latlng, {
      pane: pane, interactive: false, keyboard: false,
      zIndexOffset: p.layer === "village" ? 1000 : 0,  // village names above grid numbers
      icon: L.divIcon({ className: "ref-label ref-label-" + p.layer, html: text, iconSize: null })
    });
  }
  // A grid number under a village name hides, rather than both being unreadable: the names
  // are placed at the village's inner point, which often falls on one grid's number.
  function declutter(group) {
    var names = [], numbers = [];
    group.eachLayer(function (marker) {
      var el = marker.getElement && marker.getElement();
      if (!el || !el.firstChild) { return; }
      (el.classList.contains("ref-label-village") ? names : numbers).push(el);
    });
    var boxes = names.map(function (el) { return el.firstChild.getBoundingClientRect(); });
    numbers.forEach(function (el) {
      var r = el.firstChild.getBoundingClientRect();
      var hit = boxes.some(function (b) {
        return r.left < b.right && b.left < r.right && r.top < b.bottom && b.top < r.bottom;
      });
      el.classList.toggle("ref-label-covered", hit);
    });
  }
  function snap(value, step, up) { return (up ? Math.ceil : Math.floor)(value / step) * step; }

  function attach(map) {
    var el = map.getContainer();
    el.civicgridMap = map;  // for tests and the browser console
    if (el.dataset.reference === "off" || !config.reference) { return; }
    var wanted = el.dataset.referenceLayers || "";
    map.createPane("referencePane").style.zIndex = 250;
    var labelsPane = map.createPane("referenceLabels");
    labelsPane.style.zIndex = 450;
    labelsPane.style.pointerEvents = "none";
    if (tiles && tiles.url) {
      L.tileLayer(tiles.url, {
        attribution: tiles.attribution || "", maxZoom: tiles.maxZoom || 19,
        subdomains: tiles.subdomains || "abc"
      }).addTo(map);
    }
    var renderer = L.svg({ pane: "referencePane" });
    var shapes = L.geoJSON(null, { style: style, renderer: renderer, pane: "referencePane" }).addTo(map);
    var labels = L.geoJSON(null, {
      pointToLayer: function (f, latlng) { return label(f, latlng, "referenceLabels"); }
    }).addTo(map);
    var lastKey = null, timer = null;
    function load() {
      var zoom = Math.max(0, Math.min(19, Math.floor(map.getZoom())));
      var b = map.getBounds(), step = 360 / Math.pow(2, zoom);
      var box = [
        Math.max(-180, snap(b.getWest(), step)), Math.max(-90, snap(b.getSouth(), step)),
        Math.min(180, snap(b.getEast(), step, true)), Math.min(90, snap(b.getNorth(), step, true))
      ];
      var key = zoom + ":" + box.join(",");
      if (key === lastKey) { return; }
      lastKey = key;
      var params = new URLSearchParams({ bbox: box.join(","), zoom: String(zoom) });
      if (wanted) { params.set("layers", wanted); }
      fetch(config.reference + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) {
          if (key !== lastKey) { return; }
          var lines = [], points = [];
          data.features.forEach(function (f) {
            (f.geometry.type === "Point" ? points : lines).push(f);
          });
          shapes.clearLayers();
          labels.clearLayers();
          shapes.addData(lines);
          labels.addData(points);
          declutter(labels);
          el.dataset.referenceFeatures = String(data.features.length);
          el.classList.toggle("ref-zoom-near", zoom >= 16);
        })
        .catch(function () { lastKey = null; /* offline for a moment: the next move retries */ });
    }
    map.on("moveend zoomend", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(load, 120);
    });
    map.whenReady(load);
    map.civicgridReference = { shapes: shapes, labels: labels };
  }
  L.Map.addInitHook(function () { attach(this); });

  // --- overlapping markers ------------------------------------------------------------------
  // Markers that would cover each other are spread on a small spiral around their common
  // place, with a thin line back to it; each stays clickable. Recomputed on every zoom.
  function spread(map, group, options) {
    var near = (options && options.pixels) || 14;
    var legs = L.layerGroup().addTo(map);
    function layout() {
      if (!map._loaded) { return; }
      legs.clearLayers();
      var markers = [];
      group.eachLayer(function (m) {
        if (!m.getLatLng) { return; }
        if (!m._civicgridHome) { m._civicgridHome = m.getLatLng(); }
        markers.push(m);
      });
      var used = {};
      markers.forEach(function (m, i) {
        if (used[i]) { return; }
        var home = map.latLngToLayerPoint(m._civicgridHome);
        var members = [m];
        used[i] = true;
        for (var j = i + 1; j < markers.length; j++) {
          if (used[j]) { continue; }
          if (map.latLngToLayerPoint(markers[j]._civicgridHome).distanceTo(home) < near) {
            members.push(markers[j]);
            used[j] = true;
          }
        }
        if (members.length === 1) {
          m.setLatLng(m._civicgridHome);
          return;
        }
        members.forEach(function (member, k) {
          var angle = k * 2.4, radius = 14 + 5 * k;
          var at = map.layerPointToLatLng(home.add(L.point(Math.cos(angle) * radius, Math.sin(angle) * radius)));
          member.setLatLng(at);
          L.polyline([m._civicgridHome, at], { color: "#374151", weight: 1, opacity: 0.7, interactive: false }).addTo(legs);
        });
        L.circleMarker(m._civicgridHome, { radius: 3, color: "#374151", fillOpacity: 1, interactive: false, className: "spread-home" }).addTo(legs);
      });
    }
    map.on("zoomend", layout);
    return {
      layout: layout,
      // For markers that move (live positions): set the true place, then lay out again.
      home: function (marker, latlng) { marker._civicgridHome = L.latLng(latlng); }
    };
  }

  window.CivicGridMap = { spread: spread, wgs84ToGcj02: wgs84ToGcj02, gcj02ToWgs84: gcj02ToWgs84 };
})();
