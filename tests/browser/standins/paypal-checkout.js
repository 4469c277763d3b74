/* A stand-in for Braintree's PayPal checkout component (paypal-checkout.min.js) and, through
 * its `loadPayPalSDK`, for PayPal's JS SDK, for browser tests. Vault flow only:
 * `createPayment({flow: "vault"})` asks the gateway for a billing agreement token,
 * `paypal.Buttons({...}).render(target)` draws a PayPal button whose click runs `onClick`,
 * `createBillingAgreement`, then a stand-in of PayPal's approval window (agree or cancel),
 * then `onApprove({billingToken})` or `onCancel()`; `tokenizePayment({billingToken})` turns
 * the approved agreement into a nonce at the gateway's client API. */
(function () {
  "use strict";
  function approve() {
    return new Promise(function (resolve) {
      var box = document.createElement("div");
      var heading = document.createElement("h2");
      var text = document.createElement("p");
      box.setAttribute("role", "dialog");
      box.setAttribute("aria-labelledby", "standin-paypal-heading");
      heading.id = "standin-paypal-heading";
      heading.textContent = "PayPal (test stand-in)";
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

  function PayPalCheckout(client) { this.client = client; }
  PayPalCheckout.prototype.loadPayPalSDK = function () {
    window.paypal = {
      FUNDING: { PAYPAL: "paypal" },
      Buttons: function (options) { return new Buttons(options); }
    };
    return Promise.resolve(this);
  };
  PayPalCheckout.prototype.createPayment = function (options) {
    if (options.flow !== "vault") { return Promise.reject(new Error("the stand-in vaults only")); }
    return this.client.request({
      endpoint: "paypal_hermes/setup_billing_agreement",
      method: "post",
      data: { returnUrl: window.location.href, cancelUrl: window.location.href, offerPaypalCredit: false }
    }).then(function (answer) { return answer.agreementSetup.tokenId; });
  };
  PayPalCheckout.prototype.tokenizePayment = function (data) {
    return this.client.request({
      endpoint: "payment_methods/paypal_accounts",
      method: "post",
      data: { paypalAccount: { correlationId: data.billingToken, billingAgreementToken: data.billingToken,
        options: { validate: false } } }
    }).then(function (answer) { return answer.paypalAccounts[0]; });
  };

  window.braintree = window.braintree || {};
  window.braintree.paypalCheckout = {
    create: function (options) { return Promise.resolve(new PayPalCheckout(options.client)); }
  };
}());
