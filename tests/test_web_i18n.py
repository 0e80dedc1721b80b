"""Language, numbers, calendars and password hashing helpers of the web application."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from citydiplomacy.present import fmt, i18n
from citydiplomacy.web import auth


def test_language_choice_order() -> None:
    assert i18n.pick_language("fa", "en") == "fa"
    assert i18n.pick_language(None, "fa") == "fa"
    assert i18n.pick_language("xx", None) == "en"


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_persian_digits_keep_the_number(n: int) -> None:
    fa = fmt.number(n, "fa")
    assert not any(ch.isascii() and ch.isdigit() for ch in fa)
    assert fa.startswith(fmt.PERSIAN_MINUS) == (n < 0)
    back = fa.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹٬−", "0123456789,-", "\u200e")).replace(",", "")
    assert int(back) == n


def test_both_calendars() -> None:
    assert fmt.format_date(date(2014, 10, 31), "en") == "2014-10-31 (1393/08/09 SH)"
    assert fmt.format_date("2014-10-31", "fa") == "۱۳۹۳/۰۸/۰۹ (۲۰۱۴-۱۰-۳۱)"  # hyphens: a date is no subtraction
    assert fmt.format_year(1997, "en") == "1997 (1375/76 SH)"
    assert fmt.format_date(None, "en") == ""


def test_every_message_has_both_languages() -> None:
    for key, (en, fa) in i18n.MESSAGES.items():
        assert en and fa, key
        assert i18n.translate(key, "fa") == fa and i18n.translate(key, "en") == en


def test_rate_limiter_blocks_after_failures() -> None:
    limiter = auth.LoginRateLimiter(max_failures=3, window_s=60)
    for _ in range(3):
        assert not limiter.blocked("1.2.3.4", "ana")
        limiter.failed("1.2.3.4", "ana")
    assert limiter.blocked("1.2.3.4", "ana")
    assert limiter.blocked("5.6.7.8", "ANA")  # the user name is counted whatever the client
    assert not limiter.blocked("5.6.7.8", "bo")


def test_password_hashes_are_argon2_and_salted() -> None:
    a, b = auth.hash_password("secret-password"), auth.hash_password("secret-password")
    assert a.startswith("$argon2id$") and a != b
    assert auth.csrf_matches("abc", "abc") and not auth.csrf_matches("abc", "abd") and not auth.csrf_matches(None, None)
