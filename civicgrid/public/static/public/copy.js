// Copy buttons for private links: the clipboard API where the browser allows it, else the
// link's text is selected so the phone's own "Copy" works. Without JavaScript the button
// stays hidden and the link is still there to press and hold.
(function () {
  "use strict";
  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var target = document.getElementById(button.dataset.copy);
    var status = document.getElementById(button.dataset.copy + "-copied");
    if (!target) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = target.getAttribute("href") || target.textContent;
      function done(message) { if (status) { status.textContent = message; } }
      function fallback() {
        selectText(target);
        var copied = false;
        try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
        done(copied ? button.dataset.copied : button.dataset.selected);
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { done(button.dataset.copied); }, fallback);
      } else {
        fallback();
      }
    });
  });
})();
