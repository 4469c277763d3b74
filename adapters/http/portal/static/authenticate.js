/* The 3-D Secure page of the billing pages (adapters/http/portal/authenticate.py): no inline
 * script. "Confirm with your bank" hands the payment's client secret to Stripe.js
 * (`handleNextAction`), which shows the bank's authentication; whatever it answers, the form
 * is then sent, and the ledger asks the processor how the payment stands. */
(function () {
  "use strict";
  var form = document.getElementById("authenticate");
  var button = document.getElementById("authenticate-button");
  var statusLine = document.getElementById("status");
  if (!form || !button) { return; }

  function send() {
    statusLine.textContent = "Checking the payment with your bank…";
    form.submit();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    statusLine.textContent = "Your bank asks you to confirm the payment…";
    var stripe;
    try {
      stripe = window.Stripe(form.dataset.stripeKey);
    } catch (error) {
      send();
      return;
    }
    stripe.handleNextAction({ clientSecret: form.dataset.clientSecret }).then(send, send);
  });
}());
