// The menu is a disclosure on phones and always open on wider screens.
(function () {
  var menu = document.getElementById("menu");
  if (!menu) return;
  var wide = window.matchMedia("(min-width: 60rem)");
  function follow() { menu.open = wide.matches; }
  follow();
  wide.addEventListener("change", follow);
})();
