// The role picker of the "Create login" wizard and the login page: choosing a role ticks its
// functions, and ticking a function selects the role that matches (Custom when none does).
// Without this file the "Use this role" button does the same on the server.
(function () {
  "use strict";
  function ticked(boxes) {
    var values = [];
    boxes.forEach(function (box) { if (box.checked) { values.push(box.value); } });
    return values.sort().join(" ");
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-role-picker]").forEach(function (picker) {
      var form = picker.closest("form");
      if (!form) { return; }
      var boxes = form.querySelectorAll("input[type=checkbox][name=permissions]");
      var radios = picker.querySelectorAll("input[type=radio][name=role]");
      var custom = picker.querySelector("input[type=radio][name=role][value=custom]");
      radios.forEach(function (radio) {
        radio.addEventListener("change", function () {
          if (!radio.checked || radio.dataset.permissions === undefined) { return; }
          var wanted = radio.dataset.permissions.split(" ");
          boxes.forEach(function (box) {
            if (!box.disabled) { box.checked = wanted.indexOf(box.value) !== -1; }
          });
        });
      });
      boxes.forEach(function (box) {
        box.addEventListener("change", function () {
          var current = ticked(boxes);
          var match = custom;
          radios.forEach(function (radio) {
            if (radio.dataset.permissions !== undefined && radio.dataset.permissions === current) { match = radio; }
          });
          if (match) { match.checked = true; }
        });
      });
    });
  });
})();
