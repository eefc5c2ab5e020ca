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
  var gridLayer = null, unitLayer = null, picked = null, fitted = false;

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
        style: function (f) {
          return { color: "#12406b", weight: 2, fillOpacity: 0.25,
                   className: "grid grid-" + f.properties.code,
                   fillColor: f.properties.in_range ? "#3a9b5b" : "#c0392b" };
        },
        onEachFeature: function (f, layer) {
          var t = document.createElement("span");
          t.textContent = f.properties.code_spaced + " · " + f.properties.households + " " + label;
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
    });
  }
  function move(unit, grid) {
    picked = null;
    fetch(el.dataset.moves, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify({ unit: unit, to_grid: grid })
    }).then(function (r) { return r.json(); }).then(function (body) {
      if (body.moved) { say(body.warnings, "warning"); } else { say(body.problems || [body.message], "error"); }
      status.textContent = el.dataset.pickUnit;
      load();
    });
  }
  load();
})();
