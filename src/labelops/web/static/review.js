/* labelops audit review: label keys pick the blind answer, C / X the verdict, Enter sends. */
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  if (!form) { return; }
  var first = form.querySelector("input[type=radio], input[type=checkbox]");
  if (first && !document.activeElement.closest("form")) { first.focus(); }
  var sent = false;
  form.addEventListener("submit", function (event) {
    if (sent) { event.preventDefault(); return; }  // a double Enter sends once
    sent = true;
  });
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var tag = event.target.tagName;
    if (tag === "TEXTAREA" || (tag === "INPUT" && event.target.type === "text") ||
        (tag === "INPUT" && !event.target.type)) {
      if (event.key === "Enter") { event.preventDefault(); form.requestSubmit(); }
      return;
    }
    if (event.key === "Enter") { event.preventDefault(); form.requestSubmit(); return; }
    var key = event.key.length === 1 ? event.key.toLowerCase() : "";
    if (!key) { return; }
    var input = form.querySelector('input[data-hotkey="' + key + '"]');
    if (input) {
      event.preventDefault();
      if (input.type === "checkbox") { input.checked = !input.checked; } else { input.checked = true; }
      input.focus();
    }
  });
})();
