"""Our Spanish catalogue for Flask-Admin's strings (domain ``admin``), completing and overriding
Flask-Admin's own compiled one.

Flask-Babel builds a domain's translations by merging the catalogue of each of the domain's
directories in order, and a later catalogue overrides an earlier one (``Translations.merge``).
Flask-Admin's own ``Admin(translations_path=…)`` puts the given directory *first*, so its
catalogue would still win ("Salvar"); we append ours *after* Flask-Admin's instead. Every
Flask-Admin ``gettext`` is a bound method of the one ``flask_admin.babel.domain``, so that object
is the place to set it. ``tests/test_translations.py`` fails if a Flask-Admin upgrade changes this.
"""

from pathlib import Path

from flask import Flask

DIRECTORY = Path(__file__).resolve().parent
DOMAIN = "admin"


def init_app(app: Flask) -> None:
    """Flask-Admin's catalogue first, ours last (ours wins); idempotent, one domain per process."""
    from flask_admin import translations as flask_admin_translations
    from flask_admin.babel import domain

    theirs = flask_admin_translations.__path__[0]
    domain._translation_directories = [theirs, str(DIRECTORY)]
    domain.cache.clear()  # a catalogue merged before this call must not linger
