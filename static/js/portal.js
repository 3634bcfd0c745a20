// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // The company switcher submits as soon as a company is chosen; its button stays for keyboard
  // users who browse the options with the arrow keys (a change event fires on every arrow press
  // in some browsers, so only submit on a pointer or Enter-driven change).
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      var pointer = false;
      select.addEventListener("mousedown", function () { pointer = true; });
      select.addEventListener("change", function () {
        if (pointer) { select.form.requestSubmit(); }
        pointer = false;
      });
    });
    // Close an open dropdown with Escape and return focus to its toggle.
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") { return; }
      document.querySelectorAll("details[open]").forEach(function (details) {
        details.removeAttribute("open");
        var summary = details.querySelector("summary");
        if (summary && details.contains(document.activeElement)) { summary.focus(); }
      });
    });
  });
})();
