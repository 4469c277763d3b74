/* The payment page's own script (adapters/http/pay/page.py): no build step, no inline
 * script. It drives the providers' scripts the page loads (Stripe.js for a card, Braintree's
 * client and PayPal checkout for PayPal, Turnstile for the bot check) and posts the result
 * to the ledger, which verifies the Turnstile token before it vaults anything. */
(function () {
  "use strict";
  var form = document.getElementById("pay");
  var data = form.dataset;
  var statusLine = document.getElementById("status");
  var errorLine = document.getElementById("error");
  var humanToken = null;
  var widget = null;

  var WORDS = {
    human_check_failed: "We could not confirm that you are a person. Please complete the check again.",
    human_check_unavailable: "The check that you are a person is not answering. Please try again in a moment.",
    payment_method_declined: "Your payment method was declined. Nothing was saved.",
    card_setup_not_confirmed: "Your card was not confirmed. Nothing was saved; please enter it again.",
    payment_session_not_found: "This payment page has expired. Start again where you came from.",
    payment_link_invalid: "This payment link cannot be used any more. Start again where you came from.",
    processor_unavailable: "The payment processor is not answering. Nothing was saved; please try again.",
    session_store_unavailable: "We could not reach our session store. Please try again."
  };

  function say(text) { errorLine.textContent = ""; statusLine.textContent = text; }
  function fail(text) { statusLine.textContent = ""; errorLine.textContent = text; }
  function words(problem) {
    return WORDS[problem.code] || problem.detail || "Something went wrong. Nothing was saved; please try again.";
  }

  widget = turnstile.render("#turnstile", {
    sitekey: data.siteKey,
    callback: function (token) { humanToken = token; },
    "expired-callback": function () { humanToken = null; },
    "error-callback": function () { humanToken = null; fail(WORDS.human_check_failed); }
  });

  function needHuman() {
    if (humanToken) { return false; }
    fail("Please complete the check that you are a person first.");
    return true;
  }

  function goBackLink(answer) {
    var link = document.createElement("a");
    link.href = answer.return_url;
    link.textContent = "Go back";
    errorLine.appendChild(document.createTextNode(" "));
    errorLine.appendChild(link);
  }

  // Saved; an invoice the session could not pay is said before going back, never skipped.
  function back(answer) {
    if (answer.unpaid && answer.unpaid.length) {
      fail("Your payment method was saved. " + answer.unpaid.join(" "));
      goBackLink(answer);
      return true;
    }
    say("Saved. Taking you back…");
    window.location.assign(answer.return_url);
    return true;
  }

  function complete(result, authenticate) {
    var body = { to: data.to, until: Number(data.until), sig: data.sig, turnstile_token: humanToken };
    Object.keys(result).forEach(function (k) { body[k] = result[k]; });
    say("Saving…");
    return fetch(data.completeUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (response.ok) {
          return (authenticate && answer.authenticate.length) ? authenticate(answer) : back(answer);
        }
        humanToken = null;  // a token is single use: the next try needs a new check
        turnstile.reset(widget);
        fail(words(answer));
        return false;
      });
    });
  }

  function cardPage() {
    var stripe = Stripe(data.stripeKey);
    var card = stripe.elements().create("card");
    var button = document.getElementById("submit");
    var confirmed = null;  // the card Stripe confirmed on the session's SetupIntent
    card.mount("#card-element");

    // The session paid open invoices and the bank asks the customer to confirm some
    // payments (3-D Secure): Stripe.js shows the challenge, one payment after another.
    function payWaiting(answer) {
      say("Your bank asks you to confirm the payment…");
      return answer.authenticate.reduce(function (done, secret) {
        return done.then(function (failed) {
          return failed || stripe.confirmCardPayment(secret).then(function (outcome) {
            return outcome.error ? outcome.error : null;
          });
        });
      }, Promise.resolve(null)).then(function (failed) {
        if (!failed) { return back(answer); }
        fail("Your card was saved, but a payment was not confirmed: " + (failed.message || "") +
          " You can pay it later from your billing page. " + (answer.unpaid || []).join(" "));
        goBackLink(answer);
        return true;
      });
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (needHuman()) { return; }
      button.disabled = true;
      var ready = confirmed ? Promise.resolve({ setupIntent: { payment_method: confirmed } })
        : (say("Checking your card…"),
           stripe.confirmCardSetup(data.clientSecret, { payment_method: { card: card } }));
      ready.then(function (outcome) {
        if (outcome.error) {
          fail((outcome.error.message || "Your card could not be saved.") + " Nothing was saved.");
          return false;
        }
        confirmed = outcome.setupIntent.payment_method;
        return complete({ payment_method: confirmed }, payWaiting);
      }).catch(function () {
        fail("Your card could not be checked. Nothing was saved; please try again.");
      }).then(function (done) { if (!done) { button.disabled = false; } });
    });
  }

  function paypalPage() {
    braintree.client.create({ authorization: data.clientToken }).then(function (client) {
      return braintree.paypalCheckout.create({ client: client });
    }).then(function (checkout) {
      return checkout.loadPayPalSDK({ vault: true }).then(function () {
        return paypal.Buttons({
          fundingSource: paypal.FUNDING.PAYPAL,
          onClick: function (_, actions) { return needHuman() ? actions.reject() : actions.resolve(); },
          createBillingAgreement: function () { return checkout.createPayment({ flow: "vault" }); },
          onApprove: function (approved) {
            return checkout.tokenizePayment(approved).then(function (account) {
              return complete({ nonce: account.nonce });
            });
          },
          onCancel: function () { fail("PayPal was not connected. Nothing was saved."); },
          onError: function () { fail("PayPal could not be connected. Nothing was saved; please try again."); }
        }).render("#paypal-button");
      });
    }).catch(function () {
      fail("PayPal is not available right now. Please try again later.");
    });
  }

  if (data.method === "card") { cardPage(); } else { paypalPage(); }
}());
