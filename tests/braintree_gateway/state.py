"""What the local gateway remembers and decides: customers, PayPal accounts, transactions.

Behaviour modelled on the Braintree sandbox (test code only; it answers exactly the calls
our adapter makes):

* PayPal nonces: `fake-paypal-billing-agreement-nonce` vaults a PayPal account with a
  billing agreement (`B-...`), the correct path; `fake-paypal-one-time-nonce` and
  `fake-paypal-future-nonce` vault one WITHOUT a billing agreement (the legacy, wrong
  vaulting path that leaves customers on the wrong dunning path; the real sandbox refuses a
  one-time nonce with 82902, legacy vaults still hold such accounts). The fake nonces can be
  used again and again, like the sandbox's; `mint_nonce` makes single-use ones (a second use
  answers 93107 consumed). Any other nonce answers 93108 unknown.
* Nonces from vaulted tokens (`PaymentMethodNonce.create`, the token migration's first
  step): a 404 for an unknown token; a revoked PayPal account answers 422 with code
  REVOKED_NONCE_CODE (ours: the sandbox has no revoked accounts). The nonce vaults the same
  payer again WITH a billing agreement (modelling a legacy account whose payer consented at
  PayPal), unless `withhold_agreement(token)` was called for it.
* Sale amounts (the sandbox's magic amounts):
  - 2000.00-2999.99: `processor_declined`, processor response code = the whole amount
    (2046.00 -> 2046 Declined, soft; 2004.00 -> 2004 Expired Card, hard; see DECLINES);
  - 3000.00-3000.99: `failed`, 3000 Processor Network Unavailable - Try Again (soft);
  - 5001.00: `gateway_rejected` with reason `fraud` (ours; the sandbox uses fraud tools);
  - anything else: authorized (1000 Approved), `submitted_for_settlement` when asked.
* Transactions settle only when told (`settle`, or the SDK's `testing.settle_transaction`);
  a refund of an unsettled transaction answers 91506, like Braintree.
* A sale's refunds are its `refund-ids` (each a credit transaction, found by id); a refund
  without an order id keeps the sale's, as Braintree's do.
* Disputes happen only when told (`open_dispute` on a sale, `close_dispute` with won or
  lost): a chargeback of the sale's amount unless given another, listed in the sale's
  `disputes` with its status history, as Braintree lists them on a transaction.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

# Decimal places of PayPal's currencies without decimals; every other takes two. Written out
# here, not imported from the adapter, so the stand-in checks the adapter rather than agree
# with it by construction.
NO_DECIMALS = frozenset({"HUF", "JPY", "TWD"})

BILLING_AGREEMENT_NONCE = "fake-paypal-billing-agreement-nonce"
ONE_TIME_NONCE = "fake-paypal-one-time-nonce"
FUTURE_NONCE = "fake-paypal-future-nonce"
FAKE_NONCES = {BILLING_AGREEMENT_NONCE: True, ONE_TIME_NONCE: False, FUTURE_NONCE: False}

# processor response code -> (text, response type), as Braintree documents them
DECLINES: dict[int, tuple[str, str]] = {
    2000: ("Do Not Honor", "soft_declined"),
    2001: ("Insufficient Funds", "soft_declined"),
    2002: ("Limit Exceeded", "soft_declined"),
    2003: ("Cardholder's Activity Limit Exceeded", "soft_declined"),
    2004: ("Expired Card", "hard_declined"),
    2005: ("Invalid Credit Card Number", "hard_declined"),
    2006: ("Invalid Expiration Date", "hard_declined"),
    2007: ("No Account", "hard_declined"),
    2012: ("Processor Declined - Possible Lost Card", "hard_declined"),
    2013: ("Processor Declined - Possible Stolen Card", "hard_declined"),
    2014: ("Processor Declined - Fraud Suspected", "hard_declined"),
    2038: ("Processor Declined", "soft_declined"),
    2044: ("Declined - Call Issuer", "hard_declined"),
    2046: ("Declined", "soft_declined"),
    2047: ("Call Issuer. Pick Up Card", "hard_declined"),
    2057: ("Issuer or Cardholder has put a restriction on the card", "hard_declined"),
    2074: (
        "Funding Instrument In The PayPal Account Was Declined By The Processor Or Bank, "
        "Or It Can't Be Used For This Payment",
        "soft_declined",
    ),
    2075: ("Payer Account Is Locked Or Closed", "hard_declined"),
    3000: ("Processor Network Unavailable - Try Again", "soft_declined"),
}
REVOKED_NONCE_CODE = "82941"  # ours, see above
SETTLED_STATUSES = {"settled", "settling"}
VOIDABLE_STATUSES = {"authorized", "submitted_for_settlement", "settlement_pending"}
_ID_FORMAT = re.compile(r"^[A-Za-z0-9_-]+$")


class ValidationFailed(Exception):
    """Answered as 422 api-error-response. `errors` are (object path, code, attribute,
    message); `transaction` is attached for processor declines."""

    def __init__(
        self,
        errors: list[tuple[tuple[str, ...], str, str, str]],
        message: str | None = None,
        transaction: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message or errors[0][3])
        self.errors = errors
        self.message = message or "\n".join(e[3] for e in errors)
        self.transaction = transaction


class NotFound(Exception):
    """Answered as 404 (the SDK raises NotFoundError)."""


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _new_id(length: int = 8) -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass
class Customer:
    id: str
    first_name: str | None
    last_name: str | None
    email: str | None
    company: str | None
    phone: str | None
    created_at: datetime
    updated_at: datetime


@dataclass
class PayPalAccount:
    token: str
    customer_id: str
    email: str
    payer_id: str
    billing_agreement_id: str | None
    created_at: datetime
    updated_at: datetime
    revoked_at: datetime | None = None


@dataclass
class Dispute:
    id: str
    status: str  # open | won | lost (Braintree's braintree.Dispute.Status)
    amount: Decimal
    received_date: datetime
    updated_at: datetime
    history: list[tuple[datetime, str]] = field(default_factory=list)


@dataclass
class Transaction:
    id: str
    type: str  # sale | credit
    status: str
    amount: Decimal
    currency: str
    merchant_account_id: str
    order_id: str | None
    customer_id: str
    token: str
    processor_response_code: str
    processor_response_text: str
    processor_response_type: str
    gateway_rejection_reason: str | None
    created_at: datetime
    updated_at: datetime
    history: list[tuple[datetime, str, Decimal]] = field(default_factory=list)
    refund_ids: list[str] = field(default_factory=list)
    refunded_transaction_id: str | None = None
    disputes: list[Dispute] = field(default_factory=list)


class GatewayState:
    """In-memory and thread-safe (the server answers each request on its own thread)."""

    def __init__(self, merchant_id: str, merchant_accounts: dict[str, str]) -> None:
        self.merchant_id = merchant_id
        self.merchant_accounts = merchant_accounts  # merchant account id -> currency
        self.default_merchant_account = next(iter(merchant_accounts))
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.customers: dict[str, Customer] = {}
            self.accounts: dict[str, PayPalAccount] = {}
            self.defaults: dict[str, str] = {}  # customer id -> default token
            self.transactions: dict[str, Transaction] = {}
            self.minted: dict[str, tuple[bool, str]] = {}  # nonce -> (agreement, email)
            self.nonce_payers: dict[str, str] = {}  # nonce made from a token -> payer id
            self.withheld: set[str] = set()  # tokens whose re-vaulting gets no agreement
            self.consumed: set[str] = set()
            self.client_tokens: list[str] = []

    # customers -------------------------------------------------------------------------
    def create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            customer_id = params.get("id") or _new_id(9)
            errors = self._customer_errors(params, customer_id)
            if customer_id in self.customers:
                errors.append((("customer",), "91609", "id", "Customer ID has already been taken."))
            if errors:
                raise ValidationFailed(errors)
            now = _now()
            self.customers[customer_id] = Customer(
                id=customer_id,
                first_name=params.get("first_name"),
                last_name=params.get("last_name"),
                email=params.get("email"),
                company=params.get("company"),
                phone=params.get("phone"),
                created_at=now,
                updated_at=now,
            )
            return self.customer_xml(customer_id)

    def update_customer(self, customer_id: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            customer = self._customer(customer_id)
            if errors := self._customer_errors(params, customer_id):
                raise ValidationFailed(errors)
            for name in ("first_name", "last_name", "email", "company", "phone"):
                if name in params:
                    setattr(customer, name, params[name] or None)
            customer.updated_at = _now()
            return self.customer_xml(customer_id)

    def find_customer(self, customer_id: str) -> dict[str, Any]:
        with self._lock:
            return self.customer_xml(self._customer(customer_id).id)

    def delete_customer(self, customer_id: str) -> None:
        with self._lock:
            self._customer(customer_id)
            del self.customers[customer_id]
            for token in [t for t, a in self.accounts.items() if a.customer_id == customer_id]:
                del self.accounts[token]
            self.defaults.pop(customer_id, None)

    def _customer(self, customer_id: str) -> Customer:
        customer = self.customers.get(customer_id)
        if customer is None:
            raise NotFound(customer_id)
        return customer

    @staticmethod
    def _customer_errors(
        params: dict[str, Any], customer_id: str
    ) -> list[tuple[tuple[str, ...], str, str, str]]:
        errors: list[tuple[tuple[str, ...], str, str, str]] = []
        if not _ID_FORMAT.match(customer_id):
            errors.append(
                (
                    ("customer",),
                    "91610",
                    "id",
                    'Customer ID is invalid (use only letters, numbers, "-", and "_").',
                )
            )
        elif len(customer_id) > 36:
            errors.append((("customer",), "91612", "id", "Customer ID is too long."))
        email = params.get("email")
        if email and "@" not in email:
            errors.append((("customer",), "81604", "email", "Email is an invalid format."))
        return errors

    def customer_xml(self, customer_id: str) -> dict[str, Any]:
        c = self.customers[customer_id]
        accounts = [a for a in self.accounts.values() if a.customer_id == customer_id]
        return {
            "id": c.id,
            "merchant_id": self.merchant_id,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "company": c.company,
            "email": c.email,
            "phone": c.phone,
            "fax": None,
            "website": None,
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "credit_cards": [],
            "addresses": [],
            "paypal_accounts": [("paypal_account", self.account_xml(a.token)) for a in accounts],
        }

    # PayPal accounts -------------------------------------------------------------------
    def mint_nonce(self, *, billing_agreement: bool, email: str) -> str:
        nonce = f"tokencc_{_new_id(6)}_{_new_id(6)}"
        with self._lock:
            self.minted[nonce] = (billing_agreement, email)
        return nonce

    def create_payment_method(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            customer_id = params.get("customer_id")
            nonce = params.get("payment_method_nonce")
            token = params.get("token") or _new_id(7)
            pm = ("payment_method",)
            if not customer_id:
                raise ValidationFailed([(pm, "93104", "customer_id", "Customer ID is required.")])
            if customer_id not in self.customers:
                raise ValidationFailed([(pm, "93105", "customer_id", "Customer ID is invalid.")])
            if not nonce:
                raise ValidationFailed(
                    [(pm, "93103", "payment_method_nonce", "Nonce is required.")]
                )
            payer_id = self.nonce_payers.pop(nonce, None) or f"PAYER{_new_id(8).upper()}"
            agreement, email = self._redeem(nonce)
            if token in self.accounts:
                raise ValidationFailed(
                    [(("paypal_account",), "92906", "token", "Token is already in use.")]
                )
            now = _now()
            self.accounts[token] = PayPalAccount(
                token=token,
                customer_id=customer_id,
                email=email,
                payer_id=payer_id,
                billing_agreement_id=f"B-{_new_id(17).upper()}" if agreement else None,
                created_at=now,
                updated_at=now,
            )
            options = params.get("options") or {}
            if options.get("make_default") or customer_id not in self.defaults:
                self.defaults[customer_id] = token
            return self.account_xml(token)

    def nonce_from_token(self, token: str) -> dict[str, Any]:
        """A single-use nonce for a vaulted PayPal account, as Braintree answers it."""
        with self._lock:
            account = self._account(token)
            if account.revoked_at is not None:
                raise ValidationFailed(
                    [
                        (
                            ("payment_method_nonce",),
                            REVOKED_NONCE_CODE,
                            "payment_method_token",
                            "PayPal account has been revoked by the customer.",
                        )
                    ]
                )
            nonce = self.mint_nonce(
                billing_agreement=token not in self.withheld, email=account.email
            )
            self.nonce_payers[nonce] = account.payer_id
            return {
                "type": "PayPalAccount",
                "nonce": nonce,
                "description": "PayPal",
                "consumed": False,
                "default": self.defaults.get(account.customer_id) == token,
                "is_locked": False,
                "details": {"email": account.email, "payer_id": account.payer_id},
                "three_d_secure_info": None,
                "bin_data": None,
            }

    def withhold_agreement(self, token: str) -> None:
        with self._lock:
            self._account(token)
            self.withheld.add(token)

    def _redeem(self, nonce: str) -> tuple[bool, str]:
        if nonce in FAKE_NONCES:
            return FAKE_NONCES[nonce], "payer@example.com"
        pm = ("payment_method",)
        if nonce in self.consumed:
            raise ValidationFailed(
                [
                    (
                        pm,
                        "93107",
                        "payment_method_nonce",
                        "Cannot use a payment_method_nonce more than once.",
                    )
                ]
            )
        if nonce not in self.minted:
            raise ValidationFailed(
                [(pm, "93108", "payment_method_nonce", "Unknown payment_method_nonce.")]
            )
        self.consumed.add(nonce)
        return self.minted.pop(nonce)

    def find_payment_method(self, token: str) -> dict[str, Any]:
        with self._lock:
            return self.account_xml(self._account(token).token)

    def update_payment_method(self, token: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            account = self._account(token)
            if (params.get("options") or {}).get("make_default"):
                self.defaults[account.customer_id] = token
            account.updated_at = _now()
            return self.account_xml(token)

    def delete_payment_method(self, token: str) -> None:
        with self._lock:
            account = self._account(token)
            del self.accounts[token]
            if self.defaults.get(account.customer_id) == token:
                rest = [a for a in self.accounts.values() if a.customer_id == account.customer_id]
                if rest:
                    self.defaults[account.customer_id] = rest[0].token
                else:
                    del self.defaults[account.customer_id]

    def revoke(self, token: str) -> None:
        """What a customer does in their PayPal account (test helper)."""
        with self._lock:
            self._account(token).revoked_at = _now()

    def _account(self, token: str) -> PayPalAccount:
        account = self.accounts.get(token)
        if account is None:
            raise NotFound(token)
        return account

    def account_xml(self, token: str) -> dict[str, Any]:
        a = self.accounts[token]
        return {
            "token": a.token,
            "email": a.email,
            "payer_id": a.payer_id,
            "billing_agreement_id": a.billing_agreement_id,
            "default": self.defaults.get(a.customer_id) == token,
            "image_url": "https://assets.braintreegateway.com/payment_method_logo/paypal.png",
            "customer_id": a.customer_id,
            "created_at": a.created_at,
            "updated_at": a.updated_at,
            "revoked_at": a.revoked_at,
            "subscriptions": [],
        }

    # transactions ----------------------------------------------------------------------
    def sale(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            merchant_account_id = params.get("merchant_account_id") or (
                self.default_merchant_account
            )
            tx = ("transaction",)
            if merchant_account_id not in self.merchant_accounts:
                raise ValidationFailed(
                    [(tx, "91513", "merchant_account_id", "Merchant account ID is invalid.")]
                )
            currency = self.merchant_accounts[merchant_account_id]
            amount = self._amount(params.get("amount"), currency)
            order_id = params.get("order_id")
            if order_id and len(order_id) > 255:
                raise ValidationFailed([(tx, "91501", "order_id", "Order ID is too long.")])
            account = self.accounts.get(params.get("payment_method_token") or "")
            if account is None:
                raise ValidationFailed(
                    [(tx, "91518", "payment_method_token", "Payment method token is invalid.")]
                )
            customer_id = params.get("customer_id")
            if customer_id and customer_id != account.customer_id:
                raise ValidationFailed(
                    [
                        (
                            tx,
                            "91516",
                            "payment_method_token",
                            "Cannot use a payment_method_token that does not belong to this "
                            "customer.",
                        )
                    ]
                )
            settle = bool((params.get("options") or {}).get("submit_for_settlement"))
            code, text, kind, status, rejection = self._outcome(amount, account)
            if status == "authorized" and settle:
                status = "submitted_for_settlement"
            now = _now()
            t = Transaction(
                id=_new_id(),
                type="sale",
                status=status,
                amount=amount,
                currency=currency,
                merchant_account_id=merchant_account_id,
                order_id=order_id,
                customer_id=account.customer_id,
                token=account.token,
                processor_response_code=code,
                processor_response_text=text,
                processor_response_type=kind,
                gateway_rejection_reason=rejection,
                created_at=now,
                updated_at=now,
            )
            t.history.append((now, status, amount))
            self.transactions[t.id] = t
            if status in ("processor_declined", "failed", "gateway_rejected"):
                message = "Gateway Rejected: fraud" if rejection else text
                raise ValidationFailed([], message=message, transaction=self.transaction_xml(t.id))
            return self.transaction_xml(t.id)

    @staticmethod
    def _amount(raw: object, currency: str) -> Decimal:
        """Decimal strings with at most the currency's minor-unit digits, like Braintree."""
        tx = ("transaction",)
        places = _places(currency)
        pattern = r"-?\d+" + (rf"(\.\d{{1,{places}}})?" if places else "")
        if raw in (None, ""):
            raise ValidationFailed([(tx, "81502", "amount", "Amount is required.")])
        try:
            amount = Decimal(str(raw))
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite() or not re.fullmatch(pattern, str(raw)):
            raise ValidationFailed([(tx, "81503", "amount", "Amount is an invalid format.")])
        if amount < 0:
            raise ValidationFailed([(tx, "81501", "amount", "Amount cannot be negative.")])
        if amount == 0:
            raise ValidationFailed([(tx, "81531", "amount", "Amount must be greater than zero.")])
        return amount

    @staticmethod
    def _outcome(amount: Decimal, account: PayPalAccount) -> tuple[str, str, str, str, str | None]:
        """(code, text, response type, status, gateway rejection reason)."""
        if account.revoked_at is not None:
            text, kind = DECLINES[2075]
            return "2075", text, kind, "processor_declined", None
        if Decimal(2000) <= amount < Decimal(3000):
            code = int(amount)
            text, kind = DECLINES.get(code, ("Processor Declined", "soft_declined"))
            return str(code), text, kind, "processor_declined", None
        if Decimal(3000) <= amount < Decimal(3001):
            text, kind = DECLINES[3000]
            return "3000", text, kind, "failed", None
        if amount == Decimal("5001.00"):
            return "", "Unknown ()", "", "gateway_rejected", "fraud"
        return "1000", "Approved", "approved", "authorized", None

    def find_transaction(self, transaction_id: str) -> dict[str, Any]:
        with self._lock:
            self._transaction(transaction_id)
            return self.transaction_xml(transaction_id)

    def refund(self, transaction_id: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            original = self._transaction(transaction_id)
            tx = ("transaction",)
            if original.type == "credit":
                raise ValidationFailed([(tx, "91505", "base", "Cannot refund credit")])
            if original.status not in SETTLED_STATUSES:
                raise ValidationFailed(
                    [(tx, "91506", "base", "Cannot refund a transaction unless it is settled.")]
                )
            refunded = sum((self.transactions[r].amount for r in original.refund_ids), Decimal(0))
            remaining = original.amount - refunded
            if remaining <= 0:
                raise ValidationFailed(
                    [(tx, "91512", "base", "Transaction has already been completely refunded.")]
                )
            raw = params.get("amount")
            amount = remaining if raw in (None, "") else self._amount(raw, original.currency)
            if amount > remaining:
                raise ValidationFailed([(tx, "91521", "amount", "Refund amount is too large.")])
            now = _now()
            credit = Transaction(
                id=_new_id(),
                type="credit",
                status="submitted_for_settlement",
                amount=amount,
                currency=original.currency,
                merchant_account_id=original.merchant_account_id,
                order_id=params.get("order_id") or original.order_id,
                customer_id=original.customer_id,
                token=original.token,
                processor_response_code="1002",
                processor_response_text="Processed",
                processor_response_type="approved",
                gateway_rejection_reason=None,
                created_at=now,
                updated_at=now,
                refunded_transaction_id=original.id,
            )
            credit.history.append((now, credit.status, amount))
            self.transactions[credit.id] = credit
            original.refund_ids.append(credit.id)
            return self.transaction_xml(credit.id)

    def void(self, transaction_id: str) -> dict[str, Any]:
        with self._lock:
            t = self._transaction(transaction_id)
            if t.status not in VOIDABLE_STATUSES:
                raise ValidationFailed(
                    [
                        (
                            ("transaction",),
                            "91504",
                            "base",
                            "Transaction can only be voided if status is authorized, "
                            "submitted_for_settlement, or - for PayPal - settlement_pending.",
                        )
                    ]
                )
            self._move(t, "voided")
            return self.transaction_xml(t.id)

    def settle(self, transaction_id: str) -> dict[str, Any]:
        with self._lock:
            t = self._transaction(transaction_id)
            if t.status in ("authorized", "submitted_for_settlement", "settling"):
                self._move(t, "settled")
            return self.transaction_xml(t.id)

    # disputes (test helpers: cardholders and PayPal open them, Braintree decides) --------
    def open_dispute(self, transaction_id: str, amount: Decimal | None = None) -> str:
        with self._lock:
            t = self._transaction(transaction_id)
            if t.type != "sale":
                raise ValueError("only a sale can be disputed")
            now = _now()
            dispute = Dispute(_new_id(), "open", amount or t.amount, now, now)
            dispute.history.append((now, dispute.status))
            t.disputes.append(dispute)
            return dispute.id

    def close_dispute(self, dispute_id: str, *, won: bool) -> None:
        with self._lock:
            dispute = next(
                d for t in self.transactions.values() for d in t.disputes if d.id == dispute_id
            )
            if dispute.status != "open":
                raise ValueError(f"dispute {dispute_id} is {dispute.status}")
            dispute.status = "won" if won else "lost"
            dispute.updated_at = _now()
            dispute.history.append((dispute.updated_at, dispute.status))

    @staticmethod
    def _move(t: Transaction, status: str) -> None:
        t.status = status
        t.updated_at = _now()
        t.history.append((t.updated_at, status, t.amount))

    def _transaction(self, transaction_id: str) -> Transaction:
        t = self.transactions.get(transaction_id)
        if t is None:
            raise NotFound(transaction_id)
        return t

    def search_ids(self, criteria: dict[str, Any]) -> list[str]:
        with self._lock:
            found = [t for t in self.transactions.values() if _matches(t, criteria)]
            found.sort(key=lambda t: t.created_at, reverse=True)
            return [t.id for t in found]

    def transaction_xml(self, transaction_id: str) -> dict[str, Any]:
        t = self.transactions[transaction_id]
        account = self.accounts.get(t.token)
        customer = self.customers.get(t.customer_id)
        return {
            "id": t.id,
            "status": t.status,
            "type": t.type,
            "currency_iso_code": t.currency,
            "amount": _decimal(t.amount, t.currency),
            "merchant_account_id": t.merchant_account_id,
            "order_id": t.order_id,
            "created_at": t.created_at,
            "updated_at": t.updated_at,
            "customer": {
                "id": t.customer_id,
                "first_name": customer.first_name if customer else None,
                "last_name": customer.last_name if customer else None,
                "email": customer.email if customer else None,
            },
            "payment_instrument_type": "paypal_account",
            "paypal": {
                "token": t.token,
                "payer_email": account.email if account else None,
                "payer_id": account.payer_id if account else None,
                "billing_agreement_id": account.billing_agreement_id if account else None,
                "authorization_id": f"{t.id.upper()}AUTH",
                "payment_id": f"PAYID-{t.id.upper()}",
            },
            "processor_response_code": t.processor_response_code,
            "processor_response_text": t.processor_response_text,
            "processor_response_type": t.processor_response_type,
            "additional_processor_response": None,
            "gateway_rejection_reason": t.gateway_rejection_reason,
            "refund_ids": list(t.refund_ids),
            "refunded_transaction_id": t.refunded_transaction_id,
            "settlement_batch_id": None,
            "status_history": [
                (
                    "status_event",
                    {
                        "timestamp": at,
                        "status": status,
                        "amount": _decimal(amount, t.currency),
                        "user": "local-gateway",
                        "transaction_source": "api",
                    },
                )
                for at, status, amount in t.history
            ],
            "disputes": [("dispute", _dispute_xml(t, d)) for d in t.disputes],
            "discounts": [],
            "add_ons": [],
        }

    # client tokens ---------------------------------------------------------------------
    def client_token(self, params: dict[str, Any], base_url: str) -> str:
        with self._lock:
            customer_id = params.get("customer_id")
            if customer_id and customer_id not in self.customers:
                raise ValidationFailed(
                    [
                        (
                            ("client_token",),
                            "92804",
                            "customer_id",
                            "Customer specified by customer_id does not exist",
                        )
                    ]
                )
            merchant_path = f"{base_url}/merchants/{self.merchant_id}"
            payload = {
                "version": params.get("version", 2),
                "authorizationFingerprint": secrets.token_hex(32),
                "configUrl": f"{merchant_path}/client_api/v1/configuration",
                "clientApiUrl": f"{merchant_path}/client_api",
                "environment": "development",
                "merchantId": self.merchant_id,
                "paypalEnabled": True,
                "customerId": customer_id,
            }
            token = base64.b64encode(json.dumps(payload).encode()).decode()
            self.client_tokens.append(token)
            return token


def _dispute_xml(t: Transaction, d: Dispute) -> dict[str, Any]:
    """A dispute as Braintree lists it on its transaction (the fields the SDK reads)."""
    return {
        "id": d.id,
        "amount": _decimal(d.amount, t.currency),
        "amount_disputed": _decimal(d.amount, t.currency),
        "amount_won": _decimal(d.amount if d.status == "won" else Decimal(0), t.currency),
        "currency_iso_code": t.currency,
        "kind": "chargeback",
        "reason": "general",
        "status": d.status,
        "merchant_account_id": t.merchant_account_id,
        "received_date": d.received_date.date().isoformat(),
        "created_at": d.received_date,
        "updated_at": d.updated_at,
        "transaction": {"id": t.id, "amount": _decimal(t.amount, t.currency)},
        "status_history": [
            (
                "status_history",
                {"status": status, "timestamp": at, "effective_date": at.date().isoformat()},
            )
            for at, status in d.history
        ],
    }


def _places(currency: str) -> int:
    return 0 if currency in NO_DECIMALS else 2


def _decimal(amount: Decimal, currency: str) -> str:
    return f"{amount:.{_places(currency)}f}"


def _matches(t: Transaction, criteria: dict[str, Any]) -> bool:
    for name, condition in criteria.items():
        if name == "ids":
            if t.id not in condition:
                return False
        elif name in ("order_id", "customer_id", "payment_method_token"):
            value = {"order_id": t.order_id, "customer_id": t.customer_id}.get(name, t.token) or ""
            if not _text_matches(value, condition):
                return False
        elif name in ("status", "type"):
            if getattr(t, name) not in condition:
                return False
        else:
            raise UnsupportedSearch(name)
    return True


def _text_matches(value: str, condition: dict[str, str]) -> bool:
    return all(_text_check(value, op, wanted) for op, wanted in condition.items())


def _text_check(value: str, op: str, wanted: str) -> bool:
    if op == "is":
        return value == wanted
    if op == "is_not":
        return value != wanted
    if op == "starts_with":
        return value.startswith(wanted)
    if op == "ends_with":
        return value.endswith(wanted)
    if op == "contains":
        return wanted in value
    raise UnsupportedSearch(op)


class UnsupportedSearch(Exception):
    """A search criterion the local gateway does not know (answered as 400 so a test fails
    loudly rather than matching too much)."""
