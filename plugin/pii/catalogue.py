"""The built-in catalogue as a table: type name, default tag, priority class and finder, in priority order.

Priority classes (lower wins an overlap): 0 deny-list terms; 1 checksum-validated; 2 validated by structure or
required context; 3 the long-number catch-all. Within a class, custom rules come first (in their declared order), then
the built-ins in table order; on a tie the longer span wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Iterator, Optional, Tuple

from plugin.pii.addresses import find_addresses, may_hold_address
from plugin.pii.cards import find_cards, may_hold_card
from plugin.pii.dates import find_dates, may_hold_date
from plugin.pii.emails import find_emails, may_hold_email
from plugin.pii.iban import find_ibans, may_hold_iban
from plugin.pii.ip_addresses import find_ip_addresses, may_hold_ip_address
from plugin.pii.money import find_money, may_hold_currency
from plugin.pii.national_ids import find_bsns, find_passports, find_ssns, may_hold_bsn, may_hold_passport, may_hold_ssn
from plugin.pii.phones import find_phones, may_hold_phone
from plugin.pii.postal import find_postal_codes, may_hold_postal_code
from plugin.pii.scan import Scan
from plugin.pii.spans import Span
from plugin.pii.telecom import find_pin_codes, find_sim_numbers, may_hold_pin_code, may_hold_sim_number
from plugin.pii.vat import MIN_DIGITS as VAT_MIN_DIGITS, find_vat_numbers, may_hold_vat_number

DENY_CLASS, CHECKSUM_CLASS, STRUCTURE_CLASS, CATCH_ALL_CLASS = 0, 1, 2, 3

Finder = Callable[[Scan], Iterator[Span]]
Gate = Callable[[Scan], bool]


@dataclass(frozen=True)
class TypeInfo:
    name: str
    tag: str
    priority_class: int
    finder: Finder  # long_number's finder and gate are bound to the configured digit count by the engine
    min_digits: int = 0  # the engine skips the finder for texts with fewer digits (most chat has none)
    # A cheap necessary condition on the text's digit runs and characters: False means the finder cannot find
    # anything there, so the engine does not call it (most calls found nothing, and a call costs 1-10 µs).
    gate: Optional[Gate] = None


def _long_numbers_placeholder(scan: Scan) -> Iterator[Span]:
    return iter(())


def _no_long_numbers(scan: Scan) -> bool:
    return False


CATALOGUE: Tuple[TypeInfo, ...] = (
    TypeInfo("credit_card", "#creditcardnr#", CHECKSUM_CLASS, find_cards, 12, may_hold_card),
    TypeInfo("iban", "#iban#", CHECKSUM_CLASS, find_ibans, 2, may_hold_iban),
    TypeInfo("sim_number", "#simnr#", CHECKSUM_CLASS, find_sim_numbers, 19, may_hold_sim_number),
    TypeInfo("vat_number", "#vatnr#", CHECKSUM_CLASS, find_vat_numbers, VAT_MIN_DIGITS, may_hold_vat_number),
    TypeInfo("bsn", "#bsn#", CHECKSUM_CLASS, find_bsns, 9, may_hold_bsn),
    TypeInfo("email", "#email#", STRUCTURE_CLASS, find_emails, 0, may_hold_email),
    TypeInfo("ip_address", "#ipaddress#", STRUCTURE_CLASS, find_ip_addresses, 0, may_hold_ip_address),
    TypeInfo("ssn", "#ssn#", STRUCTURE_CLASS, find_ssns, 9, may_hold_ssn),
    TypeInfo("passport", "#passportnr#", STRUCTURE_CLASS, find_passports, 0, may_hold_passport),
    TypeInfo("date", "#date#", STRUCTURE_CLASS, find_dates, 1, may_hold_date),
    TypeInfo("phone", "#phonenr#", STRUCTURE_CLASS, find_phones, 7, may_hold_phone),
    TypeInfo("pin_puk", "#pinpuknr#", STRUCTURE_CLASS, find_pin_codes, 4, may_hold_pin_code),
    TypeInfo("currency", "#currency#", STRUCTURE_CLASS, find_money, 1, may_hold_currency),
    TypeInfo("postal_code", "#postalcode#", STRUCTURE_CLASS, find_postal_codes, 1, may_hold_postal_code),
    TypeInfo("street_address", "#address#", STRUCTURE_CLASS, find_addresses, 1, may_hold_address),
    TypeInfo("long_number", "#number#", CATCH_ALL_CLASS, _long_numbers_placeholder, 1, _no_long_numbers),
)

BUILTIN_TYPES: Tuple[str, ...] = tuple(info.name for info in CATALOGUE)
BY_NAME: Dict[str, TypeInfo] = {info.name: info for info in CATALOGUE}

DENY_TYPE = "deny_list"
TIMEOUT_TYPE = "unscanned"
DEFAULT_TAGS: Dict[str, str] = {info.name: info.tag for info in CATALOGUE}
DEFAULT_TAGS[DENY_TYPE] = "#redacted#"
DEFAULT_TAGS[TIMEOUT_TYPE] = "#redacted#"
