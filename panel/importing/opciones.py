"""What the user chose for one file beyond its mapping (SPEC §17): create the empresas it names
that do not exist, the municipio of the rows without one, and how its date column reads."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Opciones:
    crear_empresas: bool = True  # "Crear las empresas que no existan" (ticked by default)
    id_ciudad: int | None = None  # the file's default municipio; None: the form's (Bogotá, D.C.)
    fechas: str | None = None  # "dmy"/"mdy" for the date column; None: decided by a look at it

    @classmethod
    def de(cls, job) -> "Opciones":
        """An import job's choices (the date order is decided again from the file each pass)."""
        crear = job.crear_empresas
        return cls(crear_empresas=True if crear is None else crear, id_ciudad=job.id_ciudad_defecto)
