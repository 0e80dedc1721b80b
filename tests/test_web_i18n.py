"""Language, numbers, calendars and password hashing helpers of the web application."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from citydiplomacy.present import fmt, i18n
from citydiplomacy.web import auth, sessions


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


def test_login_throttle_waits_after_free_failures() -> None:
    # The database-backed throttle itself is exercised in test_web_sessions.py; here its arithmetic.
    policy = auth.ThrottlePolicy(free_failures=3, base_delay_s=1, max_delay_s=900)
    waits = [policy.delay(n, policy.free_failures) for n in range(1, 16)]
    assert waits[:2] == [0, 0] and waits[2:6] == [1, 2, 4, 8]  # 2^(n-3) s from the 3rd failure on
    assert waits[-1] == 900 and policy.delay(10_000, 3) == 900  # capped
    assert auth.retry_after(0.2) == "1" and auth.retry_after(3.01) == "4"


def test_anonymous_csrf_tokens_are_signed_and_expire() -> None:
    token = sessions.new_anon_csrf("key-1")
    assert sessions.anon_csrf_valid("key-1", token) and token != sessions.new_anon_csrf("key-1")
    assert not sessions.anon_csrf_valid("key-2", token)  # another site's key
    assert not sessions.anon_csrf_valid("key-1", token + "0") and not sessions.anon_csrf_valid("key-1", None)
    assert not sessions.anon_csrf_valid("key-1", token, max_age_s=-1)  # too old


def test_password_hashes_are_argon2_and_salted() -> None:
    a, b = auth.hash_password("secret-password"), auth.hash_password("secret-password")
    assert a.startswith("$argon2id$") and a != b
    assert auth.csrf_matches("abc", "abc") and not auth.csrf_matches("abc", "abd") and not auth.csrf_matches(None, None)
