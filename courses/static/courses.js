// Course pages: confirm destructive actions and copy Markdown snippets (no inline scripts: CSP).
(function () {
  "use strict";
  document.querySelectorAll("form.js-confirm").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm") || "Are you sure?")) {
        event.preventDefault();
      }
    });
  });
  document.querySelectorAll("button.js-copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.getAttribute("data-target"));
      if (!input) { return; }
      input.select();
      var done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });

  // Rows of a tbody.js-reorder (the quiz's questions) get "Move up/down" buttons: the form
  // submits its checkboxes in the order shown, so moving a row changes the quiz's order.
  document.querySelectorAll("tbody.js-reorder").forEach(function (body) {
    Array.prototype.forEach.call(body.rows, function (row) {
      var cell = row.cells[0];
      var box = document.createElement("span");
      box.className = "reorder";
      [["up", "Move up"], ["down", "Move down"]].forEach(function (pair) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "btn btn--secondary btn--small reorder__" + pair[0];
        button.textContent = pair[0] === "up" ? "↑" : "↓";
        var what = row.querySelector("code");
        button.setAttribute("aria-label", pair[1] + (what ? " " + what.textContent : ""));
        button.addEventListener("click", function () {
          var other = pair[0] === "up" ? row.previousElementSibling : row.nextElementSibling;
          if (!other) { return; }
          if (pair[0] === "up") { body.insertBefore(row, other); } else { body.insertBefore(other, row); }
          button.focus();
        });
        box.appendChild(button);
      });
      cell.appendChild(box);
    });
  });

  // Lesson editor: "Preview" shows the Markdown as learners will see it, rendered by the
  // server through the one sanitizer (the browser never turns Markdown into HTML itself).
  document.querySelectorAll("textarea[data-preview-url]").forEach(function (area) {
    var bar = document.createElement("div");
    bar.className = "editor-tabs";
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "Editor view");
    var write = document.createElement("button");
    var show = document.createElement("button");
    write.type = show.type = "button";
    write.className = show.className = "btn btn--secondary btn--small";
    write.textContent = "Write";
    show.textContent = "Preview";
    write.setAttribute("aria-pressed", "true");
    show.setAttribute("aria-pressed", "false");
    bar.appendChild(write);
    bar.appendChild(show);
    var panel = document.createElement("div");
    panel.className = "prose editor-preview";
    panel.id = area.id + "-preview";
    panel.hidden = true;
    panel.setAttribute("aria-live", "polite");
    area.parentNode.insertBefore(bar, area);
    area.parentNode.insertBefore(panel, area.nextSibling);
    var token = document.querySelector("input[name=csrf_token]");
    function mode(previewing) {
      area.hidden = previewing;
      panel.hidden = !previewing;
      write.setAttribute("aria-pressed", String(!previewing));
      show.setAttribute("aria-pressed", String(previewing));
    }
    write.addEventListener("click", function () { mode(false); area.focus(); });
    show.addEventListener("click", function () {
      var body = new FormData();
      body.append("body", area.value);
      if (token) { body.append("csrf_token", token.value); }
      panel.textContent = "Rendering the preview…";
      mode(true);
      fetch(area.getAttribute("data-preview-url"), {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "Accept": "text/html", "X-CSRFToken": token ? token.value : "" }
      }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      }).then(function (html) {
        panel.innerHTML = html || "<p class=\"muted\">Nothing to preview yet.</p>";
      }).catch(function () {
        panel.textContent = "The preview could not be loaded. Your text is unchanged; try again.";
      });
    });
  });
})();
// Outcomes page: live skill search. The page works without it (the Search button renders the
// same results on the server); this refreshes them as the author types.
(function () {
  "use strict";
  var input = document.querySelector("input[data-skill-search]");
  var results = document.getElementById("skill-results");
  if (!input || !results) { return; }
  var levels = null;
  var timer = null;
  var token = document.querySelector("input[name=csrf_token]");
  function levelOptions() {
    if (levels) { return levels; }
    var select = document.querySelector("#skill-results select, table select");
    levels = select ? Array.prototype.map.call(select.options, function (o) { return [o.value, o.textContent]; }) : [["1", "1 · Aware"], ["2", "2 · Practitioner"], ["3", "3 · Proficient"], ["4", "4 · Expert"]];
    return levels;
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
    list.className = "result-list";
    hits.forEach(function (hit) {
      var li = document.createElement("li");
      var form = document.createElement("form");
      form.method = "post";
      form.className = "inline-form";
      [["csrf_token", token ? token.value : ""], ["action", "add"], ["skill_id", hit.id], ["q", query]].forEach(function (pair) {
        var hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = pair[0]; hidden.value = pair[1];
        form.appendChild(hidden);
      });
      var label = document.createElement("strong");
      label.textContent = hit.label;
      var source = document.createElement("span");
      source.className = "muted";
      source.textContent = " " + hit.framework_name + (hit.esco ? " · ESCO" : "") + " ";
      var select = document.createElement("select");
      select.name = "level";
      select.setAttribute("aria-label", "Level of " + hit.label);
      levelOptions().forEach(function (opt) {
        var option = document.createElement("option");
        option.value = opt[0]; option.textContent = opt[1];
        if (opt[0] === "2") { option.selected = true; }
        select.appendChild(option);
      });
      var button = document.createElement("button");
      button.type = "submit";
      button.className = "btn btn--primary btn--small";
      button.textContent = "Add outcome";
      form.append(label, source, select, button);
      li.appendChild(form);
      list.appendChild(li);
    });
    results.appendChild(list);
  }
  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    var query = input.value.trim();
    if (query.length < 2) { return; }
    timer = window.setTimeout(function () {
      var url = input.getAttribute("data-skill-search") + "?limit=15&q=" + encodeURIComponent(query);
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) { if (input.value.trim() === query) { render(data.results, query); } })
        .catch(function () { /* keep the server-rendered results */ });
    }, 200);
  });
})();
