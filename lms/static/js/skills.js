// Job-role form: skill type-ahead over GET /skills/search (JSON). The form works without it:
// the Search button lists the same skills from the server. With it, matching skills appear as
// HR types, and "Add" puts one in the table of required skills, ticked, at its own scale.
(function () {
  "use strict";
  var input = document.querySelector("input[data-skill-typeahead]");
  var results = document.getElementById("skill-typeahead");
  var body = document.getElementById("role-skills-body");
  if (!input || !results || !body) { return; }
  var timer = null;
  var latest = "";

  function show(id, visible) {
    var el = document.getElementById(id);
    if (el) { el.hidden = !visible; }
  }

  function levelSelect(hit) {
    var select = document.createElement("select");
    select.id = "level_" + hit.id;
    select.name = "level_" + hit.id;
    var levels = hit.levels && hit.levels.length ? hit.levels : [{ rank: 2, name: "practitioner" }];
    var preferred = levels.some(function (l) { return l.rank === 2; }) ? 2 : levels[0].rank;
    levels.forEach(function (level) {
      var option = document.createElement("option");
      option.value = String(level.rank);
      option.textContent = level.rank + " · " + level.name.charAt(0).toUpperCase() + level.name.slice(1);
      option.selected = level.rank === preferred;
      select.appendChild(option);
    });
    return select;
  }

  function hiddenLabel(forId, text) {
    var label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = forId;
    label.textContent = text;
    return label;
  }

  function addRow(hit) {
    var existing = body.querySelector("tr[data-skill-row='" + hit.id + "']");
    if (existing) {
      var box = existing.querySelector("input[type=checkbox]");
      box.checked = true;
      box.focus();
      return "“" + hit.label + "” is already in the list; it is ticked.";
    }
    var row = document.createElement("tr");
    row.setAttribute("data-skill-row", String(hit.id));
    var keep = document.createElement("td");
    var candidate = document.createElement("input");
    candidate.type = "hidden"; candidate.name = "candidate"; candidate.value = String(hit.id);
    var box = document.createElement("input");
    box.type = "checkbox"; box.id = "keep_" + hit.id; box.name = "keep_" + hit.id; box.value = "1";
    box.checked = true;
    keep.append(candidate, box, hiddenLabel(box.id, "Require " + hit.label));
    var name = document.createElement("td");
    name.textContent = hit.label;
    if (hit.esco) {
      var tag = document.createElement("abbr");
      tag.className = "tag tag--info"; tag.title = "ESCO skill"; tag.textContent = "ESCO";
      name.append(" ", tag);
    }
    var matched = document.createElement("td");
    matched.className = "muted small";
    matched.textContent = "—";
    var level = document.createElement("td");
    var select = levelSelect(hit);
    level.append(hiddenLabel(select.id, "Level of " + hit.label), select);
    row.append(keep, name, matched, level);
    body.appendChild(row);
    show("role-skills", true);
    show("role-skills-hint", true);
    show("role-skills-empty", false);
    select.focus();
    return "Added “" + hit.label + "”. Choose the level the role requires.";
  }

  function render(hits, query) {
    results.textContent = "";
    if (!hits.length) {
      var none = document.createElement("p");
      none.className = "muted";
      none.textContent = "No skill matches “" + query + "”. Try a shorter word or another spelling.";
      results.appendChild(none);
      return;
    }
    var list = document.createElement("ul");
    list.className = "typeahead__list";
    list.setAttribute("aria-label", "Skills matching “" + query + "”");
    hits.forEach(function (hit) {
      var item = document.createElement("li");
      var label = document.createElement("span");
      label.textContent = hit.label;
      var source = document.createElement("span");
      source.className = "muted small";
      source.textContent = hit.framework_name + (hit.esco ? " · ESCO" : "");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn--secondary btn--small";
      button.textContent = "Add";
      var hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = " " + hit.label;
      button.appendChild(hidden);
      button.addEventListener("click", function () {
        var message = addRow(hit);
        results.textContent = "";
        var status = document.createElement("p");
        status.className = "muted";
        status.textContent = message;
        results.appendChild(status);
      });
      item.append(label, " ", source, " ", button);
      list.appendChild(item);
    });
    results.appendChild(list);
  }

  function search() {
    var query = input.value.trim();
    latest = query;
    if (query.length < 2) { results.textContent = ""; return; }
    var url = input.getAttribute("data-skill-typeahead") + "&q=" + encodeURIComponent(query);
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) { if (latest === query) { render(data.results || [], query); } })
      .catch(function () { /* the Search button still works */ });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(search, 200);
  });
  // Enter in the search field lists the matches here instead of submitting the whole form.
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      window.clearTimeout(timer);
      search();
    }
  });
})();
