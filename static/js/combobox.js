// The combobox (WAI-ARIA combobox with a listbox popup) of the order form's employee field and of the
// global search in the top bar: the suggestions come from the server with htmx as the user types;
// arrow keys move through them (across groups), Enter or a click picks one, Escape closes the list.
// Picking an option with data-href opens that page (the global search); otherwise it fills the hidden
// value field (data-combobox-value, or the order form's subscription field) with its data-value.
(function () {
  "use strict";

  function setup(root) {
    if (root.hasAttribute("data-combobox-ready")) return;  // the script may be on a page twice
    var input = root.querySelector("[data-combobox]");
    var hidden = root.querySelector("[data-combobox-value]") || root.querySelector("input[name=subscription]");
    if (!input) return;
    root.setAttribute("data-combobox-ready", "");
    var active = -1;

    function list() { return root.querySelector("[role=listbox]"); }
    function options() { var l = list(); return l ? Array.prototype.slice.call(l.querySelectorAll("[role=option]")) : []; }
    function open(yes) {
      var l = list();
      if (l) l.hidden = !yes;
      input.setAttribute("aria-expanded", yes ? "true" : "false");
      if (!yes) { input.removeAttribute("aria-activedescendant"); active = -1; }
    }
    function highlight(index) {
      var all = options();
      all.forEach(function (option, i) { option.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0 && all[index]) {
        input.setAttribute("aria-activedescendant", all[index].id);
        all[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    function pick(option) {
      var href = option.getAttribute("data-href");
      if (href) {
        open(false);
        window.location.assign(href);
        return;
      }
      if (hidden) hidden.value = option.getAttribute("data-value");
      input.value = option.getAttribute("data-label");
      var chosen = root.querySelector("[data-combobox-chosen]");
      if (chosen) chosen.remove();
      open(false);
    }

    input.addEventListener("input", function () { if (hidden) hidden.value = ""; });
    input.addEventListener("keydown", function (event) {
      var all = options();
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!all.length) return;
        open(true);
        highlight(active + 1 < all.length ? active + 1 : 0);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (!all.length) return;
        open(true);
        highlight(active > 0 ? active - 1 : all.length - 1);
      } else if (event.key === "Enter") {
        if (active >= 0 && all[active] && input.getAttribute("aria-expanded") === "true") {
          event.preventDefault();
          pick(all[active]);
        }
      } else if (event.key === "Escape") {
        // An open list closes and the text stays (a search field would clear itself otherwise); with the
        // list closed, Escape does what the field does by itself.
        if (input.getAttribute("aria-expanded") === "true") {
          event.preventDefault();
          event.stopPropagation();
        }
        open(false);
      }
    });
    root.addEventListener("mousedown", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) { event.preventDefault(); pick(option); }
    });
    input.addEventListener("blur", function () { open(false); });
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (!root.contains(event.target)) return;
      active = -1;
      open(options().length > 0);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-combobox-root]").forEach(setup);
  });
})();
