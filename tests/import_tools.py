"""Files shaped as the tools agencies export from (SPEC §17), made by the tests: an agency's
Excel es-CO CSV (Windows-1252, ";"), Google Contacts, Outlook and HubSpot CSV exports. Each
builder returns the bytes and what a careful reader expects of them (rows, rejected by reason,
warned), so the tests and docs/decisions.md's table say the same thing."""

import csv
import io
import random
from dataclasses import dataclass, field

from stdnum.co import nit as dian


@dataclass
class Esperado:
    filas: int
    rechazadas: dict[str, int] = field(default_factory=dict)  # reason (a message's start) → rows
    avisadas: int = 0  # rows that import with a warning

    @property
    def importadas(self) -> int:
        return self.filas - sum(self.rechazadas.values())


def _csv(header: list[str], rows: list[list], delimiter=",", encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def nit(nine: str) -> str:
    """A NIT as agencies write it: 900.123.456-8."""
    return dian.format(nine + dian.calc_check_digit(nine))


# --- an agency's Excel es-CO export, ~202 rows -----------------------------------------------

AGENCIA_HEADER = [
    "Tipo de documento",
    "Número de documento",
    "Nombres",
    "Apellidos",
    "Celular",
    "Correo electrónico",
    "Fecha de nacimiento",
    "Género",
    "Municipio",
    "Departamento",
    "Razón social",
    "NIT",
]
MUNICIPIOS = [
    ("Bello", "Antioquia"),
    ("Soacha", "Cundinamarca"),
    ("Chía", "Cundinamarca"),
    ("Envigado", "Antioquia"),
    ("Itagüí", "Antioquia"),
    ("Tuluá", "Valle del Cauca"),
    ("Soledad", "Atlántico"),
    ("Zipaquirá", "Cundinamarca"),
    ("Fusagasugá", "Cundinamarca"),
    ("Rionegro", "Antioquia"),
    ("Sogamoso", "Boyacá"),
    ("Floridablanca", "Santander"),
    ("Bogotá D.C.", ""),
]
# Five empresas the tenant does not have yet, each named on many rows (with a NIT, or without).
EMPRESAS = [
    ("Distribuidora Andina S.A.S.", nit("900123456")),
    ("Confecciones Paisa Ltda.", nit("811045678")),
    ("Ferretería El Tornillo", ""),
    ("Transportes del Valle S.A.", nit("805012345")),
    ("Café La Montaña", ""),
]
MOVILES = [
    "300",
    "301",
    "304",
    "310",
    "311",
    "312",
    "313",
    "314",
    "315",
    "316",
    "317",
    "318",
    "320",
    "321",
    "350",
]
NOMBRES = [
    "María José",
    "Juan Carlos",
    "Luisa Fernanda",
    "Andrés",
    "Valentina",
    "Santiago",
    "Paola",
    "Jhon Jairo",
]
APELLIDOS = ["Gómez Ríos", "Rodríguez", "Muñoz Peña", "Castaño", "Ospina", "Zuluaga", "Díaz", "Peñaloza"]


def agencia(n: int = 202) -> tuple[bytes, Esperado]:
    """An agency's clients as its Excel (es-CO) saves them as CSV: Windows-1252 and ";"; dates
    dd/mm/aaaa; documents CC with dots, C.E., Pasaporte and NIT by name; municipios as people
    write them; 5 empresas not yet in the panel; 20 rows without municipio (the default, said);
    genders F/M and words; and the mistakes a real file has: 3 mistyped e-mails, 2 short phones,
    1 cédula repeated, 1 bad NIT (those 7 rows are rejected); 4 genders written "Otro" and 2
    Outlook-style empty dates (those rows import with a warning)."""
    rnd = random.Random(27)
    rows = []
    for i in range(n):
        tipo, numero = "CC", f"{52_000_000 + i * 7919:,}".replace(",", ".")
        if i % 25 == 3:
            tipo, numero = "C.E.", str(400_000 + i)
        elif i % 25 == 7:
            tipo, numero = "Pasaporte", f"AB{1_000_000 + i}"
        elif i % 25 == 11:
            tipo, numero = "NIT", nit(str(800_000_000 + i))
        municipio, departamento = ("", "") if i % 10 == 9 else MUNICIPIOS[i % len(MUNICIPIOS)]
        empresa, nit_empresa = EMPRESAS[i % len(EMPRESAS)] if i % 3 else ("", "")
        genero = rnd.choice(["F", "M", "Femenino", "Masculino"])
        fecha = f"{1 + i % 28:02d}/{1 + i % 12:02d}/{1960 + i % 40}"
        rows.append(
            [
                tipo,
                numero,
                NOMBRES[i % len(NOMBRES)],
                APELLIDOS[i % len(APELLIDOS)],
                f"{MOVILES[i % len(MOVILES)]} {1_000_000 + i * 13:07d}",
                f"cliente{i}@correo.com.co",
                fecha,
                genero,
                municipio,
                departamento,
                empresa,
                nit_empresa,
            ]
        )
    for i in (5, 40, 120):
        rows[i][5] = f"cliente{i}@correo"  # no domain
    for i in (60, 150):
        rows[i][4] = "310 12"
    rows[90][1] = rows[89][1]  # both CC: the later row is the repeated one
    rows[100][10], rows[100][11] = "Nueva Empresa de Prueba S.A.S.", "900.123.456-0"  # wrong digit
    for i in (13, 26, 77, 144):
        rows[i][7] = "Otro"
    for i in (31, 170):
        rows[i][6] = "0/0/00"
    esperado = Esperado(
        filas=n,
        rechazadas={
            "Correo electrónico no válido": 3,
            "Teléfono no válido": 2,
            "Cédula repetida": 1,
            "NIT": 1,
        },
        avisadas=6,
    )
    return _csv(AGENCIA_HEADER, rows, delimiter=";", encoding="cp1252"), esperado


# --- Google Contacts ------------------------------------------------------------------------

GOOGLE_HEADER = [
    "Name",
    "Given Name",
    "Additional Name",
    "Family Name",
    "Birthday",
    "Gender",
    "Notes",
    "Group Membership",
    "E-mail 1 - Type",
    "E-mail 1 - Value",
    "Phone 1 - Type",
    "Phone 1 - Value",
    "Organization 1 - Name",
    "Custom Field 1 - Type",
    "Custom Field 1 - Value",
]
GOOGLE_CEDULA = "Custom Field 1 - Value=cedula_cliente"  # where the agency keeps the cédula


def google() -> tuple[bytes, Esperado]:
    """Six contacts as Google Contacts exports them: ISO birthdays and "--05-17" (no year),
    Female/Male, "::: " between a contact's phones, the cédula in a custom field."""
    rows = [
        [
            "Ana Pérez",
            "Ana",
            "",
            "Pérez",
            "1990-05-17",
            "female",
            "",
            "* myContacts",
            "* Home",
            "ana@gmail.com",
            "Mobile",
            "+57 310 123 4567 ::: +57 601 345 6789",
            "Acme",
            "Cédula",
            "1020304050",
        ],
        [
            "Luis Gómez",
            "Luis",
            "",
            "Gómez",
            "--03-08",
            "male",
            "",
            "* myContacts",
            "* Home",
            "luis@gmail.com",
            "Work",
            "601 345 6789 ::: 315 765 4321",
            "",
            "Cédula",
            "79888777",
        ],
        [
            "Sara Ríos",
            "Sara",
            "",
            "Ríos",
            "",
            "",
            "",
            "* myContacts",
            "* Home",
            "sara@gmail.com",
            "Mobile",
            "3001112233",
            "Acme",
            "Cédula",
            "1030111222",
        ],
        [
            "Pedro Díaz",
            "Pedro",
            "",
            "Díaz",
            "1985-11-30",
            "male",
            "",
            "* myContacts",
            "",
            "",
            "Mobile",
            "+57 300 222 3344",
            "",
            "Cédula",
            "80111222",
        ],
        [
            "Marta Ruiz",
            "Marta",
            "",
            "Ruiz",
            "1979-02-01",
            "Female",
            "",
            "* myContacts",
            "",
            "marta@gmail.com",
            "Mobile",
            "+57 301 444 5566",
            "",
            "Cédula",
            "51999888",
        ],
        [
            "Sin Cédula",
            "Sin",
            "",
            "Cédula",
            "",
            "",
            "",
            "* myContacts",
            "",
            "",
            "Mobile",
            "+57 302 000 1111",
            "",
            "",
            "",
        ],
    ]
    esperado = Esperado(filas=6, rechazadas={"Este campo es obligatorio": 1}, avisadas=2)
    return _csv(GOOGLE_HEADER, rows), esperado


# --- Outlook --------------------------------------------------------------------------------

OUTLOOK_HEADER = [
    "First Name",
    "Middle Name",
    "Last Name",
    "Title",
    "Company",
    "Business Phone",
    "Home Phone",
    "Mobile Phone",
    "Home City",
    "Birthday",
    "E-mail Address",
    "Gender",
    "Government ID Number",
]


def outlook() -> tuple[bytes, Esperado]:
    """Six contacts as Outlook exports them: US dates (M/D/YYYY: "5/17/1990" makes the column
    month-first), "0/0/00" for no birthday, Gender "Unspecified", a home and a mobile phone."""
    rows = [
        [
            "Ana",
            "",
            "Pérez",
            "",
            "Acme",
            "",
            "601 345 6789",
            "310 123 4567",
            "Medellín",
            "5/17/1990",
            "ana@outlook.com",
            "Female",
            "1020304050",
        ],
        [
            "Luis",
            "",
            "Gómez",
            "",
            "",
            "",
            "",
            "315 765 4321",
            "Cali",
            "0/0/00",
            "luis@outlook.com",
            "Unspecified",
            "79888777",
        ],
        [
            "Sara",
            "",
            "Ríos",
            "",
            "",
            "",
            "",
            "3001112233",
            "",
            "3/4/1985",
            "sara@outlook.com",
            "Female",
            "1030111222",
        ],
        ["Pedro", "", "Díaz", "", "", "", "", "300 222 3344", "Bogotá", "12/1/1975", "", "Male", "80111222"],
        [
            "Marta",
            "",
            "Ruiz",
            "",
            "",
            "",
            "",
            "301 444 5566",
            "Barranquilla",
            "0/0/00",
            "marta@outlook.com",
            "Unspecified",
            "51999888",
        ],
        [
            "Juan",
            "",
            "Mejía",
            "",
            "",
            "",
            "",
            "302 000 1111",
            "Pereira",
            "7/22/1968",
            "juan@outlook",
            "Male",
            "71222333",
        ],
    ]
    esperado = Esperado(filas=6, rechazadas={"Correo electrónico no válido": 1}, avisadas=2)
    return _csv(OUTLOOK_HEADER, rows), esperado


# --- HubSpot --------------------------------------------------------------------------------

HUBSPOT_HEADER = [
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Mobile Phone Number",
    "City",
    "Company Name",
    "Número de documento",
    "Lifecycle Stage",
]


def hubspot() -> tuple[bytes, Esperado]:
    """Six contacts as HubSpot exports them, with the agency's own "Número de documento"
    property; two companies that are not yet empresas in the panel."""
    rows = [
        [
            "101",
            "Ana",
            "Pérez",
            "ana@acme.co",
            "+57 601 345 6789",
            "+57 310 123 4567",
            "Medellín",
            "Acme Colombia S.A.S.",
            "1020304050",
            "lead",
        ],
        [
            "102",
            "Luis",
            "Gómez",
            "luis@acme.co",
            "",
            "+57 315 765 4321",
            "Medellín",
            "Acme Colombia S.A.S.",
            "79888777",
            "customer",
        ],
        [
            "103",
            "Sara",
            "Ríos",
            "sara@beta.co",
            "",
            "+57 300 111 2233",
            "Cali",
            "Beta Ltda.",
            "1030111222",
            "lead",
        ],
        [
            "104",
            "Pedro",
            "Díaz",
            "pedro@beta.co",
            "",
            "+57 300 222 3344",
            "Cali",
            "Beta Ltda.",
            "80111222",
            "lead",
        ],
        ["105", "Marta", "Ruiz", "marta@gmail.com", "", "+57 301 444 5566", "", "", "51999888", "lead"],
        ["106", "Juan", "Mejía", "juan@gmail.com", "", "+57 302 000 1111", "Gotham", "", "71222333", "lead"],
    ]
    esperado = Esperado(filas=6, rechazadas={"No existe el municipio": 1}, avisadas=0)
    return _csv(HUBSPOT_HEADER, rows), esperado
