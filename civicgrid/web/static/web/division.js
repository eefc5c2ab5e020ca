// Review a division on the map: grids coloured by whether their households are in range;
// on a draft, click a unit and then a neighbouring grid to move it. The server re-checks
// every rule and answers what it refused or what is now out of range.
(function () {
  "use strict";
  var el = document.getElementById("division-map");
  if (!el || !window.L) { return; }
  var map = L.map(el, { zoomSnap: 0.25 });
  var status = document.getElementById("move-status");
  var list = document.getElementById("move-messages");
  var editable = el.dataset.editable === "1";
  var label = el.dataset.householdsLabel;
  var gridLayer = null, unitLayer = null, activeLayer = null, picked = null, fitted = false;

  // Changed against the active version: a hatch for a moved boundary or a new grid, a
  // dashed outline for a new code on the same boundary; the rest by households in range.
  function gridStyle(f) {
    var p = f.properties;
    var style = { color: "#12406b", weight: 2, fillOpacity: 0.25,
                  className: "grid grid-" + p.code + " change-" + (p.change || "none"),
                  fillColor: p.in_range ? "#3a9b5b" : "#c0392b" };
    if (p.change === "redrawn" || p.change === "new") {
      style.fillColor = "url(#hatch-changed)";
      style.fillOpacity = 0.75;
      style.color = "#d9480f";
      style.weight = 3;
    } else if (p.change === "renumbered") {
      style.color = "#7c3aed";
      style.weight = 3;
      style.dashArray = "6 4";
    }
    return style;
  }

  function csrf() {
    var m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function say(items, cls) {
    list.replaceChildren();
    items.forEach(function (text) {
      var li = document.createElement("li");
      li.className = cls;
      li.textContent = text;
      list.appendChild(li);
    });
  }
  function load() {
    Promise.all([
      fetch(el.dataset.grids, { credentials: "same-origin" }).then(function (r) { return r.json(); }),
      fetch(el.dataset.units, { credentials: "same-origin" }).then(function (r) { return r.json(); })
    ]).then(function (data) {
      if (gridLayer) { map.removeLayer(gridLayer); }
      if (unitLayer) { map.removeLayer(unitLayer); }
      gridLayer = L.geoJSON(data[0], {
        style: gridStyle,
        onEachFeature: function (f, layer) {
          var p = f.properties;
          var t = document.createElement("span");
          var text = p.code_spaced + " · " + p.households + " " + label;
          if (p.change && p.change !== "same") {
            text += " · " + (el.dataset["label" + p.change.charAt(0).toUpperCase() + p.change.slice(1)] || p.change);
            if (p.previous && p.previous !== p.code) { text += " (" + el.dataset.labelPrevious + " " + p.previous + ")"; }
          }
          t.textContent = text;
          layer.bindTooltip(t);
          layer.on("click", function () { if (picked) { move(picked, f.properties.code); } });
        }
      }).addTo(map);
      unitLayer = L.geoJSON(data[1], {
        style: function (f) {
          return { color: "#555", weight: 0.5, fill: true, fillOpacity: 0,
                   className: "unit unit-" + f.properties.key };
        },
        interactive: editable,
        onEachFeature: function (f, layer) {
          layer.on("click", function (e) {
            if (picked) { return; }
            L.DomEvent.stopPropagation(e);
            picked = f.properties.key;
            layer.setStyle({ fillColor: "#f1c40f", fillOpacity: 0.7 });
            status.textContent = picked + " · " + f.properties.households + " " + label + ". " + el.dataset.pickGrid;
            unitLayer.bringToBack();
          });
        }
      }).addTo(map);
      if (!fitted) { map.fitBounds(gridLayer.getBounds()); fitted = true; }
      drawActive(data[0]);
    });
  }
  // The active version's boundaries where they moved: every active grid that a redrawn or
  // new grid continues, and those no grid continues (codes not in this version).
  function drawActive(draft) {
    if (!el.dataset.activeGrids) { return; }
    var moved = {}, codes = {};
    draft.features.forEach(function (f) {
      var p = f.properties;
      codes[p.code] = true;
      if ((p.change === "redrawn" || p.change === "new") && p.previous) { moved[p.previous] = true; }
    });
    fetch(el.dataset.activeGrids, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (active) {
      if (activeLayer) { map.removeLayer(activeLayer); }
      activeLayer = L.geoJSON({ type: "FeatureCollection", features: active.features.filter(function (f) {
        return moved[f.properties.code] || !codes[f.properties.code];
      }) }, { interactive: false, style: { color: "#111827", weight: 1.5, dashArray: "3 3", fill: false, className: "active-boundary" } }).addTo(map);
    });
  }
  function move(unit, grid) {
    picked = null;
    fetch(el.dataset.moves, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify({ unit: unit, to_grid: grid })
    }).then(function (r) { return r.json(); }).then(function (body) {
      if (body.moved) {
        say(body.warnings, "warning");
        var stale = document.getElementById("stale-after-move");
        if (stale) { stale.hidden = false; }
      } else { say(body.problems || [body.message], "error"); }
      status.textContent = el.dataset.pickUnit;
      load();
    });
  }
  load();
})();
