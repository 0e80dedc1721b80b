"""Text normalisation of place and country names into comparison keys.

Two keys are produced from a raw name:

* :func:`normalise_name` -- case-folded, accent-folded (Latin, Greek and Cyrillic diacritics only, so
  that Devanagari or Arabic vowel signs survive), punctuation turned into spaces, whitespace collapsed,
  Persian/Arabic letter variants unified.  This is the key under which the gazetteer indexes every name
  and alternate name.
* :func:`loose_key` -- the normalised key with spaces removed and common abbreviations expanded
  ("St." -> "saint", "Mt" -> "mount"), used as a second, looser exact-match index.

Both functions are total (they never raise on any ``str``) and idempotent.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["normalise_name", "loose_key", "loose_from_key", "ascii_fold", "split_qualifier"]

# Letters that do not decompose under NFKD but have an obvious ASCII spelling.
_SPECIAL_LETTERS = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "ss",
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "þ": "th",
        "Þ": "th",
        "ı": "i",
        "ħ": "h",
        "Ħ": "h",
        "ŧ": "t",
        "ƒ": "f",
        # Arabic-script variants: Persian and Arabic spellings of the same name compare equal.
        "ي": "ی",
        "ى": "ی",
        "ك": "ک",
        "ة": "ه",
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        # Apostrophe-like marks are dropped (Nuku'alofa == Nukualofa, Côte d'Ivoire == cote divoire).
        "'": "",
        "’": "",
        "‘": "",
        "ʻ": "",
        "ʼ": "",
        "`": "",
        "´": "",
        "\u200c": "",  # zero-width non-joiner (Persian)
        "\u200d": "",
        "\u200b": "",
        "\u0640": "",  # tatweel
    }
)

# Diacritics are only stripped from letters of these scripts: elsewhere (Devanagari, Thai, Arabic
# harakat excepted) combining marks carry vowels and removing them would merge distinct names.
_FOLDABLE_BASE_MAX = 0x052F  # Latin, IPA, Greek, Cyrillic (+ supplement)
_LATIN_EXT_ADDITIONAL = range(0x1E00, 0x1F00)
_ARABIC_HARAKAT = range(0x064B, 0x0660)

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)

_ABBREVIATIONS = {
    "st": "saint",
    "ste": "sainte",
    "sankt": "saint",
    "mt": "mount",
    "ft": "fort",
    "pt": "port",
}


def _fold_marks(text: str) -> str:
    out: list[str] = []
    base_foldable = False
    for ch in unicodedata.normalize("NFKD", text):
        cp = ord(ch)
        if unicodedata.combining(ch):
            if base_foldable or cp in _ARABIC_HARAKAT:
                continue
            out.append(ch)
            continue
        base_foldable = cp <= _FOLDABLE_BASE_MAX or cp in _LATIN_EXT_ADDITIONAL
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def _normalise_once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _fold_marks(text.translate(_SPECIAL_LETTERS)).translate(_SPECIAL_LETTERS)
    return " ".join(_NON_WORD.sub(" ", text).split())


@lru_cache(maxsize=1 << 18)
def normalise_name(text: str) -> str:
    """Return the comparison key of a name.

    Parameters
    ----------
    text : str
        Any string (a place, district or country name in any script).

    Returns
    -------
    str
        Lower-case key without Latin/Greek/Cyrillic diacritics or punctuation, words separated by
        one space; ``""`` when nothing word-like remains.  ``normalise_name(normalise_name(x)) ==
        normalise_name(x)`` for every ``x``.
    """
    if not isinstance(text, str):
        return ""
    if text.isascii():
        # Fast path (most gazetteer names): no accents, no special letters, lower() == casefold().
        return " ".join(_NON_WORD.sub(" ", text.lower().replace("'", "").replace("`", "")).split())
    key = _normalise_once(text)
    # Case folding and NFKC can interact (e.g. "ǅ", "ﬃ"); iterate to the fixed point so the key is
    # idempotent by construction.  Two or three rounds always suffice in practice.
    for _ in range(4):
        again = _normalise_once(key)
        if again == key:
            break
        key = again
    return key


def ascii_fold(text: str) -> str:
    """Return ``text`` normalised and reduced to ASCII letters, digits and spaces (others dropped)."""
    key = normalise_name(text)
    return " ".join("".join(ch for ch in key if ch.isascii()).split())


def loose_key(text: str) -> str:
    """Return a looser key: normalised, abbreviations expanded, spaces removed.

    "St. Petersburg", "Saint-Petersburg" and "Sankt Petersburg" share the loose key
    ``"saintpetersburg"``.
    """
    return loose_from_key(normalise_name(text))


def loose_from_key(key: str) -> str:
    """Return the loose key of an already normalised key (see :func:`loose_key`)."""
    return "".join(_ABBREVIATIONS.get(w, w) for w in key.split())


_PAREN = re.compile(r"^(?P<main>.*?)\s*\((?P<qual>[^()]*)\)\s*$")
_DASH = re.compile(r"\s+[–—-]\s+")


def split_qualifier(name: str) -> tuple[str, str | None, str]:
    """Split a source place name into its main part and a qualifier.

    Parameters
    ----------
    name : str
        A raw name such as ``"Stari Grad (Sarajevo)"``, ``"Córdoba, Bolívar"`` or
        ``"Berlin – Mitte"``.

    Returns
    -------
    tuple of (str, str or None, str)
        ``(main, qualifier, form)`` where ``form`` is ``"paren"`` (``main (qualifier)``: the
        qualifier is a parent city, an area or a word like "district"), ``"comma"`` (``main,
        qualifier``: qualifier is an administrative area or a country), ``"dash"`` (``parent – main``:
        the qualifier is the parent city) or ``"plain"`` (no qualifier).
    """
    name = " ".join(str(name).split())
    m = _PAREN.match(name)
    if m and m.group("main"):
        return m.group("main").strip(" ,"), m.group("qual").strip() or None, "paren"
    parts = _DASH.split(name, maxsplit=1)
    if len(parts) == 2 and parts[0] and parts[1]:
        return parts[1].strip(), parts[0].strip(), "dash"
    if "," in name:
        main, _, qual = name.partition(",")
        if main.strip() and qual.strip():
            return main.strip(), qual.strip(), "comma"
    return name, None, "plain"
