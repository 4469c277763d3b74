/* SIMULATED Stripe.js: the embedded default's stand-in, served by the ledger only while the
 * simulated processor is on (adapters/http/pay/simulated.py). The calls the payment page
 * makes: `Stripe(key)`, `elements().create("card").mount(target)`, `confirmCardPayment(
 * clientSecret)` and `handleNextAction({clientSecret})` (3-D Secure of a payment), and
 * `confirmCardSetup(clientSecret, {payment_method: {card}})`, which confirms the simulated
 * SetupIntent with the typed number (a test card: docs/payments.md, "The simulated
 * processor"); a 3-D Secure test card asks the person to authenticate first. */
(function () {
  "use strict";
  function field(parent, name, label, size) {
    var wrap = document.createElement("label");
    var input = document.createElement("input");
    wrap.textContent = label + " ";
    input.name = name;
    input.size = size;
    input.autocomplete = "off";
    input.inputMode = "numeric";
    wrap.appendChild(input);
    parent.appendChild(wrap);
    return input;
  }

  function CardElement() { this.inputs = null; }
  CardElement.prototype.mount = function (target) {
    var parent = typeof target === "string" ? document.querySelector(target) : target;
    var note = document.createElement("p");
    note.textContent = "Simulated card entry: use a test card such as 4242 4242 4242 4242.";
    parent.appendChild(note);
    this.inputs = {
      number: field(parent, "number", "Card number", 19),
      expiry: field(parent, "expiry", "Expiry (MM/YY)", 5),
      cvc: field(parent, "cvc", "CVC", 4)
    };
  };

  function authenticate() {
    return new Promise(function (resolve) {
      var box = document.createElement("div");
      var heading = document.createElement("h2");
      box.setAttribute("role", "dialog");
      box.setAttribute("aria-labelledby", "sim-3ds-heading");
      heading.id = "sim-3ds-heading";
      var text = document.createElement("p");
      box.setAttribute("aria-modal", "true");
      heading.textContent = "3-D Secure (simulated)";
      text.textContent = "Your bank would ask you to confirm that this is you. Nothing is sent anywhere.";
      box.appendChild(heading);
      box.appendChild(text);
      [["Complete authentication", true], ["Fail authentication", false]].forEach(function (choice) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = choice[0];
        button.addEventListener("click", function () { box.remove(); resolve(choice[1]); });
        box.appendChild(button);
      });
      document.body.appendChild(box);
    });
  }

  function confirm(seti, fields) {
    return fetch("/pay/simulated/setup_intents/" + seti + "/confirm", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(fields)
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    });
  }

  /* A payment waiting for 3-D Secure: the simulated dialog, then the ledger's simulated
   * processor settles it (`authenticate`), or, failed, leaves it for a cancel, as Stripe. */
  function nextAction(clientSecret) {
    var payment = clientSecret.split("_secret")[0];
    return authenticate().then(function (passed) {
      return fetch("/pay/simulated/payment_intents/" + payment + "/authenticate", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ client_secret: clientSecret, success: passed })
      }).then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { return { error: body.error }; }
          if (passed) { return { paymentIntent: body }; }
          return { error: { code: "payment_intent_authentication_failure",
            message: "We are unable to authenticate your payment method." } };
        });
      });
    });
  }

  window.Stripe = function () {
    return {
      elements: function () { return { create: function () { return new CardElement(); } }; },
      confirmCardPayment: function (clientSecret) { return nextAction(clientSecret); },
      handleNextAction: function (options) { return nextAction(options.clientSecret); },
      confirmCardSetup: function (clientSecret, data) {
        var seti = clientSecret.split("_secret")[0];
        var fields = { client_secret: clientSecret,
          number: data.payment_method.card.inputs.number.value.replace(/\s+/g, ""), authenticated: false };
        return confirm(seti, fields).then(function (answer) {
          if (!answer.ok) { return { error: answer.body.error }; }
          if (answer.body.status === "succeeded") { return { setupIntent: answer.body }; }
          return authenticate().then(function (passed) {
            if (!passed) {
              return { error: { code: "setup_intent_authentication_failure",
                message: "We are unable to authenticate your payment method. Please choose a different payment method and try again." } };
            }
            fields.authenticated = true;
            return confirm(seti, fields).then(function (after) {
              return after.ok ? { setupIntent: after.body } : { error: after.body.error };
            });
          });
        });
      }
    };
  };
}());
