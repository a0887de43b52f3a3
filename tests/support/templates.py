"""Every test builds its own app, and so its own Jinja environment, which compiled each page's
templates again (a third of a page test's time). Jinja's bytecode cache is its own answer to
that: a template compiled once is reused while its source is unchanged (the cache checks the
source's checksum), here in memory, for every app of the test process."""

from jinja2 import BytecodeCache


class SharedTemplateCache(BytecodeCache):
    """Compiled templates kept in this process, shared by the apps of the run."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = SharedTemplateCache()
