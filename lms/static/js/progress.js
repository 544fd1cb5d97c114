// HR pages: show only the fields that apply to the choice made ("Assign to": a department or
// chosen employees). Elements carry data-shown-when="<radio name>=<value>"; without this script
// every field stays visible with a hint saying when it is used.
(function () {
  "use strict";
  var dependents = document.querySelectorAll("[data-shown-when]");
  if (!dependents.length) { return; }
  function update() {
    dependents.forEach(function (element) {
      var rule = element.getAttribute("data-shown-when").split("=");
      var checked = document.querySelector("input[type=radio][name='" + rule[0] + "']:checked");
      element.hidden = !checked || checked.value !== rule[1];
    });
  }
  document.querySelectorAll("input[type=radio]").forEach(function (radio) {
    radio.addEventListener("change", update);
  });
  update();
})();
