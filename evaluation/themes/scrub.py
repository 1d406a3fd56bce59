"""Remove what identifies a person from a quote: e-mail addresses, phone numbers, street addresses and names.

Rules, not a model: they catch the usual Norwegian and Swedish forms
(``ola@example.no``; ``912 34 567``, ``+47 91234567``, ``070-123 45 67``;
``Storgata 12``, ``Kyrkvägen 3 B``) and a name written as two or three
capitalised words that do not start a sentence (``hilsen Kari Nordmann``).
A name written in lower case or standing alone is not caught, so quotes are
published only from cells of at least ``min_n`` comments, and the report says
that the scrubbing is by rules.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PHONE = re.compile(r"(?<!\w)(\+\d{2}[\s-]?)?(\d[\s-]?){7,11}\d(?!\w)")
STREET = re.compile(
    r"\b[A-ZÆØÅÄÖ][\wæøåäöé-]*(gata|gate|gaten|veien|vegen|vei|veg|vägen|väg|gatan|torget|plass|allé)\s+\d+\s?[A-Za-z]?\b",
    re.IGNORECASE,
)
NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-ZÆØÅÄÖ][a-zæøåäöé]+(\s+[A-ZÆØÅÄÖ][a-zæøåäöé]+){1,2}\b")
MARKS = {"email": "[e-post]", "phone": "[telefon]", "street": "[adresse]", "name": "[navn]"}


def scrub(text: str) -> str:
    """``text`` with e-mail addresses, phone numbers, street addresses and names replaced by markers."""
    text = EMAIL.sub(MARKS["email"], text)
    text = PHONE.sub(MARKS["phone"], text)
    text = STREET.sub(MARKS["street"], text)
    return NAME.sub(MARKS["name"], text)
