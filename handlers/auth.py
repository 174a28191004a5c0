"""Connection authentication: HMAC-signed bearer tokens naming the user.

A token is ``base64url(claims).base64url(hmac_sha256(secret, claims))`` with
claims ``{"sub": user_id, "exp": epoch_seconds}``. The secret comes from
``QUALITY_SECRET`` or a random key created once under ``QUALITY_HOME/secret.key``
(mode 0600). The server takes the user from the token, never from a message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

import orjson

from handlers.errors import HandlerError


class AuthError(HandlerError):
    """A missing, malformed, forged or expired token."""

    code = "unauthorized"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_secret(home: Path) -> bytes:
    """``QUALITY_SECRET``, else the key under ``home`` (created on first use)."""
    env = os.environ.get("QUALITY_SECRET")
    if env:
        return env.encode()
    path = home / "secret.key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def issue_token(secret: bytes, user_id: str, ttl_s: float, now: float | None = None) -> str:
    """A bearer token for ``user_id`` valid for ``ttl_s`` seconds."""
    if not user_id:
        raise AuthError("a token needs a user")
    claims = orjson.dumps({"sub": user_id, "exp": int((now or time.time()) + ttl_s)})
    signature = hmac.new(secret, claims, hashlib.sha256).digest()
    return f"{_b64(claims)}.{_b64(signature)}"


def verify_token(secret: bytes, token: str, now: float | None = None) -> str:
    """The user a valid token names; `AuthError` otherwise."""
    try:
        claims_part, signature_part = token.split(".")
        claims_raw, signature = _unb64(claims_part), _unb64(signature_part)
    except ValueError:
        raise AuthError("malformed token") from None
    expected = hmac.new(secret, claims_raw, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise AuthError("invalid token signature")
    try:
        claims = orjson.loads(claims_raw)
        user, expires = claims["sub"], float(claims["exp"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise AuthError("malformed token claims") from None
    if not isinstance(user, str) or not user:
        raise AuthError("malformed token claims")
    if (now or time.time()) >= expires:
        raise AuthError("token expired")
    return user
