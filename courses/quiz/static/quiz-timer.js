// Quiz attempt page: a countdown that submits the attempt when time runs out, and a quiet
// autosave of the answers after each change. The server stays authoritative: it refuses
// answers that arrive after the deadline and grades what was saved before it.
(function () {
  "use strict";
  var form = document.getElementById("quiz-form");
  if (!form) return;
  var saveUrl = form.getAttribute("data-save-url");
  var savedNote = document.getElementById("quiz-saved");
  var status = document.getElementById("quiz-timer-status");
  var submitting = false;

  form.addEventListener("submit", function () { submitting = true; });

  // --- autosave ------------------------------------------------------------------------------
  var pending = null;
  function save() {
    pending = null;
    if (submitting || !window.fetch || !saveUrl) return;
    fetch(saveUrl, {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      if (response.status === 409) {
        return response.json().then(function (body) {
          if (body.result) window.location.assign(body.result);
        });
      }
      if (response.ok && savedNote) {
        var now = new Date();
        savedNote.textContent = "Answers saved automatically at " +
          now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) + ".";
      }
    }).catch(function () { /* offline: the next change or the submit tries again */ });
  }
  form.addEventListener("change", function () {
    if (pending) window.clearTimeout(pending);
    pending = window.setTimeout(save, 800);
  });

  // --- countdown -----------------------------------------------------------------------------
  var timer = document.getElementById("quiz-timer");
  if (!timer) return;
  var value = timer.querySelector(".quiz-timer__value");
  var total = parseInt(timer.getAttribute("data-seconds-left"), 10);
  if (isNaN(total)) return;
  var started = Date.now();
  var announced = {};

  function format(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)) + ":" + String(s).padStart(2, "0");
    return h ? h + ":" + mm : mm;
  }

  function announce(text) { if (status) status.textContent = text; }

  function tick() {
    var left = Math.max(0, total - Math.floor((Date.now() - started) / 1000));
    value.textContent = format(left);
    if (left <= 60) timer.classList.add("quiz-timer--urgent");
    [300, 60].forEach(function (mark) {
      if (left <= mark && left > 0 && !announced[mark] && total > mark) {
        announced[mark] = true;
        announce((mark / 60) + (mark === 60 ? " minute" : " minutes") + " left.");
      }
    });
    if (left === 0) {
      if (!submitting) {
        submitting = true;
        announce("Time is up. Submitting your answers.");
        var flag = document.getElementById("quiz-auto-submit");
        if (flag) flag.value = "1";
        form.submit();  // the form's action is the submit endpoint
      }
      return;
    }
    window.setTimeout(tick, 250);
  }
  tick();
})();
