"""``flask create-token --email E``: the new key alone on the last line, for scripts."""

import click
import sqlalchemy as sa

from ..extensions import db
from ..models import Usuario
from .tokens import TokenError, create_token


@click.command("create-token")
@click.option("--email", required=True, help="Correo del usuario dueño del token.")
@click.option("--nombre", default="", help="Para qué es el token (p. ej. «integración CRM»).")
def create_token_command(email: str, nombre: str) -> None:
    """Create an API token for a staff user and print it (it is not shown again)."""
    user = db.session.scalar(sa.select(Usuario).where(Usuario.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"No existe un usuario con el correo {email}")
    try:
        _token, key = create_token(user, nombre or "flask create-token")
    except TokenError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Token creado para {user.email} ({user.rol}). Guárdelo: no se volverá a mostrar.")
    click.echo(key)
