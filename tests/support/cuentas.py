"""Tenants' own Twilio accounts for tests (SPEC §20): accounts on the fake Twilio, stored for a
tenant as the Envío page stores them (the token encrypted), and webhooks signed by an account."""

import secrets

from cryptography.fernet import Fernet
from twilio.request_validator import RequestValidator

from panel import secretos, tenancy
from panel.extensions import db
from panel.models import ConfiguracionEnvio
from panel.sms.reglas import DEFAULTS

KEY = Fernet.generate_key().decode()


def new_account() -> tuple[str, str]:
    """A fresh (Account SID, Auth Token) in Twilio's formats."""
    return "AC" + secrets.token_hex(16), secrets.token_hex(16)


def store_account(app, tenant_id: int, sid: str, token: str, *, from_number=None, service=None) -> None:
    """Save a tenant's own account, its token encrypted with the app's key."""
    with tenancy.using(tenant_id):
        config = db.session.query(ConfiguracionEnvio).one_or_none() or ConfiguracionEnvio(**DEFAULTS)
        config.twilio_account_sid, config.twilio_from_number = sid, from_number
        config.twilio_messaging_service_sid = service
        config.twilio_token_cifrado = secretos.encrypt(app.config, token)
        db.session.add(config)
        db.session.commit()


def signed(client, url: str, params: dict, token: str):
    """POST a webhook signed with ``token`` (as the account that owns it would sign)."""
    signature = RequestValidator(token).compute_signature("http://localhost" + url, params)
    return client.post(url, data=params, headers={"X-Twilio-Signature": signature})
