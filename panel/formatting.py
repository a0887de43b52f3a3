"""How the panel writes values for people: dates and times in Bogotá, money in pesos, labels for
codes, counts and lists of words. Templates, exports, Historial, the API and messages all format
through here, so a date or an amount reads the same on every screen and in every file.

Times are stored in UTC (naive, as the database returns them) and shown in America/Bogota.
"""

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import phonenumbers
from babel.numbers import format_currency, format_decimal
from flask import Flask

from .clock import BOGOTA

LOCALE = "es_CO"

# --- counts and lists of words -------------------------------------------------------------


def plural(n: int, singular: str, plural_: str) -> str:
    """'1 cliente', '3 clientes'."""
    return f"{n} {singular if n == 1 else plural_}"


def listing(parts: list[str]) -> str:
    """'a', 'a y b', 'a, b y c'."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " y " + parts[-1]


def number(value) -> str:
    """An integer count as Colombians write it: 1.782.000."""
    return format_decimal(value or 0, format="#,##0", locale=LOCALE)


def percent(fraction) -> str:
    """A rate (0–1) as a percentage with at most one decimal: '12,5 %', '100 %'; '—' for none
    (a rate over nothing, e.g. clicks of a campaign without links)."""
    if fraction is None:
        return "—"
    return f"{format_decimal(Decimal(str(fraction)) * 100, format='#,##0.#', locale=LOCALE)} %"


def city(nombre: str, departamento: str | None = None, repetido: bool = False) -> str:
    """A municipio as people read it: 'Rionegro (Antioquia)' where its name repeats across
    departamentos (DIVIPOLA has 70 such names), the bare name everywhere else."""
    return f"{nombre} ({departamento})" if repetido and departamento else nombre


def row_name(obj, pk, quote: bool = False) -> str:
    """A row as it reads by itself: its own name (``str``; «quoted» in running text), or '#7'
    for a model that has none. Historial's summaries and every record link name rows this way."""
    if type(obj).__str__ is object.__str__:
        return f"#{pk}"
    return f"«{obj}»" if quote else str(obj)


# --- dates and times -----------------------------------------------------------------------


def local(moment: datetime | None) -> datetime | None:
    """A stored (naive UTC) or aware moment as an aware Bogotá time."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BOGOTA)


def date_time(moment: datetime | None) -> str:
    """On screen and in CSV (Excel): dd/mm/aaaa HH:MM in Bogotá (24 h, never seconds)."""
    if not moment:
        return ""
    moment = local(moment)
    return f"{day(moment)} {moment:%H:%M}"


def day(value: date | datetime | None) -> str:
    """A calendar date on screen and in CSV (Excel): dd/mm/aaaa (a moment is taken in Bogotá
    first); the year always in four digits (strftime writes year 1 as '1', PostgreSQL '0001')."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value)
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def iso(moment: datetime | None) -> str | None:
    """For the API: ISO 8601 with Bogotá's offset, e.g. 2026-12-01T08:30:00-05:00."""
    return local(moment).isoformat() if moment else None


def export_time(moment: datetime | None) -> str:
    """In CSV files: aaaa-mm-dd HH:MM:SS-05:00 (Bogotá, with its offset, whole seconds)."""
    return local(moment).isoformat(sep=" ", timespec="seconds") if moment else ""


# --- money ---------------------------------------------------------------------------------


def money(amount) -> str:
    """Pesos as Colombians write them: '$ 1.782.000', '$ 1.782.000,50' (centavos only when
    there are some). Babel's es_CO symbols with a pattern of our own: its currency format drops
    the space and always shows centavos."""
    if amount is None:
        return ""
    amount = Decimal(str(amount))
    pattern = "#,##0" if amount == amount.to_integral_value() else "#,##0.00"
    sign = "-" if amount < 0 else ""
    return f"{sign}$ {format_decimal(abs(amount), format=pattern, locale=LOCALE)}"


def cost(amount, currency: str = "COP") -> str:
    """An estimated SMS cost in the provider's currency: pesos as ``money`` writes them
    ('$ 1.250', '$ 12,50'); another currency with Babel's es_CO symbol, a plain space, two
    decimals and up to four when a price has them ('US$ 0,05', 'US$ 0,0375')."""
    if amount is None:
        return ""
    value = Decimal(str(amount))
    if currency == "COP":
        return money(value)
    return format_currency(value, currency, format="¤ #,##0.00##", locale=LOCALE, currency_digits=False)


# --- labels for codes ----------------------------------------------------------------------

