"""The local gateway's client API: the JSON calls Braintree's browser client makes with a
client token's `authorizationFingerprint` (for the payment page's stand-ins in
tests/browser/standins/), with the CORS answers a browser needs.

    GET  /client_api/v1/configuration                           the client's configuration
    POST /client_api/v1/paypal_hermes/setup_billing_agreement   a billing agreement token
    POST /client_api/v1/payment_methods/paypal_accounts         the approved agreement -> nonce

A fingerprint the gateway did not issue answers 401. The nonce is minted as
`mint_nonce(billing_agreement=True)` does: the ledger's vaulting redeems it once.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any
from urllib.parse import parse_qs

from tests.braintree_gateway.state import GatewayState

PREFIX = "/client_api/"
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Content-Type, Braintree-Version",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
}
PAYER_EMAIL = "payer@example.com"


def answer(
    state: GatewayState, method: str, path: str, query: str, body: bytes
) -> tuple[int, dict[str, Any]]:
    if method == "OPTIONS":
        return 204, {}
    sent: dict[str, Any] = json.loads(body or b"{}") if method == "POST" else {}
    fingerprint = sent.get("authorizationFingerprint") or _first(query, "authorizationFingerprint")
    if fingerprint not in _fingerprints(state):
        return 401, {"error": {"message": "Authorization fingerprint is invalid"}}
    if (method, path) == ("GET", "v1/configuration"):
        return 200, _configuration(state)
    if (method, path) == ("POST", "v1/paypal_hermes/setup_billing_agreement"):
        token = f"BA-{secrets.token_hex(8).upper()}"
        approval = f"{sent.get('returnUrl', '')}?ba_token={token}"
        return 200, {"agreementSetup": {"tokenId": token, "approvalUrl": approval}}
    if (method, path) == ("POST", "v1/payment_methods/paypal_accounts"):
        account = sent.get("paypalAccount") or {}
        if not str(account.get("billingAgreementToken", "")).startswith("BA-"):
            return 422, {"error": {"message": "Billing agreement token is required"}}
        nonce = state.mint_nonce(billing_agreement=True, email=PAYER_EMAIL)
        details = {"email": PAYER_EMAIL, "payerInfo": {"email": PAYER_EMAIL}}
        return 201, {
            "paypalAccounts": [{"nonce": nonce, "type": "PayPalAccount", "details": details}]
        }
    return 404, {"error": {"message": f"no client API route {method} {path}"}}


def _configuration(state: GatewayState) -> dict[str, Any]:
    return {
        "merchantId": state.merchant_id,
        "environment": "development",
        "paypalEnabled": True,
        "paypal": {"displayName": "Local merchant", "environmentNoNetwork": True},
    }


def _fingerprints(state: GatewayState) -> set[str]:
    issued = (json.loads(base64.b64decode(token)) for token in list(state.client_tokens))
    return {payload["authorizationFingerprint"] for payload in issued}


def _first(query: str, name: str) -> str | None:
    return parse_qs(query).get(name, [None])[0]
