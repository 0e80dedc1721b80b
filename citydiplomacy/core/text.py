"""Text keys shared by every layer: the one way two labels are compared."""

from __future__ import annotations

import re
import unicodedata


def fold(text: str) -> str:
    """Lower-case, strip accents and collapse white space: the key used to compare labels."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", text).strip().casefold()
