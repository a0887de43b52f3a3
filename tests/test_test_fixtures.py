"""The suite's own set-up: an app handed out again only when the test before left it as built
(tests/support/app_reuse.py), and the reference rows put back after a test changed them."""

import pytest
import sqlalchemy as sa
from flask import Blueprint

from panel.auth import throttle
from panel.extensions import db

from .conftest import _empty_tables, make_app
from .support.app_reuse import AppReuse


@pytest.fixture
def reuse(database_url):
    """An AppReuse of its own (not the one the ``app`` fixture uses) and a way to run a test in it."""
    own = AppReuse()

    def run(change=lambda app: None):
        app = own.get(database_url, make_app)
        with app.app_context():
            change(app)
            app.test_client().get("/login")  # a request: what the first one sets lazily is set
            db.session.remove()
            db.engine.dispose()
        own.release(app)
        return app

    return own, run


def test_an_app_left_as_built_is_handed_out_again(reuse):
    own, run = reuse
    first = run()
    assert run() is first and own.builds == 1
    assert not first._got_first_request  # as a fresh app: it may still register routes


def _set_config(app):
    app.config["SMS_TEST_OTHER_COUNTRIES"] = not app.config["SMS_TEST_OTHER_COUNTRIES"]


def _change_view(app):
    view = next(v for v in app.extensions["panel_admin"]._views if getattr(v, "endpoint", "") == "clientes")
    view.page_size = 7


def _add_route(app):
    app.register_blueprint(Blueprint("extra", __name__), url_prefix="/extra")


def _start_sender(app):
    app.extensions["sms_embedded"] = object()


def _add_jinja_global(app):
    app.jinja_env.globals["extra"] = 1


@pytest.mark.parametrize("change", [_change_view, _add_route, _start_sender, _add_jinja_global])
def test_an_app_a_test_changed_is_built_again(reuse, change):
    own, run = reuse
    first = run()
    assert run() is first  # the positive path: unchanged, reused
    changed = run(change)
    assert changed is first
    assert run() is not first and own.builds == 2


def test_settings_a_test_changed_are_put_back_as_built(reuse, twilio_app_config):
    own, run = reuse
    first = run()
    built = dict(first.config)
    seen = []

    def change(app):
        _set_config(app)
        app.config.update(twilio_app_config, REDIS_URL="redis://127.0.0.1:6379/0")
        app.config["SMS_RATE_PER_SECOND"] += 1
        seen.append(type(throttle.store()).__name__)  # made lazily from the changed settings

    run(change)
    assert seen == ["RedisStore"] and dict(first.config) == built
    assert "login_throttle" not in first.extensions
    assert run() is first and own.builds == 1


def test_a_changed_reference_row_is_put_back(app):
    ciudad = db.metadata.tables["ciudad"]
    before = db.session.execute(sa.select(ciudad).order_by(ciudad.c.id)).all()
    assert len(before) > 1000
    db.session.execute(ciudad.update().where(ciudad.c.id == before[0].id).values(nombre="Cambiada"))
    db.session.commit()
    db.session.remove()
    _empty_tables()
    assert db.session.execute(sa.select(ciudad).order_by(ciudad.c.id)).all() == before
