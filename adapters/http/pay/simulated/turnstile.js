/* SIMULATED Turnstile api.js: the embedded default's stand-in, served by the ledger only
 * while the simulated processor is on. `turnstile.render(target, {callback})` draws a
 * checkbox that hands out Cloudflare's testing dummy token, which the simulated check
 * (adapters/simulated/human_check.py) accepts; `turnstile.reset(id)` clears it. */
(function () {
  "use strict";
  var boxes = [];
  window.turnstile = {
    render: function (target, options) {
      var parent = typeof target === "string" ? document.querySelector(target) : target;
      var label = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox";
      label.appendChild(box);
      label.appendChild(document.createTextNode(" Verify you are human (simulated Turnstile)"));
      parent.appendChild(label);
      box.addEventListener("change", function () {
        if (box.checked) { options.callback("XXXX.DUMMY.TOKEN.XXXX"); }
      });
      boxes.push(box);
      return String(boxes.length - 1);
    },
    reset: function (id) { var box = boxes[Number(id || 0)]; if (box) { box.checked = false; } }
  };
}());
