"""Text the ledger accepts from outside, one rule for every field that carries it (names,
reasons, ids, emails, processor references): what the read models, the journal's readers and
PostgreSQL can always store and show, and never a card number.

Refused:
* control characters (Unicode `Cc`: NUL, tabs, newlines, DEL, C1), line and paragraph
  separators (`Zl`, `Zp`), surrogates (`Cs`, an unpaired `\\ud800` from JSON) and
  noncharacters (U+FDD0-U+FDEF, U+xFFFE, U+xFFFF): PostgreSQL refuses NUL in text, a
  surrogate cannot be encoded, and the others break one-line displays and logs;
* the bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and
  the byte order mark (U+FEFF): invisible, they reorder or hide what support reads.
Kept: every script, emoji, and the other format characters text needs (the zero-width
joiner of emoji and Indic scripts, the zero-width non-joiner of Persian, the left-to-right
and right-to-left marks, the tag characters of subdivision flags).

A card number: a run of 13 to 19 decimal digits (of any script), as typed: with single
spaces or dashes between digit groups, that passes the Luhn check; every consecutive
stretch of a run's groups is checked, so a number followed by its CVC is found too.
"""

from __future__ import annotations

import re
import unicodedata

_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF))
# The character rule as a JSON Schema `pattern`, so that the API's schema says it too (the
# card-number rule cannot be written as a pattern; surrogates cannot appear in one).
TEXT_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]*$"
CARD_DIGITS = range(13, 20)
_DIGIT_RUN = re.compile(r"\d+(?:[ -]\d+)*")
_GROUP = re.compile(r"\d+")
_LEDGER_ID = re.compile(
    r"(?:[a-z][a-z-]*:)?"  # a word prefix: the billing pages' actor is `billing-portal:<id>`
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:-[a-z]+)*",
    re.IGNORECASE,
)


def refuse_unsafe_text(value: str) -> str:
    """The value unchanged, or ValueError naming the first character it refuses."""
    for index, char in enumerate(value):
        if _refused(char):
            raise ValueError(f"character U+{ord(char):04X} at {index} is not allowed in text")
    if contains_card_number(value):
        raise ValueError("looks like a card number (a Luhn-valid run of 13-19 digits)")
    return value


def refuse_unsafe_input(value: object) -> object:
    """`refuse_unsafe_text` for a raw input before any stripping (a name's trailing newline
    is refused, not silently cut); other types are left to the field's own validation."""
    return refuse_unsafe_text(value) if isinstance(value, str) else value


def refuse_unsafe_id(value: str) -> str:
    """As `refuse_unsafe_text`, except that an id the ledger issues (a canonical UUID, maybe
    with word suffixes: a downgrade's credit is `<invoice id>-credit`; maybe after a word
    prefix: the billing pages act as `billing-portal:<account id>`) is never taken for a card
    number, whatever digits its groups happen to hold."""
    if _LEDGER_ID.fullmatch(value):
        return value
    return refuse_unsafe_text(value)


def refuse_control_input(value: object) -> object:
    """`refuse_control_characters` for a raw input, before any stripping."""
    return refuse_control_characters(value) if isinstance(value, str) else value


def refuse_control_characters(value: str) -> str:
    """Only the character rule (for shape-checked values where a Luhn-valid run is normal)."""
    for index, char in enumerate(value):
        if _refused(char):
            raise ValueError(f"character U+{ord(char):04X} at {index} is not allowed in text")
    return value


def _refused(char: str) -> bool:
    return (
        unicodedata.category(char) in _REFUSED_CATEGORIES
        or char in _BIDI_CONTROLS
        or _is_noncharacter(ord(char))
    )


def _is_noncharacter(code: int) -> bool:
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def contains_card_number(value: str) -> bool:
    return any(_has_luhn_stretch(run.group()) for run in _DIGIT_RUN.finditer(value))


def _has_luhn_stretch(run: str) -> bool:
    groups = [_digits(g) for g in _GROUP.findall(run)]
    for start in range(len(groups)):
        digits = ""
        for group in groups[start:]:
            digits += group
            if len(digits) > CARD_DIGITS.stop - 1:
                break
            if len(digits) in CARD_DIGITS and luhn_valid(digits):
                return True
    return False


def _digits(group: str) -> str:
    """ASCII digits of a group of decimal digits of any script (e.g. Arabic-Indic)."""
    return "".join(str(unicodedata.decimal(c)) for c in group)


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0
