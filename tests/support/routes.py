"""Every test builds its own app (its own config, extensions and state), and most of that time
went to werkzeug compiling the same URL builders again: ~190 rules, each turned into Python source
and compiled twice (0.2–0.3 s a test, most of the set-up). A builder depends only on the rule's
text, its parts, its defaults and its converters' kinds, so one compiled builder per distinct rule
serves every app of the run; the rule object it is bound to is still each app's own."""

from werkzeug.routing import Rule

_builders: dict[tuple, object] = {}


def share_compiled_url_builders() -> None:
    """Compile each distinct rule's URL builders once per test process (idempotent)."""
    if getattr(Rule._compile_builder, "shared", False):
        return
    compile_builder = Rule._compile_builder

    def shared(self, append_unknown: bool = True):
        key = (
            append_unknown,
            self.rule,
            self.subdomain,
            self.host,
            tuple(self._trace),
            tuple(sorted((k, repr(v)) for k, v in (self.defaults or {}).items())),
            tuple(sorted((k, type(c), _settings(c)) for k, c in self._converters.items())),
        )
        if key not in _builders:
            _builders[key] = compile_builder(self, append_unknown)
        return _builders[key]

    shared.shared = True
    Rule._compile_builder = shared


def _settings(converter) -> str:
    """A converter's own arguments (not the map it belongs to): they shape a default's text."""
    return repr(sorted((k, v) for k, v in vars(converter).items() if k != "map"))
