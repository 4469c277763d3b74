"""The command models and the HTTP bodies share one set of types: every text field refuses
control characters and card numbers, amounts are strict bounded integers, processor
references have their processor's shape, and a customer never writes the audit reason."""

from __future__ import annotations

import inspect
import json
import types
from typing import Annotated, Any, Union, get_args, get_origin
from uuid import uuid4

import pytest
from pydantic import BaseModel, EmailStr, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from adapters.http import common
from adapters.http.problems import status_of
from adapters.http.routers import billing, payment_flow, reconciliation
from commands import models
from commands.errors import CustomerReasonRefused
from commands.models import (
    Amount,
    CommandContext,
    GrantCredit,
    LinkProviderCustomer,
    RecordOutOfBandPayment,
    RepairAction,
    RepairReconciliation,
    UpdateProfile,
)
from commands.text import TEXT_PATTERN
from ledger.meta import ActorKind, Surface
from ledger.money import MAX_AMOUNT, InvalidAmount, Money

# Fields whose shape is their own: a tax id is letters, digits and +*- (many national ids
# are Luhn-valid digit runs); a Turnstile token goes to Cloudflare and is never recorded.
NO_CARD_CHECK = {"tax_id", "turnstile_token"}
CARD = "4242 4242 4242 4242"


def _models(module: types.ModuleType) -> list[type[BaseModel]]:
    return [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, BaseModel) and cls.__module__ == module.__name__
    ]


COMMAND_MODELS = _models(models)
BODY_MODELS = [
    cls
    for module in (common, billing, payment_flow, reconciliation)
    for cls in _models(module)
    if cls.__name__.endswith("Body")
]


def _takes_text(annotation: Any) -> bool:
    if annotation in (str, EmailStr):
        return True
    if get_origin(annotation) in (Union, types.UnionType, Annotated):
        return any(_takes_text(arg) for arg in get_args(annotation))
    return False


TEXT_FIELDS = [
    pytest.param(model, name, field, id=f"{model.__name__}.{name}")
    for model in COMMAND_MODELS + BODY_MODELS
    for name, field in model.model_fields.items()
    if _takes_text(field.annotation)
]
CARD_CHECKED_FIELDS = [p for p in TEXT_FIELDS if p.values[1] not in NO_CARD_CHECK]


def _field_type(field: FieldInfo) -> TypeAdapter[Any]:
    """The field on its own: its type with its constraints and validators."""
    annotation: Any = field.annotation
    if field.metadata:
        annotation = Annotated[annotation, *field.metadata]
    return TypeAdapter(annotation)


def test_the_models_under_test_are_all_there() -> None:
    names = {m.__name__ for m in BODY_MODELS}
    assert {"CardBody", "PayPalBody", "CreditBody", "RepairBody", "CompleteBody"} <= names
    assert {"OpenAccountBody", "ProfileChangesBody", "MigrateTokenBody"} <= names
    assert len(TEXT_FIELDS) > 60


@pytest.mark.parametrize(("model", "name", "field"), TEXT_FIELDS)
def test_every_text_field_refuses_nul_and_control_characters(
    model: type[BaseModel], name: str, field: FieldInfo
) -> None:
    for bad in ("a\x00b", "ab\n", "\x1b[31m", "a\u2028b", "a\u202eb"):
        with pytest.raises(ValidationError):
            _field_type(field).validate_python(bad)


@pytest.mark.parametrize(("model", "name", "field"), CARD_CHECKED_FIELDS)
def test_every_text_field_refuses_a_card_number(
    model: type[BaseModel], name: str, field: FieldInfo
) -> None:
    """Every text field but those of NO_CARD_CHECK (tax ids, Turnstile tokens: their own
    shapes) refuses a card number."""
    for card in (CARD, CARD.replace(" ", ""), CARD.replace(" ", "-"), "pm_4242424242424242"):
        with pytest.raises(ValidationError):
            _field_type(field).validate_python(card)


