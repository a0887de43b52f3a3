"""email-validator's check of an address's domain, remembered (it is pure: the same domain and
options give the same answer).

``ClienteForm``'s ``Email`` rule calls ``email_validator.validate_email`` for every address;
about half of each call is the domain's IDNA/UTS-46 checks, character by character, and a file
of 100,000 clients names a few hundred domains (correo.co, gmail.com…): an import's preview
spent ~2 s of CPU checking the same domains again (docs/performance.md, B6 third pass). The
library itself is called as before — the rule and its words do not change — and only its own
domain function is wrapped: the answers (a dict the caller only reads) are remembered, an error
is raised again each time (lru_cache keeps no exceptions).
"""

import functools
import importlib

MAX_DOMINIOS = 4096

_modulo = importlib.import_module("email_validator.validate_email")  # the package's attribute is the function


def remember_domains() -> None:
    """Wrap the library's domain check once (validate_email looks the name up in its module on
    every call: wrapping it there is enough)."""
    funcion = _modulo.validate_email_domain_name
    if not hasattr(funcion, "cache_info"):  # called again: wrapped once
        _modulo.validate_email_domain_name = functools.lru_cache(maxsize=MAX_DOMINIOS)(funcion)
