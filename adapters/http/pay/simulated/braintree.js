/* SIMULATED Braintree client and PayPal checkout: the embedded default's stand-in, served by
 * the ledger only while the simulated processor is on. The vault flow the payment page runs:
 * `braintree.client.create`, `braintree.paypalCheckout.create`, `loadPayPalSDK` (defines
 * `paypal.Buttons`), `createPayment({flow: "vault"})`, a simulated PayPal approval, and
 * `tokenizePayment`, which answers Braintree's sandbox billing agreement nonce (the simulated
 * processor vaults it: docs/payments.md, "The simulated processor"). */
(function () {
  "use strict";
  function approve() {
    return new Promise(function (resolve) {
      var box = document.createElement("div");
      var heading = document.createElement("h2");
      box.setAttribute("role", "dialog");
      box.setAttribute("aria-labelledby", "sim-paypal-heading");
      heading.id = "sim-paypal-heading";
      var text = document.createElement("p");
      box.setAttribute("aria-modal", "true");
      heading.textContent = "PayPal (simulated)";
      text.textContent = "Agree to let the merchant charge your PayPal account for future payments.";
      box.appendChild(heading);
      box.appendChild(text);
      [["Agree and continue", true], ["Cancel and return", false]].forEach(function (choice) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = choice[0];
        button.addEventListener("click", function () { box.remove(); resolve(choice[1]); });
        box.appendChild(button);
      });
      document.body.appendChild(box);
    });
  }

  function Buttons(options) { this.options = options; }
  Buttons.prototype.render = function (target) {
    var options = this.options;
    var parent = typeof target === "string" ? document.querySelector(target) : target;
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = "Pay with PayPal";
    parent.appendChild(button);
    button.addEventListener("click", function () {
      var go = true;
      var actions = { resolve: function () { go = true; }, reject: function () { go = false; } };
      Promise.resolve(options.onClick ? options.onClick({}, actions) : null).then(function () {
        if (!go) { return null; }
        return options.createBillingAgreement().then(function (billingToken) {
          return approve().then(function (agreed) {
            return agreed ? options.onApprove({ billingToken: billingToken }) : options.onCancel({});
          });
        });
      }).catch(function (error) { if (options.onError) { options.onError(error); } });
    });
    return Promise.resolve();
  };

  window.braintree = {
    client: { create: function (options) { return Promise.resolve({ authorization: options.authorization }); } },
    paypalCheckout: {
      create: function () {
        return Promise.resolve({
          loadPayPalSDK: function () {
            window.paypal = { FUNDING: { PAYPAL: "paypal" },
              Buttons: function (options) { return new Buttons(options); } };
            return Promise.resolve(this);
          },
          createPayment: function () { return Promise.resolve("BA-SIMULATED"); },
          tokenizePayment: function () {
            return Promise.resolve({ nonce: "fake-paypal-billing-agreement-nonce", type: "PayPalAccount" });
          }
        });
      }
    }
  };
}());