def test_names_and_reasons_keep_every_script() -> None:
    name = "株式会社 山田 🚀 شركة"
    cmd = UpdateProfile(account_id=uuid4(), name=name)
    assert cmd.name == name
    ctx = CommandContext(
        actor_id="support-1",
        actor_kind=ActorKind.SUPPORT,
        surface=Surface.NINJAPANEL,
        reason="Geste commercial — ticket №12 🙏",
    )
    assert ctx.reason == "Geste commercial — ticket №12 🙏"


def test_an_email_with_a_control_character_or_a_card_number_is_refused() -> None:
    for email in ("a\x00b@example.com", "4242424242424242@example.com"):
        with pytest.raises(ValidationError):
            UpdateProfile(account_id=uuid4(), email=email)


# --- amounts --------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ['"100"', "true", "1e2", "100.0", "0", "-1", str(2**63)])
def test_an_amount_is_a_strict_bounded_integer_in_json(raw: str) -> None:
    with pytest.raises(ValidationError):
        GrantCredit.model_validate_json(
            f'{{"account_id": "{uuid4()}", "amount": {raw}, "currency": "USD"}}'
        )


@pytest.mark.parametrize("value", ["100", True, 100.0, 0, -1, MAX_AMOUNT + 1, 2**63, 10**30])
def test_an_amount_is_a_strict_bounded_integer_in_python(value: Any) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Amount).validate_python(value)


def test_amounts_from_one_minor_unit_to_the_processors_limit_are_taken() -> None:
    for value in (1, 100, MAX_AMOUNT):
        cmd = GrantCredit(account_id=uuid4(), amount=value, currency="USD")
        assert cmd.amount == value
        assert type(cmd.amount) is int
    body = billing.CreditBody.model_validate_json('{"amount": 99999999, "currency": "USD"}')
    assert body.amount == MAX_AMOUNT == 99_999_999


INT_FIELDS = [
    pytest.param(model, name, field, id=f"{model.__name__}.{name}")
    for model in COMMAND_MODELS + BODY_MODELS
    for name, field in model.model_fields.items()
    if field.annotation is int
]


@pytest.mark.parametrize(("model", "name", "field"), INT_FIELDS)
def test_every_integer_field_is_strict(model: type[BaseModel], name: str, field: FieldInfo) -> None:
    """`true` is not 1 and `"12"` is not 12, whether an amount or a card's expiry month."""
    for value in (True, "12", 12.0):
        with pytest.raises(ValidationError):
            _field_type(field).validate_python(value)


def test_every_amount_field_of_commands_and_bodies_is_the_amount_type() -> None:
    amount_fields = [
        (model.__name__, name)
        for model in COMMAND_MODELS + BODY_MODELS
        for name, field in model.model_fields.items()
        if name == "amount"
    ]
    assert len(amount_fields) >= 8
    for model_name, name in amount_fields:
        model = getattr(models, model_name, None) or getattr(billing, model_name)
        with pytest.raises(ValidationError):
            _field_type(model.model_fields[name]).validate_python(True)
        with pytest.raises(ValidationError):
            _field_type(model.model_fields[name]).validate_python(MAX_AMOUNT + 1)


def test_one_amount_above_the_limit_is_refused_by_the_domain() -> None:
    assert Money(2**63, "USD").amount == 2**63  # an old event's amount still loads
    with pytest.raises(InvalidAmount):
        Money(True, "USD")
    assert Money(MAX_AMOUNT, "USD").require_single_amount("a credit").amount == MAX_AMOUNT
    for amount in (0, -5, MAX_AMOUNT + 1):
        with pytest.raises(InvalidAmount, match="a credit must be 1 to 99999999"):
            Money(amount, "USD").require_single_amount("a credit")


# --- processor references ---------------------------------------------------------------------


