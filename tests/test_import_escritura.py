"""The import's write on PostgreSQL (issue #27): a chunk goes to the server as a few statements
whatever its size, its arrays in binary, the consent evidence with it — and, as a role bound by
row-level security, every value arrives as the file had it, in the importing tenant only.

Always runs against the local PostgreSQL (in the SQLite pass too): the write has its own path
there."""

from datetime import date

from .import_support import clientes, csv_bytes, imported, row

# What an array's text form would have to quote or escape: quotes, a backslash, the
# separators and braces, the word NULL, blanks and accents.
AWKWARD = ['O\'Neil "Ñoño"', "a\\b,{c}", "NULL", "  Ángela  María", "}{,\"'\\"]


def test_as_a_role_bound_by_rls_every_value_arrives_as_the_file_had_it(two_tenants):
    admin_a, admin_b = two_tenants
    rows = [row(i + 1, Nombres=name[:20], Apellidos=name[::-1][:20]) for i, name in enumerate(AWKWARD)]
    rows.append(row(9, Apellidos="", Correo="", Celular="", **{"Fecha de nacimiento": ""}))
    _, vista, resumen = imported(csv_bytes(rows), admin_a.id)
    assert (vista["con_errores"], resumen.nuevos) == (0, len(rows))

    found = clientes(admin_a.id)
    for i, name in enumerate(AWKWARD, start=1):
        c = found[str(1020000000 + i)]
        assert (c.nombre_cliente, c.apellido_cliente) == (name.strip()[:20], name[::-1].strip()[:20])
        assert (c.fecha_nacimiento, c.genero, c.telefono_e164) == (date(1990, 3, 15), 0, f"+57300{i:07d}")
    blank = found["1020000009"]
    assert (blank.apellido_cliente, blank.email, blank.telefono, blank.fecha_nacimiento) == (None,) * 4
    assert len(clientes(admin_b.id)) == 3  # B's own three, nothing of the file
