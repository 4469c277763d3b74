"""Simulated Stripe customers and cards, answering as Stripe test mode's magic cards do
(docs.stripe.com/testing). A card is named by Stripe's test PaymentMethod token
(`pm_card_visa`), as the ledger never carries a card number as a reference; `confirm_setup`
takes the number, as Stripe.js does in the browser."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from adapters.simulated.store import SimulatedStore, sim_ref
from commands.ports import (
    CardSetup,
    MethodDeclined,
    ProviderCustomer,
    ProviderCustomerNotFound,
    VaultedCard,
)

STRIPE = "stripe"
EXP_MONTH, EXP_YEAR = 12, 2034


class Behaviour(StrEnum):
    SUCCEEDS = "succeeds"
    DECLINES_AT_CHARGE = "declines_at_charge"  # attaches, then every charge is declined
    REFUSED_AT_ATTACH = "refused_at_attach"  # the issuer declines the card when it is saved
    AUTHENTICATES = "authenticates"  # 3-D Secure unless set up (authenticated) first


@dataclass(frozen=True)
class MagicCard:
    number: str
    token: str  # Stripe's test PaymentMethod for this number
    brand: str
    behaviour: Behaviour
    decline_code: str | None = None

    @property
    def last4(self) -> str:
        return self.number[-4:]


MAGIC_CARDS: tuple[MagicCard, ...] = (
    MagicCard("4242424242424242", "pm_card_visa", "visa", Behaviour.SUCCEEDS),
    MagicCard("5555555555554444", "pm_card_mastercard", "mastercard", Behaviour.SUCCEEDS),
    MagicCard(
        "4000000000000341",
        "pm_card_chargeCustomerFail",
        "visa",
        Behaviour.DECLINES_AT_CHARGE,
        "card_declined",
    ),
    MagicCard(
        "4000000000009995",
        "pm_card_visa_chargeDeclinedInsufficientFunds",
        "visa",
        Behaviour.REFUSED_AT_ATTACH,
        "insufficient_funds",
    ),
    MagicCard(
        "4000000000000002",
        "pm_card_chargeDeclined",
        "visa",
        Behaviour.REFUSED_AT_ATTACH,
        "generic_decline",
    ),
    MagicCard(
        "4000002500003155",
        "pm_card_authenticationRequiredOnSetup",
        "visa",
        Behaviour.AUTHENTICATES,
    ),
)
_BY_NUMBER = {card.number: card for card in MAGIC_CARDS}
_BY_TOKEN = {card.token: card for card in MAGIC_CARDS}


def magic_card(number_or_token: str) -> MagicCard | None:
    return _BY_NUMBER.get(number_or_token) or _BY_TOKEN.get(number_or_token)


class SimulatedCards:
    """The CustomerDirectory and CardVault ports, simulated."""

    def __init__(self, store: SimulatedStore) -> None:
        self._store = store

    # CustomerDirectory
    def create_customer(self, account_id: str, name: str, email: str) -> str:
        customer_id = sim_ref("cus_", STRIPE, account_id)
        return self._store.ensure_customer(STRIPE, account_id, customer_id, name, email)

    def update_customer(
        self, customer_id: str, *, name: str | None = None, email: str | None = None
    ) -> None:
        self._customer(customer_id)
        self._store.update_customer(customer_id, name, email)

    def get_customer(self, customer_id: str) -> ProviderCustomer | None:
        row = self._store.customer(customer_id)
        if row is None or row["processor"] != STRIPE:
            return None
        return ProviderCustomer(
            customer_id, row["account_id"], row["name"], row["email"], row["default_method"]
        )

    # CardVault
    def start_card_setup(self, customer_id: str, setup_id: str) -> CardSetup:
        self._customer(customer_id)
        seti = sim_ref("seti_", setup_id)
        self._store.write(
            "INSERT INTO sim_setups (setup_id, customer_id) VALUES (%s, %s)"
            " ON CONFLICT (setup_id) DO NOTHING",
            seti,
            customer_id,
        )
        return CardSetup(seti, f"{seti}_secret", "requires_payment_method")

    def confirm_setup(self, setup_id: str, number: str) -> str:
        """What Stripe.js does with the card number the customer typed: confirms the setup
        (authenticating the card for later off-session use) and attaches the new card to the
        setup's customer. Returns its pm_... Raises MethodDeclined as attaching does."""
        row = self._store.one("SELECT * FROM sim_setups WHERE setup_id = %s", setup_id)
        card = magic_card(number)
        if row is None or card is None:
            raise MethodDeclined("not a simulated setup or test card", "incorrect_number")
        refuse_at_attach(card)
        method_ref = sim_ref("pm_", setup_id)
        self._store.add_method(
            method_ref, row["customer_id"], "card", card_token=card.token, authenticated=True
        )
        self._store.write(
            "UPDATE sim_setups SET confirmed_method = %s WHERE setup_id = %s", method_ref, setup_id
        )
        return method_ref

    def confirmed_card(self, setup_id: str) -> str | None:
        row = self._store.one("SELECT * FROM sim_setups WHERE setup_id = %s", setup_id)
        return None if row is None else row["confirmed_method"]

    def attach_card(self, customer_id: str, method_ref: str) -> VaultedCard:
        """A test token (`pm_card_visa`) becomes the customer's card `pm_sim_...` (the same
        one each time for one customer, so attaching again is safe); a card confirmed on a
        setup is the customer's already."""
        self._customer(customer_id)
        row = self._store.method(method_ref)
        if row is None:
            card = magic_card(method_ref)
            if card is None:
                raise MethodDeclined("not a simulated test card", "resource_missing")
            refuse_at_attach(card)
            method_ref = sim_ref("pm_", customer_id, card.token)
            self._store.add_method(method_ref, customer_id, "card", card_token=card.token)
        elif row["customer_id"] != customer_id:
            raise MethodDeclined("the card belongs to another customer", "resource_missing")
        return self._vaulted(method_ref, customer_id)

    def detach_card(self, method_ref: str) -> None:
        self._store.detach(method_ref)

    def set_default_card(self, customer_id: str, method_ref: str) -> None:
        self._customer(customer_id)
        self._store.set_default(customer_id, method_ref)

    def list_cards(self, customer_id: str) -> tuple[str, ...]:
        self._customer(customer_id)
        return tuple(r["method_ref"] for r in self._store.methods_of(customer_id, "card"))

    def _vaulted(self, method_ref: str, customer_id: str) -> VaultedCard:
        row = self._store.method(method_ref)
        card = magic_card(row["card_token"]) if row else None
        if card is None:
            raise MethodDeclined("not a simulated card", "resource_missing")
        return VaultedCard(method_ref, customer_id, card.brand, card.last4, EXP_MONTH, EXP_YEAR)

    def _customer(self, customer_id: str) -> None:
        row = self._store.customer(customer_id)
        if row is None or row["processor"] != STRIPE:
            raise ProviderCustomerNotFound(customer_id)


def refuse_at_attach(card: MagicCard) -> None:
    if card.behaviour is Behaviour.REFUSED_AT_ATTACH:
        raise MethodDeclined("Your card was declined.", card.decline_code)