def test_a_provider_customer_has_its_processors_shape_in_the_command_and_the_body() -> None:
    account_id = uuid4()
    assert LinkProviderCustomer(account_id=account_id, processor="stripe", customer_id="cus_A1")
    assert LinkProviderCustomer(account_id=account_id, processor="braintree", customer_id="5940")
    for shape in (LinkProviderCustomer, billing.ProviderCustomerBody):
        extra: dict[str, Any] = {"account_id": account_id} if shape is LinkProviderCustomer else {}
        with pytest.raises(ValidationError, match="Stripe customer id"):
            shape.model_validate({**extra, "processor": "stripe", "customer_id": "5940"})
        with pytest.raises(ValidationError, match="Braintree customer id"):
            shape.model_validate({**extra, "processor": "braintree", "customer_id": "x" * 37})


def test_an_out_of_band_reference_has_its_processors_shape() -> None:
    ok = RecordOutOfBandPayment(
        account_id=uuid4(), invoice_id="inv-1", processor="stripe", reference="pi_3Mtw"
    )
    assert ok.reference == "pi_3Mtw"
    with pytest.raises(ValidationError, match="Stripe payment id"):
        billing.OutOfBandBody.model_validate({"processor": "stripe", "reference": "wire-0042"})


def test_a_repair_checks_the_method_against_its_processor_and_any_reference_shape() -> None:
    fine = RepairReconciliation(
        account_id=uuid4(), action=RepairAction.RECORD_REFUND, attempt_id="a-1", refund_id="m2fg"
    )
    assert fine.refund_id == "m2fg"  # a Braintree refund: its processor is the attempt's
    body = {"action": "detach-method", "method_ref": "3h8ry4j", "reason": "r"}
    with pytest.raises(ValidationError, match="Stripe payment method id"):
        reconciliation.RepairBody.model_validate(body)
    braintree = {**body, "processor": "braintree"}
    assert reconciliation.RepairBody.model_validate(braintree).method_ref == "3h8ry4j"
    for field in ("refund_id", "dispute_id"):
        with pytest.raises(ValidationError, match="processor reference"):
            reconciliation.RepairBody.model_validate({**body, field: "4242 4242 4242 4242"})


def test_a_card_body_takes_only_a_stripe_payment_method() -> None:
    card = {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}
    assert billing.CardBody.model_validate({**card, "processor_ref": "pm_visa"})
    for ref in ("4242424242424242", "tok_visa", "pm_4242 4242 4242 4242", "bt-token"):
        with pytest.raises(ValidationError):
            billing.CardBody.model_validate({**card, "processor_ref": ref})
    with pytest.raises(ValidationError):
        billing.CardBody.model_validate({**card, "processor_ref": "pm_v", "last4": "٤٢٤٢"})


# --- the audit reason ---------------------------------------------------------------------------


def test_a_customer_context_cannot_carry_a_reason() -> None:
    with pytest.raises(CustomerReasonRefused) as refused:
        CommandContext(
            actor_id="c-1",
            actor_kind=ActorKind.CUSTOMER,
            surface=Surface.DASHBOARD,
            reason="Refund approved by support (ticket 123)",
        )
    assert refused.value.code == "customer_reason_refused"
    assert status_of(refused.value) == 422
    plain = CommandContext(actor_id="c-1", actor_kind="customer", surface="dashboard")
    assert plain.reason is None


def _string_schemas(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, prop in schema.get("properties", {}).items():
        for option in prop.get("anyOf", [prop]):
            if option.get("type") == "string":
                found.append((name, option))
    return found


@pytest.mark.parametrize("body", BODY_MODELS, ids=lambda m: m.__name__)
def test_every_string_of_a_body_schema_states_its_shape(body: type[BaseModel]) -> None:
    """What the API's schema (and a schema-driven test generator) reads: no free string."""
    for name, option in _string_schemas(body.model_json_schema()):
        shaped = {"pattern", "enum", "const"} & option.keys()
        assert shaped or option.get("format") in ("date-time", "uuid"), (name, option)


def test_the_body_schemas_say_what_they_take() -> None:
    text = common.ProfileChangesBody.model_json_schema()["properties"]["name"]["anyOf"][0]
    assert text["pattern"] == TEXT_PATTERN
    schema = json.dumps(billing.CreditBody.model_json_schema())
    assert '"maximum": 99999999' in schema
    assert '"type": "integer"' in schema
