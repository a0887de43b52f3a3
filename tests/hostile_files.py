"""Hostile files for the import, built by the tests byte by byte (SPEC §17 "Hostile files"):
an XLSX is a zip of XML parts, written here without a spreadsheet library so that each part
can say what an attacker's would."""

import io
import struct
import zipfile

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006"
SHEET_PATH = "xl/worksheets/sheet1.xml"
PARTS = {
    "[Content_Types].xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{PKG}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}/relationships">'
        f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{REL}">'
        '<sheets><sheet name="Hoja1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}/relationships">'
        f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def row(number: int, *texts: str) -> str:
    """A row with explicit references, its cells from column A."""
    cells = "".join(cell(f"{chr(65 + i)}{number}", t) for i, t in enumerate(texts))
    return f'<row r="{number}">{cells}</row>'


HEADER = row(1, "Cédula", "Nombres")


def sheet(body: str, prolog: str = "", dimension: str = "") -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    head = f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="{NS}">'
    return f"{head}{dim}<sheetData>{body}</sheetData></worksheet>"


def xlsx(sheet_xml: str | bytes | None = None, chunks=None, level: int = 9) -> bytes:
    """A workbook of one sheet: ``sheet_xml``, or the byte ``chunks`` written one at a time
    (a part of hundreds of MB never held whole by the test)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, text in PARTS.items():
            z.writestr(name, text)
        with z.open(SHEET_PATH, "w", force_zip64=chunks is not None) as part:
            for chunk in chunks if chunks is not None else [sheet_xml]:
                part.write(chunk.encode() if isinstance(chunk, str) else chunk)
    return buffer.getvalue()


def declared_smaller(data: bytes, name: str = SHEET_PATH, size: int = 1000) -> bytes:
    """``data`` with the part ``name``'s uncompressed size stated as ``size`` in its local header
    and in the central directory (the archive lies about what it inflates to)."""
    raw = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    struct.pack_into("<I", raw, info.header_offset + 22, size)
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        length = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46 : at + 46 + length] == name.encode():
            struct.pack_into("<I", raw, at + 24, size)
        at = raw.find(b"PK\x01\x02", at + 4)
    return bytes(raw)
