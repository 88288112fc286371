"""Words that mark a number as a business reference (order, invoice, tracking, ...) rather than personal data."""

import regex

REFERENCE_BEFORE = regex.compile(
    r"(?i)\b(?:order\w*|bestel\w*|invoice|factuur\w*|tracking|track|trace|zending\w*|pakket|parcel|ticket|ref"
    r"|referen\w*|case|dossier|artikel\w*|article|item|sku|product\w*|serial|serie\w*|kvk|auftrag\w*|rechnung\w*"
    r"|kundennummer|klantnummer|customer\s*(?:no|nr|number|id)|transaction|transactie\w*|account|rekening\w*|iban"
    r"|version|id|v)\W{0,12}$"
)
"""Searched in the ~40 characters before a candidate (``pos``/``endpos`` window), so ``$`` is the candidate's start."""
