"""Flask commands: create-user, set-password, demo-data, rne-import, import-clientes,
divipola-import, rotate-encryption-key, and the registration of every command."""

import click
import sqlalchemy as sa
from flask import Flask

from .extensions import db
from .models import ROLES, Usuario
from .models.users import MIN_PASSWORD, SHORT_PASSWORD, password_too_short
from .users import UserError, create_user


@click.command("create-user")
@click.option("--email", required=True, help="Correo (login) del usuario.")
@click.option("--password", required=True, help=f"Contraseña (mínimo {MIN_PASSWORD} caracteres).")
@click.option("--rol", required=True, type=click.Choice(ROLES), help="Rol del usuario.")
@click.option("--creado-por", default=None, help="Correo del admin del que depende.")
@click.option("--nombre", default="", help="Nombre para mostrar.")
def create_user_command(email, password, rol, creado_por, nombre):
    """Create a user without prompts."""
    try:
        user = create_user(email, password, rol, creado_por, nombre)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Usuario creado: {user.email} ({user.rol}, id {user.id})")


@click.command("set-password")
@click.option("--email", required=True, help="Correo (login) del usuario.")
@click.option("--password", required=True, help=f"Contraseña nueva (mínimo {MIN_PASSWORD} caracteres).")
def set_password_command(email, password):
    """Give a user a new password; every open session of that user ends."""
    if password_too_short(password):
        raise click.ClickException(SHORT_PASSWORD)
    # The operator acts outside any tenant: the table itself, not the tenant-scoped ORM query.
    table = Usuario.__table__
    user_id = db.session.scalar(sa.select(table.c.id).where(table.c.email == email.strip().lower()))
    if user_id is None:
        raise click.ClickException(f"No existe un usuario con el correo {email}.")
    from . import audit, tenancy

    with tenancy.using(tenancy.EVERY_TENANT), audit.capturing():
        db.session.get(Usuario, user_id).set_password(password)
        db.session.commit()
    click.echo(f"Contraseña cambiada: {email}. Sus sesiones abiertas se cerraron.")


@click.command("demo-data")
def demo_data_command():
    """Load the demo tenants, users, clients and templates (idempotent); never in production,
    where its well-known passwords would open the panel to anyone."""
    from flask import current_app

    from .demo import load_demo_data

    if current_app.config.get("PANEL_ENV") == "production":
        raise click.ClickException(
            "Los datos de demostración no se cargan en producción (PANEL_ENV=production): "
            "sus usuarios tienen contraseñas conocidas. Cree el primer administrador con "
            "'flask create-user' (README, «Running at scale»)."
        )

    created = load_demo_data()
    click.echo("Datos de demostración cargados." if created else "Los datos de demostración ya existían.")
    from .demo import DEMO_LOGINS

    click.echo("Usuarios de demostración (correo / contraseña):")
    for email, password, rol in DEMO_LOGINS:
        click.echo(f"  {rol:<11} {email} / {password}")


@click.command("rne-import")
@click.argument("archivo", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--confirmar",
    is_flag=True,
    help="Reemplazar la lista vigente aunque la nueva no tenga números válidos o tenga menos de la mitad.",
)
def rne_import_command(archivo, confirmar):
    """Load the Registro de Números Excluidos from FILE (replaces the list in force); refused while
    another load runs, and for an empty or halved list without --confirmar (exit 1)."""
    from .sms import rne

    try:
        with open(archivo, encoding="utf-8-sig", errors="replace", newline="") as stream:
            carga = rne.load(stream, archivo=archivo, confirmado=confirmar)
    except (rne.CargaEnCurso, rne.CargaRechazada) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(carga.resumen())


@click.command("import-clientes")
@click.argument("archivo")
@click.option("--email", required=True, help="Correo del admin cuyo tenant recibe los clientes.")
@click.option("--actualizar", is_flag=True, help="Actualizar los clientes que ya existen (misma cédula).")
@click.option("--dry-run", is_flag=True, help="Solo validar: no se guarda nada.")
@click.option("--todo-o-nada", is_flag=True, help="Si una fila tiene errores, no importar ninguna.")
@click.option(
    "--columna",
    "columnas",
    multiple=True,
    metavar='"Encabezado=campo"',
    help="Qué campo lee una columna del archivo (repetible); «Encabezado=» no la importa.",
)
def import_clientes_command(archivo, email, actualizar, dry_run, todo_o_nada, columnas):
    """Import clients from a CSV or XLSX FILE (panel/importing); the last line is the summary."""
    from .importing import shell

    try:
        salida = shell.run(archivo, email, actualizar, dry_run, todo_o_nada, columnas)
    except shell.Rechazado as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(2) from None
    for linea in salida.errores:
        click.echo(linea)
    if salida.rechazado:
        click.echo("El archivo tiene filas con errores: no se importó ninguna (--todo-o-nada).")
    click.echo(salida.resumen.linea())
    if salida.rechazado:
        raise SystemExit(1)


@click.command("divipola-import")
@click.argument("archivo", type=click.Path(exists=True, dir_okay=False))
def divipola_import_command(archivo):
    """Refresh departamentos and municipios from a newer DANE DIVIPOLA FILE (the columns of
    panel/data/divipola.csv): adds and renames; a municipio where clients live is never removed."""
    from . import municipios, tenancy

    with open(archivo, "rb") as stream:
        data = stream.read()
    try:
        with tenancy.using(tenancy.EVERY_TENANT):
            cambios = municipios.refresh(municipios.read(data))
            db.session.commit()
    except municipios.ArchivoInvalido as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    for linea in cambios:
        click.echo(linea)
    click.echo(f"DIVIPOLA actualizada: {len(cambios)} cambios." if cambios else "DIVIPOLA: sin cambios.")
    click.echo(municipios.FUENTE)


@click.command("rotate-encryption-key")
def rotate_encryption_key_command():
    """Re-encrypt every tenant's stored Twilio Auth Token with the first key of
    PANEL_ENCRYPTION_KEY (the new one, followed by the old ones while rotating); then the old
    keys can be removed from the setting (README, «Configuration»)."""
    from flask import current_app

    from . import secretos, tenancy
    from .models import ConfiguracionEnvio

    table = ConfiguracionEnvio.__table__
    try:
        with tenancy.using(tenancy.EVERY_TENANT), db.engine.begin() as conn:
            rows = conn.execute(
                sa.select(table.c.id, table.c.twilio_token_cifrado).where(
                    table.c.twilio_token_cifrado.is_not(None)
                )
            ).all()
            for row in rows:
                nuevo = secretos.rotate(current_app.config, row.twilio_token_cifrado)
                conn.execute(table.update().where(table.c.id == row.id).values(twilio_token_cifrado=nuevo))
    except secretos.SecretoError as exc:
        raise click.ClickException(f"Nada cambió. {exc}") from None
    click.echo(
        f"{len(rows)} Auth Token(s) cifrados de nuevo con la primera clave de PANEL_ENCRYPTION_KEY: "
        "ya puede quitar las claves anteriores de la variable."
    )


def init_app(app: Flask) -> None:
    """Register every flask command of the panel."""
    from .api.token_command import create_token_command

    app.cli.add_command(create_user_command)
    app.cli.add_command(set_password_command)
    app.cli.add_command(demo_data_command)
    app.cli.add_command(create_token_command)
    app.cli.add_command(rne_import_command)
    app.cli.add_command(import_clientes_command)
    app.cli.add_command(divipola_import_command)
    app.cli.add_command(rotate_encryption_key_command)
