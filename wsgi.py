"""WSGI entry point: ``gunicorn wsgi:app``."""

import sys

from panel import create_app
from panel.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # one clear line, not a traceback
    print(f"Error de configuración: {exc}", file=sys.stderr)
    raise SystemExit(2) from None
