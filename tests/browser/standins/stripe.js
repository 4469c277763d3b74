/* A stand-in for Stripe.js v3 (https://js.stripe.com/v3/), for browser tests: only what the
 * payment page calls. `Stripe(publishableKey)`, `elements().create("card")` with `mount`,
 * `confirmCardPayment(clientSecret)` and `handleNextAction({clientSecret})` (3-D Secure of
 * a payment: the authentication dialog, then localstripe's `_authenticate`), and
 * `confirmCardSetup(clientSecret, {payment_method: {card}})`, which confirms the
 * SetupIntent at localstripe exactly as Stripe.js confirms it at api.stripe.com (the
 * publishable key and client secret in the form, the card as `payment_method_data`), and
 * handles a `requires_action` answer (3-D Secure) with an authentication dialog the person
 * completes or fails. The server serves this file with the API base filled in. */
(function () {
  "use strict";
  var API = "__STRIPE_API__";

  function post(path, fields) {
    return fetch(API + path, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString()
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    });
  }

  function field(parent, name, label, size) {
    var wrap = document.createElement("label");
    var input = document.createElement("input");
    wrap.textContent = label + " ";
    input.name = name;
    input.size = size;
    input.autocomplete = "off";
    input.inputMode = "numeric";
    input.setAttribute("data-testid", "card-" + name);
    wrap.appendChild(input);
    parent.appendChild(wrap);
    return input;
  }

  function CardElement() { this.inputs = null; }
  CardElement.prototype.mount = function (target) {
    var parent = typeof target === "string" ? document.querySelector(target) : target;
    this.inputs = {
      number: field(parent, "number", "Card number", 19),
      expiry: field(parent, "expiry", "Expiry (MM/YY)", 5),
      cvc: field(parent, "cvc", "CVC", 4)
    };
  };
  CardElement.prototype.card = function () {
    var expiry = this.inputs.expiry.value.split("/");
    return {
      "payment_method_data[type]": "card",
      "payment_method_data[card][number]": this.inputs.number.value.replace(/\s+/g, ""),
      "payment_method_data[card][exp_month]": (expiry[0] || "").trim(),
      "payment_method_data[card][exp_year]": "20" + (expiry[1] || "").trim(),
      "payment_method_data[card][cvc]": this.inputs.cvc.value
    };
  };

  function authenticate() {
    return new Promise(function (resolve) {
      var box = document.createElement("div");
      var heading = document.createElement("h2");
      var text = document.createElement("p");
      box.setAttribute("role", "dialog");
      box.setAttribute("aria-modal", "true");
      box.setAttribute("aria-labelledby", "standin-3ds-heading");
      box.setAttribute("data-testid", "three-d-secure");
      heading.id = "standin-3ds-heading";
      heading.textContent = "3-D Secure (test stand-in)";
      text.textContent = "Your bank asks you to confirm that this is you.";
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

  function failed(body) {
    var error = body.error || {};
    return { error: { type: error.type || "card_error", code: error.code, message: error.message } };
  }

  /* A PaymentIntent waiting for 3-D Secure: the dialog, then localstripe's `_authenticate`
   * (it takes the publishable key and client secret, as Stripe's own authentication does). */
  function nextAction(key, clientSecret) {
    var pi = clientSecret.split("_secret_")[0];
    return authenticate().then(function (passed) {
      return post("/v1/payment_intents/" + pi + "/_authenticate",
        { key: key, client_secret: clientSecret, success: passed ? "true" : "false" });
    }).then(function (answer) {
      if (answer.ok && answer.body.status === "succeeded") { return { paymentIntent: answer.body }; }
      return { error: { type: "card_error", code: "payment_intent_authentication_failure",
        message: "We are unable to authenticate your payment method." } };
    });
  }

  window.Stripe = function (key) {
    return {
      elements: function () {
        return { create: function () { return new CardElement(); } };
      },
      confirmCardPayment: function (clientSecret) { return nextAction(key, clientSecret); },
      handleNextAction: function (options) { return nextAction(key, options.clientSecret); },
      confirmCardSetup: function (clientSecret, data) {
        var seti = clientSecret.split("_secret_")[0];
        var auth = { key: key, client_secret: clientSecret };
        var fields = Object.assign({}, auth, data.payment_method.card.card());
        return post("/v1/setup_intents/" + seti + "/confirm", fields).then(function (answer) {
          if (!answer.ok) { return failed(answer.body); }
          if (answer.body.status === "succeeded") { return { setupIntent: answer.body }; }
          if (answer.body.status !== "requires_action") {
            return { error: { type: "invalid_request_error", message: "The card could not be set up." } };
          }
          return authenticate().then(function (passed) {
            return post("/v1/setup_intents/" + seti + (passed ? "/confirm" : "/cancel"), auth);
          }).then(function (after) {
            if (after.ok && after.body.status === "succeeded") { return { setupIntent: after.body }; }
            return { error: { type: "card_error", code: "setup_intent_authentication_failure",
              message: "We are unable to authenticate your payment method. Please choose a different payment method and try again." } };
          });
        });
      }
    };
  };
}());
