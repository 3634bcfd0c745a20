// Small progressive enhancements; every page works without this file.
// Loaded without `defer` so that <html class="js"> is set before the first paint: the stylesheet
// then hides the phone menu behind its "Menu" button instead of flashing it open.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // The phone menu: a disclosure button (aria-expanded, aria-controls) that shows the menu as a list.
  function setUpMenuToggle(button) {
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    if (!menu) { return; }
    function setOpen(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("is-open", open);
    }
    setOpen(false);
    button.hidden = false;
    button.addEventListener("click", function () {
      setOpen(button.getAttribute("aria-expanded") !== "true");
    });
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        button.focus();
      }
    });
  }

  // A <details class="dropdown"> (the cogwheel) closes when a click or the focus goes elsewhere, and
  // on Escape; its <summary> reports the state in aria-expanded.
  function setUpDropdown(details) {
    var summary = details.querySelector("summary");
    if (!summary) { return; }
    function sync() { summary.setAttribute("aria-expanded", details.open ? "true" : "false"); }
    sync();
    details.addEventListener("toggle", sync);
    details.addEventListener("focusout", function (event) {
      // relatedTarget is null when focus leaves the window or goes to a non-focusable spot; the click
      // handler below covers the latter.
      if (details.open && event.relatedTarget && !details.contains(event.relatedTarget)) {
        details.open = false;
      }
    });
  }

  function closeDropdownsOutside(target) {
    document.querySelectorAll("details.dropdown[open]").forEach(function (details) {
      if (!details.contains(target)) { details.open = false; }
    });
  }

  // After a form error the error summary takes the focus (it links to each field); on a new step of
  // a wizard, the step's heading does. Either way the keyboard starts where the work is.
  function focusWhereTheWorkIs() {
    var target = document.querySelector("[data-error-summary]") || document.querySelector("[data-focus-on-load]");
    if (target) { target.focus(); }
  }

  // A link in the error summary focuses its field and scrolls so that the field's label shows too.
  function followErrorLink(event) {
    var link = event.target.closest && event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) { return; }
    var id = decodeURIComponent(link.getAttribute("href").slice(1));
    // A group of radios or checkboxes has no element of its own id: go to its first option.
    var field = document.getElementById(id) || document.getElementById(id + "_0");
    if (!field) { return; }
    event.preventDefault();
    var label = field.id ? document.querySelector("label[for='" + field.id + "']") : null;
    var legend = field.closest("fieldset") && field.closest("fieldset").querySelector("legend");
    (label || legend || field).scrollIntoView({ block: "start" });
    field.focus({ preventScroll: true });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-menu-toggle]").forEach(setUpMenuToggle);
    document.querySelectorAll("details.dropdown").forEach(setUpDropdown);
    focusWhereTheWorkIs();

    // The company switcher submits as soon as a company is chosen; its button stays for keyboard
    // users who browse the options with the arrow keys (a change event fires on every arrow press
    // in some browsers, so only submit on a pointer or Enter-driven change).
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      var pointer = false;
      select.addEventListener("mousedown", function () { pointer = true; });
      select.addEventListener("change", function () {
        if (pointer) { select.form.requestSubmit(); }
        pointer = false;
      });
    });
  });

  // A list's bulk selection (selfcare.lists): the header's checkbox ticks every line on the page, and
  // shows whether all are ticked. Delegated, so it works in results swapped in by htmx too.
  document.addEventListener("change", function (event) {
    var target = event.target;
    var form = target.form;
    if (!form || !target.matches) { return; }
    var boxes = form.querySelectorAll("input[name='bulk_ids']");
    if (target.matches("[data-bulk-select-all]")) {
      boxes.forEach(function (box) { box.checked = target.checked; });
    } else if (target.matches("input[name='bulk_ids']")) {
      var all = form.querySelector("[data-bulk-select-all]");
      if (all) { all.checked = Array.prototype.every.call(boxes, function (box) { return box.checked; }); }
    }
  });

  // "Save as shortcut" (components/shortcut_save.html): htmx may have changed the list's filters since
  // the page loaded; the address bar has them (hx-push-url), so that is the page the form saves.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-shortcut-save]")) { return; }
    var field = form.querySelector("[data-current-path]");
    if (field) { field.value = window.location.pathname + window.location.search; }
  });

  document.addEventListener("click", function (event) {
    closeDropdownsOutside(event.target);
    followErrorLink(event);
  });

  // Escape closes an open dropdown and returns the focus to its toggle.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    document.querySelectorAll("details.dropdown[open]").forEach(function (details) {
      var hadFocus = details.contains(document.activeElement);
      details.open = false;
      var summary = details.querySelector("summary");
      if (summary && hadFocus) { summary.focus(); }
    });
  });
})();