LABELS: dict[str, dict] = {
    "estado_cliente": {0: "Inactivo", 1: "Activo", 3: "Deshabilitado"},
    "genero": {0: "Femenino", 1: "Masculino"},
    # SPEC §16: the documents a Colombian client may hold (rules in panel/identificacion.py).
    "tipo_documento": {
        "CC": "Cédula de ciudadanía",
        "CE": "Cédula de extranjería",
        "TI": "Tarjeta de identidad",
        "PPT": "Permiso por protección temporal",
        "PEP": "Permiso especial de permanencia",
        "PA": "Pasaporte",
        "NIT": "NIT",
    },
    "rol": {
        "superadmin": "Superadministrador",
        "admin": "Administrador",
        "vendedor": "Vendedor",
        "cliente": "Cliente",
    },
    "estado_campana": {
        "preparando": "Preparando",
        "programada": "Programada",
        "pendiente": "Pendiente",
        "procesando": "Enviando",
        "pausada": "Pausada",
        "completado": "Completada",
        "cancelada": "Cancelada",
        "error": "Error",
    },
    "tipo_campana": {"comercial": "Comercial", "transaccional": "Transaccional"},
    "estado_sms": {
        "pendiente": "Pendiente",
        "enviando": "Enviando",
        "enviado": "Enviado",
        "fallido": "Fallido",
        "omitido": "Omitido",
        "cancelado": "Cancelado",
    },
    # Twilio's message statuses, as its status callbacks report them.
    "estado_entrega": {
        "accepted": "Aceptado",
        "scheduled": "Programado",
        "queued": "En cola",
        "sending": "Enviándose",
        "sent": "Enviado al operador",
        "delivered": "Entregado",
        "undelivered": "No entregado",
        "failed": "Fallido",
        "read": "Leído",
        "canceled": "Cancelado",
        "receiving": "Recibiéndose",
        "received": "Recibido",
    },
    "modelo": {
        "Cliente": "Cliente",
        "Empresa": "Empresa",
        "CampanaPublicitaria": "Campaña publicitaria",
        "CampanaSMS": "Campaña SMS",
        "PlantillaSMS": "Plantilla SMS",
        "SMSLog": "Mensaje SMS",
        "Vehiculo": "Vehículo",
        "MovimientoCapital": "Movimiento de capital",
        "Venta": "Venta",
        "Usuario": "Usuario",
        "ApiToken": "Token de API",
        "Pais": "País",
        "Ciudad": "Ciudad",
        "ListaExcluidos": "Registro de Números Excluidos",
        "ConfiguracionEnvio": "Configuración de envío",
        "NumeroExcluidoPropio": "Número excluido",
        "ConsentimientoSMS": "Consentimiento SMS",
    },
}


def label(kind: str, code) -> str:
    """The label of a stored code ('delivered' → 'Entregado'); an unknown code shows as it is."""
    if code is None:
        return ""
    return LABELS[kind].get(code, str(code))


def yes_no(value) -> str:
    return "Sí" if value else "No"


# --- phones --------------------------------------------------------------------------------


# A Colombian number in E.164: +57 and ten digits (mobiles 3xx, landlines 60x since 2021).
COLOMBIA_E164 = re.compile(r"\+57([0-9]{10})")


def _colombian(digits: str) -> str:
    """Ten national digits grouped as Colombians write them: '300 123 4567', '(601) 345 6789'."""
    grouped = f"{digits[3:6]} {digits[6:]}"
    return f"{digits[:3]} {grouped}" if digits.startswith("3") else f"({digits[:3]}) {grouped}"


def phone(value: str | None) -> str:
    """A phone as people read it, from its E.164 (or, for a number never made E.164, as typed,
    read as Colombian): national for Colombia ('300 123 4567', '(601) 345 6789'), international
    with + otherwise ('+58 412-1234567'); what is not a valid number, as it is."""
    if not value:
        return ""
    found = COLOMBIA_E164.fullmatch(value)
    if found:
        return _colombian(found.group(1))
    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else "CO")
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_valid_number(number):
        return value
    if number.country_code == 57 and len(str(number.national_number)) == 10:
        return _colombian(str(number.national_number))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def client_phone(cliente) -> str:
    """A client's phone on screen: from its E.164 when it has one, else as typed."""
    return phone(cliente.telefono_e164 or cliente.telefono)


def phone_sheet(value: str | None) -> str:
    """A phone in a spreadsheet (CSV (Excel), XLSX): a Colombian E.164 in national form, text
    Excel keeps as written (it turns '+573001234567' into the number 573001234567); anything else
    as it is (the exporter guards it). No phonenumbers call: export.py's SQL twin does the same."""
    found = COLOMBIA_E164.fullmatch(value or "")
    return _colombian(found.group(1)) if found else (value or "")


def init_app(app: Flask) -> None:
    """The same functions as Jinja filters (Spanish names: templates are UI), for every template."""
    app.jinja_env.filters.update(
        numero=number,
        porcentaje=percent,
        fecha_hora=date_time,
        fecha=day,
        dinero=money,
        costo=cost,
        etiqueta=lambda code, kind: label(kind, code),
        si_no=yes_no,
        telefono=phone,
    )


# --- spreadsheets --------------------------------------------------------------------------


def spreadsheet_time(moment: datetime | None) -> datetime | None:
    """A stored moment as a naive Bogotá time in whole seconds: spreadsheet cells have no time
    zone, so the column's header says "(hora de Bogotá)" instead."""
    return local(moment).replace(tzinfo=None, microsecond=0) if moment else None


def decimal_comma(value) -> str:
    """A number for Excel with Colombian regional settings: a decimal comma and no thousands
    separator ('1782000,50', '-3,5', '12'), which it reads back as the same number."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return format(Decimal(str(value)), "f").replace(".", ",")
