"""Which Chromium the browser tests drive: Debian's old headless shell when it is installed."""

import shutil

import pytest

from .services import CHROMIUM, CHROMIUM_BUILDS, REQUIRED, chromium_build

SHELL, FULL = CHROMIUM_BUILDS


def test_the_headless_shell_is_preferred_to_the_full_browser(monkeypatch):
    installed = {SHELL, FULL}
    monkeypatch.setattr(shutil, "which", lambda path: path if path in installed else None)
    assert chromium_build({}) == SHELL
    installed.discard(SHELL)
    assert chromium_build({}) == FULL  # a machine with only `chromium` still runs the tests
    assert chromium_build({"CHROMIUM_PATH": "/opt/otro/chrome"}) == "/opt/otro/chrome"


def test_ci_drives_the_headless_shell_that_ci_run_installs():
    """`.ci/run` installs chromium-headless-shell; without it CI would still pass, a third slower."""
    if not REQUIRED:
        pytest.skip("solo en CI (REQUIRE_SERVICES=1): un desarrollador puede usar otro Chromium")
    assert CHROMIUM == SHELL and shutil.which(SHELL), CHROMIUM
