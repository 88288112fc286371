"""rasa-guard's PII engine: detect and mask personal data in chat text. Python on ``regex`` and ``phonenumbers``,
run as a mypyc build when one matching the sources exists (``scripts/compile_engine.py``; see ``compiled``).

Usage::

    engine = build_engine(EngineConfig())          # once; validates custom rules
    spans = engine.detect(text)                    # tuple[Span], offsets are Python string indices
    result = engine.mask(text, "nlu")              # MaskResult(text, spans, timed_out)

Built-in types (priority order; lower class wins an overlap):

| class | type | default tag | validation |
|---|---|---|---|
| 1 checksum | credit_card | #creditcardnr# | Luhn + IIN ranges (visa, mastercard, amex, discover, jcb, diners, maestro, unionpay, rupay, elo, mir); brand reported |
| 1 | iban | #iban# | 89 registry countries: length, BBAN format, mod 97; spaced or not, any case |
| 1 | sim_number | #simnr# | ICCID 19-20 digits starting 89, Luhn |
| 1 | vat_number | #vatnr# | EU VAT ids; check digits for NL (11-proof and 2020 mod 97), DE, BE, FR, IT, AT, DK, FI, HR |
| 1 | bsn | #bsn# | 9 digits, 11-proof; not after order/invoice/passport/SSN words unless "bsn" is near |
| 2 structure/context | email | #email# | syntax incl. subdomains, plus-tags, IDN; no network look-ups |
| 2 | ip_address | #ipaddress# | IPv4 / IPv6 via ``ipaddress`` |
| 2 | ssn | #ssn# | US area/group/serial exclusions; bare 9 digits need "ssn"-like context |
| 2 | passport | #passportnr# | NL/DE/GB/US shapes; passport context word required |
| 2 | date | #date# | numeric (. space - /), ISO, written months en/nl/de; calendar-valid |
| 2 | phone | #phonenr# | ``phonenumbers`` validity; +CC/00CC or national for ``phone_regions``; not after order words, not timestamps, dates or prices |
| 2 | pin_puk | #pinpuknr# | 4-8 standalone digits near pin/puk/otp/tan/password or a qualified code (sms/verification/...) |
| 2 | currency | #currency# | €, $, £, EUR/USD/GBP amounts |
| 2 | postal_code | #postalcode# | NL ``1234 AB``, GB postcodes, DE 5 digits with address context |
| 2 | street_address | #address# | NL/DE street word + number, EN number + Capitalised name + street type |
| 3 catch-all | long_number | #number# | any run of ``long_number_digits`` (9) or more digits; also, fail closed, the groups no other span covers in a sequence of digit groups (single spaces/dashes) holding that many digits |

Overlaps are resolved greedily by (class, rank, longest, leftmost). Deny-list terms (class 0, ``#redacted#``) beat
everything; custom rules rank first within their class (1 with a validator, else 2) in declared order; allow-listed
values are never masked. Views: ``nlu`` (tags, plus every number of ``nlu_hidden_digits`` (5) or more digits), ``agent``
and ``storage`` (card_last4, email_domain, phone_last4, IBAN last four, tags for the rest), ``log`` (tags). The ``admin``
view (originals) belongs to the vault layer: ``mask(view="admin")`` raises ``AdminViewError``.

Time budget: each scan has ``scan_timeout_s``; custom rules always run under the ``regex`` timeout, built-ins (linear
patterns) from 1,000 characters on. On timeout the engine fails closed: ``mask`` returns ``#redacted#`` with
``timed_out=True``, ``detect`` returns one ``unscanned`` span over the whole text, and a WARNING without the text is
logged on the ``plugin.pii`` logger (plus the optional ``on_timeout(rule_name, text_length)`` callback).
"""

from plugin.pii.compiled import use_build

COMPILED = use_build(__path__)
"""True when the engine's modules below run as the mypyc build (``scripts/compile_engine.py``), False as sources."""

from plugin.pii.catalogue import BUILTIN_TYPES, DEFAULT_TAGS  # noqa: E402 - after the build is chosen
from plugin.pii.config import VIEWS, CustomRule, EngineConfig, StrategySpec  # noqa: E402
from plugin.pii.engine import Engine, build_engine  # noqa: E402
from plugin.pii.errors import AdminViewError, InvalidRuleError, PIIConfigError, UnknownViewError  # noqa: E402
from plugin.pii.spans import MaskResult, Span  # noqa: E402

__all__ = [
    "AdminViewError",
    "COMPILED",
    "BUILTIN_TYPES",
    "CustomRule",
    "DEFAULT_TAGS",
    "Engine",
    "EngineConfig",
    "InvalidRuleError",
    "MaskResult",
    "PIIConfigError",
    "Span",
    "StrategySpec",
    "UnknownViewError",
    "VIEWS",
    "build_engine",
]
