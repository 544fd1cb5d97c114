/* Lab authoring: confirm destructive actions (forms marked data-confirm), and show only the
   parts of a form that apply to the chosen option (elements marked data-when-field="<select id>"
   data-when-value="<value>", e.g. the I/O or the unit-test section of a test). */
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  var dependents = document.querySelectorAll("[data-when-field]");
  function sync(select) {
    dependents.forEach(function (element) {
      if (element.getAttribute("data-when-field") === select.id) {
        element.hidden = select.value !== element.getAttribute("data-when-value");
      }
    });
  }
  var seen = {};
  dependents.forEach(function (element) {
    var id = element.getAttribute("data-when-field");
    var select = document.getElementById(id);
    if (!select || seen[id]) { return; }
    seen[id] = true;
    select.addEventListener("change", function () { sync(select); });
    sync(select);
  });
})();
