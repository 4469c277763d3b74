"""The second set of console actions, registered in actions.ACTIONS by one line: void an
invoice, write one off (mark it uncollectible), write bad debt off, refund a payment,
reconcile now and repair a finding, resolve payments in flight, advance the account's test
clock."""

from __future__ import annotations

from adapters.http.console import act_clock, act_in_flight, act_invoices, act_reconcile, act_refund
from adapters.http.console.acting import Action

ACTIONS2: tuple[Action, ...] = (
    act_invoices.VOID,
    act_invoices.WRITE_OFF,
    act_invoices.WRITE_OFF_BAD_DEBT,
    act_refund.ACTION,
    act_reconcile.CHECK,
    act_reconcile.REPAIR,
    act_in_flight.ACTION,
    act_clock.ACTION,
)
