"""An in-memory customer directory (the CustomerDirectory port) for unit tests: customers
by id, with the account they were created for; `down` makes every call unavailable."""

from __future__ import annotations

from dataclasses import replace

from commands.ports import ProcessorUnavailable, ProviderCustomer, ProviderCustomerNotFound


class FakeCustomers:
    def __init__(self) -> None:
        self.customers: dict[str, ProviderCustomer] = {}
        self.writes: list[tuple[str, str]] = []  # (operation, customer id)
        self.down = False

    def create_customer(self, account_id: str, name: str, email: str) -> str:
        self._up()
        for customer in self.customers.values():
            if customer.account_id == account_id:
                return customer.customer_id
        customer_id = f"cus_{len(self.customers) + 1}"
        self.customers[customer_id] = ProviderCustomer(customer_id, account_id, name, email, None)
        self.writes.append(("create", customer_id))
        return customer_id

    def update_customer(
        self, customer_id: str, *, name: str | None = None, email: str | None = None
    ) -> None:
        self._up()
        if customer_id not in self.customers:
            raise ProviderCustomerNotFound(customer_id)
        self.edit_at_processor(customer_id, name=name, email=email)
        self.writes.append(("update", customer_id))

    def get_customer(self, customer_id: str) -> ProviderCustomer | None:
        self._up()
        return self.customers.get(customer_id)

    def edit_at_processor(
        self, customer_id: str, *, name: str | None = None, email: str | None = None
    ) -> None:
        """What somebody using the processor's dashboard does."""
        current = self.customers[customer_id]
        self.customers[customer_id] = replace(
            current,
            name=name if name is not None else current.name,
            email=email if email is not None else current.email,
        )

    def _up(self) -> None:
        if self.down:
            raise ProcessorUnavailable("the fake processor is down")
