"""Login throttling per (account, address) and per address, in a store every process shares."""

import secrets
from datetime import timedelta

import pytest
import redis
import sqlalchemy as sa
import time_machine

from panel import clock
from panel.auth import throttle
from panel.extensions import db
from panel.models import IntentoLogin

from .conftest import make_app
from .helpers import PASSWORD, csrf_from, login
from .services import REDIS_URL, require_redis

TOO_MANY = "Demasiados intentos fallidos"


def browser(app, address: str):
    """A test client whose requests come from ``address``."""
    client = app.test_client()
    client.environ_base = {**client.environ_base, "REMOTE_ADDR": address}
    return client


def fail(client, email: str, times: int) -> None:
    for _ in range(times):
        assert login(client, email, "clave-equivocada").status_code == 401


def test_five_failures_lock_the_account_from_that_address_only(app, tenants):
    attacker = browser(app, "127.0.0.2")
    fail(attacker, "admin.a@test.co", 5)
    blocked = login(attacker, "admin.a@test.co", PASSWORD)
    assert blocked.status_code == 429 and TOO_MANY in blocked.get_data(as_text=True)
    assert login(browser(app, "127.0.0.3"), "admin.a@test.co", PASSWORD).status_code == 302


def test_ten_failures_from_one_address_do_not_lock_the_owner_out_elsewhere(app, tenants):
    fail(browser(app, "127.0.0.2"), "admin.a@test.co", 5)
    assert login(browser(app, "127.0.0.2"), "admin.a@test.co", "clave-equivocada").status_code == 429
    assert login(browser(app, "127.0.0.2"), "admin.a@test.co", "clave-equivocada").status_code == 429
    owner = browser(app, "127.0.0.3")
    fail(owner, "admin.a@test.co", 4)  # the owner's own typos count apart
    assert login(owner, "admin.a@test.co", PASSWORD).status_code == 302


def test_the_throttle_answers_alike_for_accounts_that_do_not_exist(app, tenants):
    client = browser(app, "127.0.0.4")
    fail(client, "nadie@test.co", 5)
    fail(client, "admin.a@test.co", 5)
    ghost, real = login(client, "nadie@test.co", PASSWORD), login(client, "admin.a@test.co", PASSWORD)
    assert ghost.status_code == real.status_code == 429
    assert _page(ghost, "nadie@test.co") == _page(real, "admin.a@test.co")


def _page(response, email: str) -> str:
    """The page without what may differ: the CSRF token and the e-mail typed."""
    html = response.get_data(as_text=True)
    return html.replace(csrf_from(html), "TOKEN").replace(email, "EMAIL")


def test_one_address_is_stopped_after_100_failures_across_accounts(app, tenants):
    client = browser(app, "127.0.0.5")
    for i in range(100):
        assert login(client, f"x{i}@test.co", "clave-equivocada").status_code == 401
    assert login(client, "admin.b@test.co", PASSWORD).status_code == 429
    assert login(browser(app, "127.0.0.6"), "admin.b@test.co", PASSWORD).status_code == 302


def test_successful_logins_do_not_count(app, tenants):
    client = browser(app, "127.0.0.7")
    fail(client, "admin.a@test.co", 4)
    for _ in range(3):
        assert login(browser(app, "127.0.0.7"), "admin.a@test.co").status_code == 302
    assert login(client, "admin.a@test.co", "clave-equivocada").status_code == 401  # the 5th failure


def test_the_window_ends_after_five_minutes(app, tenants):
    with time_machine.travel(clock.now(), tick=False) as traveller:
        client = browser(app, "127.0.0.8")
        fail(client, "admin.a@test.co", 5)
        traveller.shift(timedelta(minutes=4, seconds=59))
        assert login(client, "admin.a@test.co", PASSWORD).status_code == 429
        traveller.shift(timedelta(seconds=2))
        assert login(client, "admin.a@test.co", PASSWORD).status_code == 302


def test_without_redis_the_counters_are_rows_of_the_database(app, tenants):
    fail(browser(app, "127.0.0.9"), "admin.a@test.co", 3)
    counts = db.session.scalars(sa.select(IntentoLogin.cuenta).order_by(IntentoLogin.clave)).all()
    assert sorted(counts) == [3, 3]  # one per (account, address), one per address
    assert "admin.a" not in " ".join(db.session.scalars(sa.select(IntentoLogin.clave)))


def test_the_database_counter_is_one_atomic_upsert(app):
    item = throttle.parse("5 per 5 minutes")
    store = throttle.DatabaseStore()
    for _ in range(5):
        assert not store.blocked(item, "k")
        store.fail(item, "k")
    assert store.blocked(item, "k")


@pytest.mark.parametrize("hops,forwarded_apart", [(0, False), (1, True)])
def test_the_address_is_the_sockets_unless_proxy_fix_hops_trusts_a_proxy(
    database_url, tenants, hops, forwarded_apart
):
    app = make_app(database_url, PROXY_FIX_HOPS=hops)
    proxy = browser(app, "10.0.0.1")
    proxy.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.1"
    fail(proxy, "admin.a@test.co", 5)
    other = browser(app, "10.0.0.1")
    other.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.2"
    assert login(other, "admin.a@test.co", PASSWORD).status_code == (302 if forwarded_apart else 429)


@pytest.fixture
def redis_app(database_url, tenants):
    """The app with REDIS_URL: the counters live in Redis, under a prefix of this test."""
    require_redis()
    prefix = "test-login-" + secrets.token_hex(4)
    app = make_app(database_url, REDIS_URL=REDIS_URL, LOGIN_THROTTLE_PREFIX=prefix)
    yield app, prefix
    connection = redis.Redis.from_url(REDIS_URL)
    for key in connection.scan_iter(f"*{prefix}*"):
        connection.delete(key)


def test_with_redis_the_lockout_is_per_account_and_address_and_kept_in_redis(redis_app, tenants):
    app, prefix = redis_app
    attacker = browser(app, "127.0.0.2")
    fail(attacker, "admin.a@test.co", 5)
    assert login(attacker, "admin.a@test.co", PASSWORD).status_code == 429
    assert login(browser(app, "127.0.0.3"), "admin.a@test.co", PASSWORD).status_code == 302
    assert len(list(redis.Redis.from_url(REDIS_URL).scan_iter(f"*{prefix}*"))) == 2
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(IntentoLogin)) == 0


def test_with_redis_a_second_app_shares_the_count(redis_app, database_url, tenants):
    app, prefix = redis_app
    fail(browser(app, "127.0.0.2"), "admin.a@test.co", 5)
    twin = make_app(database_url, REDIS_URL=REDIS_URL, LOGIN_THROTTLE_PREFIX=prefix)  # another process
    assert login(browser(twin, "127.0.0.2"), "admin.a@test.co", PASSWORD).status_code == 429
