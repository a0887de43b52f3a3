"""The secret box: each tenant's own Twilio Auth Token, encrypted at rest (Fernet, from
``cryptography``) with the key(s) of PANEL_ENCRYPTION_KEY.

The setting holds one key, or several comma-separated while rotating: the first encrypts, every
one decrypts (MultiFernet). ``flask rotate-encryption-key`` re-encrypts every stored token with
the first key, after which the old ones can be removed (README, «Configuration»).
A token leaves this module only decrypted for the Twilio client, or as its last 4 characters.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

SIN_CLAVE = (
    "Falta la clave de cifrado PANEL_ENCRYPTION_KEY: sin ella no se puede guardar ni usar un Auth "
    "Token propio. Pida al administrador de la plataforma que la configure."
)
CLAVE_INCORRECTA = (
    "El Auth Token guardado no se puede descifrar con PANEL_ENCRYPTION_KEY (¿se cambió la clave "
    "sin rotarla?): vuelva a escribir el Auth Token."
)
OCULTO = "••••"


class SecretoError(RuntimeError):
    """No key, or a stored token the keys cannot open: its message is shown as it is."""


def _box(config) -> MultiFernet:
    keys = [k for k in (config.get("PANEL_ENCRYPTION_KEY") or "").split(",") if k]
    if not keys:
        raise SecretoError(SIN_CLAVE)
    return MultiFernet([Fernet(k) for k in keys])


def has_key(config) -> bool:
    """Whether a key is configured (the page says so before anyone types a token)."""
    return bool(config.get("PANEL_ENCRYPTION_KEY"))


def encrypt(config, secret: str) -> str:
    """The secret encrypted with the newest key, as text for a column."""
    return _box(config).encrypt(secret.encode("utf-8")).decode("ascii")


def decrypt(config, stored: str) -> str:
    """The secret back; SecretoError when no configured key opens it."""
    try:
        return _box(config).decrypt(stored.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise SecretoError(CLAVE_INCORRECTA) from None


def rotate(config, stored: str) -> str:
    """The same secret encrypted with the newest key (any configured key may have encrypted it)."""
    try:
        return _box(config).rotate(stored.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise SecretoError(CLAVE_INCORRECTA) from None


def last4(secret: str | None) -> str:
    """What a page may show of a secret: ``••••abcd``."""
    return OCULTO + (secret or "")[-4:]
