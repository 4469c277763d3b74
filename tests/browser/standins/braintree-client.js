/* A stand-in for Braintree's web client (client.min.js, braintree-web 3), for browser tests:
 * `braintree.client.create({authorization})` reads the client token (base64 JSON, as the
 * gateway makes it), fetches the configuration from its `configUrl`, and gives a client
 * whose `request({endpoint, method, data})` calls the gateway's client API with the token's
 * authorization fingerprint: the local Braintree gateway's (tests/braintree_gateway). */
(function () {
  "use strict";
  function Client(token, configuration) {
    this.token = token;
    this.configuration = configuration;
  }
  Client.prototype.getConfiguration = function () {
    return { gatewayConfiguration: this.configuration, authorization: this.token };
  };
  Client.prototype.request = function (options) {
    var url = this.token.clientApiUrl + "/v1/" + options.endpoint;
    var body = Object.assign({ authorizationFingerprint: this.token.authorizationFingerprint },
      options.data || {});
    return fetch(url, {
      method: (options.method || "get").toUpperCase(),
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (!response.ok) { throw new Error((answer.error || {}).message || "client API refused"); }
        return answer;
      });
    });
  };

  function create(options) {
    var token = JSON.parse(atob(options.authorization));
    var url = token.configUrl + "?authorizationFingerprint=" +
      encodeURIComponent(token.authorizationFingerprint);
    return fetch(url).then(function (response) {
      if (!response.ok) { throw new Error("the client token was refused"); }
      return response.json();
    }).then(function (configuration) { return new Client(token, configuration); });
  }

  window.braintree = window.braintree || {};
  window.braintree.client = { create: create, VERSION: "stand-in" };
}());
