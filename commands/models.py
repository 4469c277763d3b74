"""Commands: what a caller asks the ledger to do. Frozen, validated at the edge by pydantic;
the domain checks the same rules again as invariants."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from ledger.meta import ActorKind, Surface

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
TaxId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z0-9+*-]{0,20}$")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CommandContext(BaseModel):
    """Who asks, through which surface, why, and as part of which request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor_id: str = Field(min_length=1, max_length=200)
    actor_kind: ActorKind
    surface: Surface
    reason: Reason | None = None
    correlation_id: UUID = Field(default_factory=uuid4)
    causation_id: UUID | None = None
    command_id: UUID | None = None


class OpenAccount(Command):
    name: Name
    email: EmailStr
    country: Country
    currency: Currency
    tax_id: TaxId | None = None


class UpdateProfile(Command):
    account_id: UUID
    name: Name | None = None
    email: EmailStr | None = None
    country: Country | None = None
    currency: Currency | None = None
    tax_id: TaxId | None = Field(default=None, description="empty string removes it")


class CloseAccount(Command):
    account_id: UUID
