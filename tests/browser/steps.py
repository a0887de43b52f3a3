"""Steps shared by the browser stories: logging in, rows for a tenant, the Clientes list."""

import contextlib

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from panel.extensions import db
from panel.models import Usuario
from tests.helpers import PASSWORD


def login_as(page: Page, email: str, password: str = PASSWORD, server: str = "") -> None:
    """Log in through the login form (of ``server``, default the live server) and wait for the panel."""
    page.goto(f"{server}/login")
    page.get_by_label("Correo electrónico").fill(email)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_test_id("usuario-actual")).to_contain_text(email)


def owner(account) -> Usuario:
    """The Usuario row of a tenant's account snapshot (to build rows with tests.factories)."""
    return db.session.get(Usuario, account.id)


def rows(page: Page):
    """The body rows of the list table."""
    return page.locator("table.model-list tbody tr")


def row_of(page: Page, text: str):
    """The list row that contains ``text``."""
    return rows(page).filter(has_text=text)


def run_action(page: Page, name: str) -> None:
    """Open the "Con seleccionados" menu and pick an action."""
    page.get_by_role("button", name="Con seleccionados").or_(page.get_by_text("Con seleccionados")).click()
    page.locator(".dropdown-menu.show").get_by_text(name, exact=True).click()


def add_filter(page: Page, name: str, value: str) -> None:
    """Add a filter of the list through Flask-Admin's filter menu, choosing an option by its label."""
    page.get_by_text("Añadir filtro").click()
    page.locator(".field-filters .filter", has_text=name).click()
    page.locator("table.filters tr").last.locator("select.filter-val").select_option(label=value, force=True)


def add_ciudad_filter(page: Page, typed: str, label: str) -> None:
    """Add the Ciudad filter: its box searches the municipios as you type (no drop-down of 1,123)."""
    page.get_by_text("Añadir filtro").click()
    page.locator(".field-filters .filter", has_text="Ciudad").click()
    page.locator("table.filters tr").last.locator(".select2-container.filter-val").click()
    page.locator(".select2-drop-active input.select2-input").fill(typed)
    page.locator(".select2-drop-active .select2-result-label", has_text=label).first.click()


def assert_accessible(page: Page) -> None:
    """No serious or critical axe-core violations; the message lists each one in full."""
    from .conftest import axe_violations

    found = axe_violations(page)
    assert not found, "\n".join(f"{v['impact']} {v['id']}: {v['help']} → {v['nodes']}" for v in found)


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


# What sticks out past the window's right edge (the innermost few), to name in a failure.
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 0.5))
  .slice(0, 5)
  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/ +/).join('.') : '')
    + ' ' + Math.round(e.getBoundingClientRect().right) + 'px')"""


FITS = "() => document.documentElement.scrollWidth <= window.innerWidth"


def assert_fits(page: Page) -> None:
    """Nothing wider than the window: the page never scrolls sideways (tables scroll inside)."""
    # A resize is redrawn over the next frames (Chart.js resizes its canvas from a ResizeObserver):
    # give the layout time to settle to the new width before measuring; one that never fits fails.
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_function(FITS, timeout=5_000)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} desborda {overflow} px: {page.evaluate(WIDEST)}"


def assert_fits_phone_and_desktop(page: Page) -> None:
    """The current page fits at 390 px and at 1280 px, and leaves the window at 1280 px."""
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        assert_fits(page)
