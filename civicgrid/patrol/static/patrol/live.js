// The center's live map: last positions of staff on duty, polled; stale ones greyed.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  var map = L.map(el, { zoomSnap: 0.25 });
  var markers = {};
  var group = L.layerGroup().addTo(map);
  var spreader = window.CivicGridMap ? window.CivicGridMap.spread(map, group) : null;
  var list = document.getElementById("on-duty");
  var counter = document.getElementById("on-duty-count");
  var fitted = false;

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
  }
  function line(label, value) {
    var row = document.createElement("div");
    row.textContent = label + ": " + value;
    return row;
  }
  function popup(p) {
    var box = document.createElement("div");
    var who = document.createElement("strong");
    who.textContent = p.username;
    box.appendChild(who);
    box.appendChild(line(el.dataset.gridLabel, p.grid || "-"));
    box.appendChild(line(el.dataset.sinceLabel, new Date(p.since).toLocaleTimeString()));
    box.appendChild(line(el.dataset.fixLabel, new Date(p.at).toLocaleTimeString()));
    box.appendChild(line(el.dataset.batteryLabel, p.battery === null ? "-" : Math.round(p.battery) + " %"));
    var link = document.createElement("a");
    link.href = el.dataset.replay + encodeURIComponent(p.username) + "/";
    link.textContent = el.dataset.trackLabel;
    box.appendChild(link);
    return box;
  }
  function style(p) {
    return p.stale
      ? { radius: 8, color: "#6b7280", fillColor: "#d1d5db", fillOpacity: 0.9, weight: 1 }
      : { radius: 8, color: "#065f46", fillColor: "#10b981", fillOpacity: 0.9, weight: 2 };
  }
  function mark(marker) {
    var element = marker.getElement && marker.getElement();
    if (!element || !marker.staff) { return; }
    element.classList.toggle("stale", marker.staff.stale);
    element.setAttribute("data-username", marker.staff.username);
  }
  function refresh() {
    getJSON(el.dataset.live).then(function (rows) {
      var seen = {};
      list.textContent = "";
      rows.forEach(function (p) {
        seen[p.username] = true;
        var marker = markers[p.username];
        if (!marker) {
          // The class is given at creation: before the map has its first view the marker
          // has no element yet, and it gets one (with the class) when the map is ready.
          marker = L.circleMarker([p.lat, p.lon], Object.assign({ className: "staff-marker" }, style(p)));
          marker.on("add", function () { mark(this); });
          marker.addTo(group);
          markers[p.username] = marker;
        }
        marker.staff = p;
        marker.setLatLng([p.lat, p.lon]);
        if (spreader) { spreader.home(marker, [p.lat, p.lon]); }
        marker.setStyle(style(p));
        mark(marker);
        marker.bindPopup(popup(p));
        var item = document.createElement("li");
        item.textContent = p.username + " · " + (p.grid || "-") + (p.stale ? " ⏸" : "");
        item.className = p.stale ? "stale" : "fresh";
        item.setAttribute("data-username", p.username);
        list.appendChild(item);
      });
      Object.keys(markers).forEach(function (name) {
        if (!seen[name]) { group.removeLayer(markers[name]); delete markers[name]; }
      });
      if (spreader) { spreader.layout(); }
      counter.textContent = String(rows.length);
      if (!fitted && rows.length) {
        map.fitBounds(L.latLngBounds(rows.map(function (p) { return [p.lat, p.lon]; })).pad(0.5));
        fitted = true;
      }
    }).catch(function () { /* the next poll tries again */ });
  }
  getJSON(el.dataset.grids).then(function (grids) {
    var layer = L.geoJSON(grids, { style: { color: "#3a7bbf", weight: 1, fillOpacity: 0.05 }, interactive: false }).addTo(map);
    if (!fitted && layer.getBounds().isValid()) { map.fitBounds(layer.getBounds()); }
  }).catch(function () { map.setView([23.01, 113.02], 14); });
  refresh();
  window.setInterval(refresh, Number(el.dataset.interval) || 5000);
})();
