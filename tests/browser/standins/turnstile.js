/* A stand-in for Cloudflare Turnstile's api.js (explicit rendering), for browser tests:
 * `turnstile.render(container, {sitekey, callback, "expired-callback", "error-callback"})`
 * draws a checkbox; checking it asks the test's stand-in server for a token, which the local
 * siteverify (tests/fakes/turnstile_server.py) accepts once, and hands it to `callback`.
 * Once the token is handed over the widget's label says so (`data-state="solved"`), as the
 * real widget shows "Success!". `turnstile.reset(id)` clears the widget for a new check. The server serves this file with
 * its own address filled in. */
(function () {
  "use strict";
  var BASE = "__STANDIN_BASE__";
  var widgets = [];

  function render(target, options) {
    var parent = typeof target === "string" ? document.querySelector(target) : target;
    var label = document.createElement("label");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.setAttribute("data-testid", "turnstile-checkbox");
    label.appendChild(box);
    label.appendChild(document.createTextNode(" Verify you are human (Turnstile test stand-in)"));
    parent.appendChild(label);
    box.addEventListener("change", function () {
      if (!box.checked) { return; }
      fetch(BASE + "/turnstile/token?sitekey=" + encodeURIComponent(options.sitekey))
        .then(function (response) { return response.text(); })
        .then(function (token) {
          label.setAttribute("data-state", "solved");  // as the real widget shows "Success!"
          options.callback(token);
        })
        .catch(function () { if (options["error-callback"]) { options["error-callback"](); } });
    });
    widgets.push(box);
    return String(widgets.length - 1);
  }

  function reset(id) {
    var box = widgets[Number(id || 0)];
    if (box) {
      box.checked = false;
      box.parentNode.removeAttribute("data-state");
    }
  }

  window.turnstile = { render: render, reset: reset };
}());
