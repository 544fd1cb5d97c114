/* Lab page: CodeMirror editors, Run/Submit without reloading, live status polling.
 * Without JavaScript the page still works: plain text areas, a normal form post and a
 * submission page that refreshes itself until the result is there. */
(function () {
  "use strict";

  var editors = [];

  function initEditors(root) {
    if (!window.CodeMirror) { return; }
    root.querySelectorAll("textarea[data-editor-mode]").forEach(function (ta) {
      var readOnly = ta.hasAttribute("data-readonly");
      var cm = window.CodeMirror.fromTextArea(ta, {
        mode: ta.getAttribute("data-editor-mode"),
        lineNumbers: true,
        indentUnit: 4,
        tabSize: 4,
        indentWithTabs: false,
        matchBrackets: true,
        viewportMargin: Infinity,
        readOnly: readOnly,
        screenReaderLabel: (ta.labels && ta.labels[0] ? ta.labels[0].textContent : "Code"),
        extraKeys: {
          Tab: function (cm) {
            if (cm.somethingSelected()) { cm.indentSelection("add"); }
            else { cm.replaceSelection(Array(cm.getOption("indentUnit") + 1).join(" "), "end"); }
          },
          "Shift-Tab": function (cm) { cm.indentSelection("subtract"); },
          // Tab indents, so Esc hands the focus back to the page (keyboard users are not trapped).
          Esc: function (cm) {
            var form = ta.form;
            var next = form ? form.querySelector("button") : null;
            if (next) { next.focus(); } else { cm.getInputField().blur(); }
          }
        }
      });
      cm.getWrapperElement().classList.add("lab__editor");
      editors.push(cm);
    });
  }

  function setBusy(form, busy) {
    if (!form) { return; }
    form.querySelectorAll("button[type=submit]").forEach(function (b) {
      if (busy) { b.setAttribute("disabled", "disabled"); } else { b.removeAttribute("disabled"); }
    });
    form.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function statusMessage(region, text, tone) {
    region.textContent = "";
    var p = document.createElement("p");
    p.className = "lab__status-text" + (tone ? " notice notice--" + tone : "");
    p.textContent = text;
    region.appendChild(p);
  }

  function poll(lab, url, form) {
    var region = lab.querySelector("[data-lab-status]");
    var delay = 500;
    function tick() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (resp) {
          if (!resp.ok) { throw new Error("HTTP " + resp.status); }
          return resp.json();
        })
        .then(function (data) {
          if (!data.done) {
            statusMessage(region, data.status_text);
            delay = Math.min(delay * 1.3, 2000);
            window.setTimeout(tick, delay);
            return;
          }
          statusMessage(region, data.status_text, data.status === "error" ? "danger" : null);
          var result = lab.querySelector("[data-lab-result]");
          if (result && data.html) { result.innerHTML = data.html; }
          var history = lab.querySelector("[data-lab-history]");
          if (history && data.history_html) { history.innerHTML = data.history_html; }
          region.removeAttribute("data-pending-url");
          setBusy(form, false);
        })
        .catch(function () {
          statusMessage(region, "Lost contact with the server; retrying…", "warning");
          window.setTimeout(tick, 3000);
        });
    }
    tick();
  }

  function initForm(lab) {
    var form = lab.querySelector("form[data-lab-form]");
    var region = lab.querySelector("[data-lab-status]");
    if (region && region.getAttribute("data-pending-url")) {
      setBusy(form, true);
      poll(lab, region.getAttribute("data-pending-url"), form);
    }
    if (!form || !window.fetch || !window.FormData) { return; }
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      event.preventDefault();
      editors.forEach(function (cm) { cm.save(); });
      var data = new FormData(form);
      data.set("kind", submitter && submitter.value ? submitter.value : "submit");
      setBusy(form, true);
      statusMessage(region, "Sending your code…");
      fetch(form.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-Requested-With": "fetch" }
      })
        .then(function (resp) {
          return resp.json().then(function (body) { return { ok: resp.ok, body: body }; });
        })
        .then(function (res) {
          if (!res.ok) {
            statusMessage(region, res.body.detail || res.body.title || "The code could not be sent.", "danger");
            setBusy(form, false);
            return;
          }
          statusMessage(region, res.body.status_text);
          if (res.body.done) {
            var result = lab.querySelector("[data-lab-result]");
            if (result && res.body.html) { result.innerHTML = res.body.html; }
            var history = lab.querySelector("[data-lab-history]");
            if (history && res.body.history_html) { history.innerHTML = res.body.history_html; }
            setBusy(form, false);
          } else {
            poll(lab, res.body.json_url, form);
          }
        })
        .catch(function () {
          statusMessage(region, "The code could not be sent: check your connection and try again.", "danger");
          setBusy(form, false);
        });
    });
  }

  function init() {
    document.querySelectorAll("[data-lab]").forEach(function (lab) {
      initEditors(lab);
      initForm(lab);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
