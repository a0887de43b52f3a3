"""What the user chose for one file beyond its mapping (SPEC §17): create the empresas it names
that do not exist, the municipio of the rows without one, and how its date column reads."""

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Opciones:
    crear_empresas: bool = True  # "Crear las empresas que no existan" (ticked by default)
    id_ciudad: int | None = None  # the file's default municipio; None: the form's (Bogotá, D.C.)
    fechas: str | None = None  # "dmy"/"mdy" for the date column; None: decided by a look at it

    @classmethod
    def de(cls, job) -> "Opciones":
        """An import job's choices, for its preview (which decides the date order again)."""
        crear = job.crear_empresas
        return cls(crear_empresas=True if crear is None else crear, id_ciudad=job.id_ciudad_defecto)

    @classmethod
    def confirmadas(cls, job) -> "Opciones":
        """For the run: also the date order its preview decided, so the run reads the file once
        (the mapping cannot change after the preview without a new preview)."""
        return replace(cls.de(job), fechas=(job.vista_previa or {}).get("orden_fechas"))
