"""Text keys shared by every layer: the one way two labels are compared."""

from __future__ import annotations

import re
import unicodedata

# Arabic-script letters typed in two forms (Arabic yeh and kaf keyboards, the tatweel stretch, the
# zero-width non-joiner of Persian compounds): one form each, so «تهران» and «تهران» typed on an Arabic
# keyboard compare equal.
_ARABIC_VARIANTS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ـ": None, "\u200c": " "})


def fold(text: str) -> str:
    """Lower-case, strip accents, unify Arabic-script letter variants and collapse white space: the key
    used to compare labels."""
    text = unicodedata.normalize("NFKD", text.translate(_ARABIC_VARIANTS))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", text).strip().casefold()
