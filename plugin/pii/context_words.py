"""Context words shared by finders: business references (order, invoice, tracking, ...) that are not personal data,
secrets (PIN, OTP), and words that announce an address."""

import regex

REFERENCE_BEFORE = regex.compile(
    r"(?i)\b(?:order\w*|bestel\w*|invoice|factuur\w*|tracking|track|trace|zending\w*|pakket|parcel|ticket|ref"
    r"|referen\w*|case|dossier|artikel\w*|article|item|sku|product\w*|serial|serie\w*|kvk|auftrag\w*|rechnung\w*"
    r"|kundennummer|klantnummer|customer\s*(?:no|nr|number|id)|transaction|transactie\w*|account|rekening\w*|iban"
    r"|version|id|v)\W{0,12}$"
)
"""Searched in the ~40 characters before a candidate (``pos``/``endpos`` window), so ``$`` is the candidate's start."""

# Words that make a short number a secret. A bare "code" is not one of them: "promo code", "product code", "error
# code", "the code on the letter" are everyday references; only a code qualified as a secret counts ("pin code",
# "sms code", "verification code", "Bestätigungscode"), and PIN/PUK/OTP/TAN/password words on their own.
PIN_CONTEXT = regex.compile(
    r"(?i)\b(?:pin\w*|puk\w*|otp|tan|passcode|password|passwort|wachtwoord|kennwort|verification|verificatie\w*"
    r"|verifizierung\w*|bestätigung\w*|bevestiging\w*|toegangs\w*|zugangs\w*|beveiliging\w*|sicherheits\w*|security"
    r"|one[\s\-]time|einmal\w*|sms[\s\-]?code\w*|(?:access|login|log-in|inlog|activation|activatie|aktivierungs"
    r"|confirmation|authentication|auth|2fa|mfa)[\s\-]?code\w*)\b"
)
PIN_HINTS = ("pin", "puk", "otp", "tan", "pass", "wacht", "kennwort", "verif", "bestätig", "bevestig", "toegang",
             "zugang", "beveilig", "sicherheit", "secur", "one", "einmal", "code")
"""Substrings one of which every PIN_CONTEXT match contains (a cheap pre-filter)."""

ADDRESS_WORDS = (
    r"adres\w*|address|adresse|anschrift|deliver\w*|bezorg\w*|liefer\w*|woon\w*|wohn\w*|live|moved|verhuisd|umgezogen"
)
ADDRESS_BEFORE = regex.compile(r"(?i)\b(?:" + ADDRESS_WORDS + r")\b")
"""Words before an address typed carelessly (a street or postcode in lower case); searched in a window before it."""
