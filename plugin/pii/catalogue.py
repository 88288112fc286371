"""The built-in catalogue as a table: type name, default tag, priority class and finder, in priority order.

Priority classes (lower wins an overlap): 0 deny-list terms; 1 checksum-validated; 2 validated by structure or
required context; 3 the long-number catch-all. Within a class, custom rules come first (in their declared order), then
the built-ins in table order; on a tie the longer span wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Iterator, Tuple

from plugin.pii.addresses import find_addresses
from plugin.pii.cards import find_cards
from plugin.pii.dates import find_dates
from plugin.pii.emails import find_emails
from plugin.pii.iban import find_ibans
from plugin.pii.ip_addresses import find_ip_addresses
from plugin.pii.money import find_money
from plugin.pii.national_ids import find_bsns, find_passports, find_ssns
from plugin.pii.phones import find_phones
from plugin.pii.postal import find_postal_codes
from plugin.pii.scan import Scan
from plugin.pii.spans import Span
from plugin.pii.telecom import find_pin_codes, find_sim_numbers
from plugin.pii.vat import MIN_DIGITS as VAT_MIN_DIGITS, find_vat_numbers

DENY_CLASS, CHECKSUM_CLASS, STRUCTURE_CLASS, CATCH_ALL_CLASS = 0, 1, 2, 3

Finder = Callable[[Scan], Iterator[Span]]


@dataclass(frozen=True)
class TypeInfo:
    name: str
    tag: str
    priority_class: int
    finder: Finder  # long_number's finder is bound to the configured digit count by the engine
    min_digits: int = 0  # the engine skips the finder for texts with fewer digits (most chat has none)


def _long_numbers_placeholder(scan: Scan) -> Iterator[Span]:
    return iter(())


CATALOGUE: Tuple[TypeInfo, ...] = (
    TypeInfo("credit_card", "#creditcardnr#", CHECKSUM_CLASS, find_cards, 12),
    TypeInfo("iban", "#iban#", CHECKSUM_CLASS, find_ibans, 2),
    TypeInfo("sim_number", "#simnr#", CHECKSUM_CLASS, find_sim_numbers, 19),
    TypeInfo("vat_number", "#vatnr#", CHECKSUM_CLASS, find_vat_numbers, VAT_MIN_DIGITS),
    TypeInfo("bsn", "#bsn#", CHECKSUM_CLASS, find_bsns, 9),
    TypeInfo("email", "#email#", STRUCTURE_CLASS, find_emails, 0),
    TypeInfo("ip_address", "#ipaddress#", STRUCTURE_CLASS, find_ip_addresses, 0),
    TypeInfo("ssn", "#ssn#", STRUCTURE_CLASS, find_ssns, 9),
    TypeInfo("passport", "#passportnr#", STRUCTURE_CLASS, find_passports, 0),
    TypeInfo("date", "#date#", STRUCTURE_CLASS, find_dates, 1),
    TypeInfo("phone", "#phonenr#", STRUCTURE_CLASS, find_phones, 7),
    TypeInfo("pin_puk", "#pinpuknr#", STRUCTURE_CLASS, find_pin_codes, 4),
    TypeInfo("currency", "#currency#", STRUCTURE_CLASS, find_money, 1),
    TypeInfo("postal_code", "#postalcode#", STRUCTURE_CLASS, find_postal_codes, 1),
    TypeInfo("street_address", "#address#", STRUCTURE_CLASS, find_addresses, 1),
    TypeInfo("long_number", "#number#", CATCH_ALL_CLASS, _long_numbers_placeholder, 1),
)

BUILTIN_TYPES: Tuple[str, ...] = tuple(info.name for info in CATALOGUE)
BY_NAME: Dict[str, TypeInfo] = {info.name: info for info in CATALOGUE}

DENY_TYPE = "deny_list"
TIMEOUT_TYPE = "unscanned"
DEFAULT_TAGS: Dict[str, str] = {info.name: info.tag for info in CATALOGUE}
DEFAULT_TAGS[DENY_TYPE] = "#redacted#"
DEFAULT_TAGS[TIMEOUT_TYPE] = "#redacted#"
