// Fill the hidden lon/lat fields from the phone's position. Browsers report WGS 84;
// the server also accepts GCJ-02 when a native wrapper sets crs=gcj02.
(function () {
  var button = document.getElementById("locate");
  if (!button) return;
  var status = document.getElementById("position");
  button.addEventListener("click", function () {
    if (!navigator.geolocation) { status.textContent = status.dataset.failed; return; }
    status.textContent = status.dataset.waiting;
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById("id_lon").value = pos.coords.longitude.toFixed(7);
      document.getElementById("id_lat").value = pos.coords.latitude.toFixed(7);
      var crs = document.getElementById("id_crs");
      if (crs && !crs.value) crs.value = "wgs84";
      status.textContent = pos.coords.longitude.toFixed(6) + ", " + pos.coords.latitude.toFixed(6) +
        " (±" + Math.round(pos.coords.accuracy) + " m)";
    }, function () { status.textContent = status.dataset.failed; },
    { enableHighAccuracy: true, timeout: 15000 });
  });
})();
