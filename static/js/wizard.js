// The role picker of the "Create login" wizard and the login page: choosing a role ticks its
// functions, and ticking a function selects the role that matches (Custom when none does).
// Functions ticked by hand are never wiped by moving through the roles (arrow keys change the radio
// at every press): they are kept, a note says so, and "Use this role" replaces them when the user
// confirms. Without this file the "Use this role" button does the same on the server.
(function () {
  "use strict";
  function ticked(boxes) {
    var values = [];
    boxes.forEach(function (box) { if (box.checked) { values.push(box.value); } });
    return values.sort().join(" ");
  }
  function preset(radio) {
    return radio && radio.dataset.permissions !== undefined ? radio.dataset.permissions : null;
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-role-picker]").forEach(function (picker) {
      var form = picker.closest("form");
      if (!form) { return; }
      var boxes = form.querySelectorAll("input[type=checkbox][name=permissions]");
      var radios = picker.querySelectorAll("input[type=radio][name=role]");
      var custom = picker.querySelector("input[type=radio][name=role][value=custom]");
      var apply = picker.querySelector("[data-role-apply]");
      var note = picker.querySelector("[data-role-kept]");

      // A live region: the text is set when it is needed, so screen readers announce it.
      function showNote() { if (note) { note.textContent = note.dataset.message; } }
      function hideNote() { if (note) { note.textContent = ""; } }
      function chosen() {
        var found = null;
        radios.forEach(function (radio) { if (radio.checked) { found = radio; } });
        return found;
      }
      // What a role would tick among the boxes this user may change (the others never move).
      function enabledPreset(radio) {
        var wanted = preset(radio).split(" ");
        var values = [];
        boxes.forEach(function (box) { if (!box.disabled && wanted.indexOf(box.value) !== -1) { values.push(box.value); } });
        return values.sort().join(" ");
      }
      function enabledTicked() {
        var values = [];
        boxes.forEach(function (box) { if (!box.disabled && box.checked) { values.push(box.value); } });
        return values.sort().join(" ");
      }
      // Ticks that no role put there (by hand, or a Custom login's own) are worth keeping.
      var start = chosen();
      var handTicked = preset(start) === null ? enabledTicked() !== "" : enabledTicked() !== enabledPreset(start);

      function tickRole(radio) {
        var wanted = preset(radio).split(" ");
        boxes.forEach(function (box) {
          if (!box.disabled) { box.checked = wanted.indexOf(box.value) !== -1; }
        });
        handTicked = false;
        hideNote();
      }

      radios.forEach(function (radio) {
        radio.addEventListener("change", function () {
          if (!radio.checked || preset(radio) === null) {
            hideNote();
            return;
          }
          if (handTicked) {
            showNote();
            return;
          }
          tickRole(radio);
        });
      });
      if (apply) {
        apply.addEventListener("click", function (event) {
          var radio = chosen();
          if (preset(radio) === null) { return; }  // let the server explain
          event.preventDefault();
          tickRole(radio);
        });
      }
      boxes.forEach(function (box) {
        box.addEventListener("change", function () {
          var current = ticked(boxes);
          var match = custom;
          radios.forEach(function (radio) {
            if (preset(radio) === current) { match = radio; }
          });
          if (match) { match.checked = true; }
          handTicked = true;
          hideNote();
        });
      });
    });
  });
})();
