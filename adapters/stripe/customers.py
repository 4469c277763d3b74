"""Stripe as a CustomerDirectory: one customer per ledger account, found again by the
account id in its metadata."""

from __future__ import annotations

import stripe
from stripe.params import CustomerCreateParams, CustomerUpdateParams

from adapters.stripe.connection import StripePort, id_of, refused_for_customer
from commands.ports import ProcessorUnavailable, ProviderCustomer


class StripeCustomers(StripePort):
    def create_customer(self, account_id: str, name: str, email: str) -> str:
        customer_for = self._stripe.customer_for
        if existing := self.guard.retried("find_customer", lambda: customer_for(account_id)):
            return existing.id
        params: CustomerCreateParams = {
            "name": name,
            "email": email,
            "metadata": {"account_id": account_id},
        }
        try:
            customer = self.guard.once(
                "create_customer",
                lambda: self._client.v1.customers.create(
                    params, {"idempotency_key": f"customer:{account_id}"}
                ),
            )
        except ProcessorUnavailable:
            found = self._stripe.find_quietly(lambda: customer_for(account_id))
            if found is None:
                raise
            return found.id
        return customer.id

    def update_customer(
        self, customer_id: str, *, name: str | None = None, email: str | None = None
    ) -> None:
        params: CustomerUpdateParams = {}
        if name is not None:
            params["name"] = name
        if email is not None:
            params["email"] = email
        if not params:
            return
        try:
            self.guard.retried(
                "update_customer", lambda: self._client.v1.customers.update(customer_id, params)
            )
        except stripe.InvalidRequestError as error:
            raise refused_for_customer("customer update", error, customer_id) from error

    def get_customer(self, customer_id: str) -> ProviderCustomer | None:
        data = self._stripe.read(
            "get_customer", lambda: self._client.v1.customers.retrieve(customer_id)
        )
        if data is None or data.get("deleted"):
            return None
        default = (data.get("invoice_settings") or {}).get("default_payment_method")
        return ProviderCustomer(
            customer_id=str(data["id"]),
            account_id=(data.get("metadata") or {}).get("account_id"),
            name=data.get("name"),
            email=data.get("email"),
            default_method_ref=id_of(default),
        )
