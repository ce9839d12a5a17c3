"""Provider keys from AWS Secrets Manager, loaded into the environment before the settings are read.

When ``SECRETS_MANAGER_SECRET_ID`` is set, the secret (a JSON object) is fetched once and its known
keys become environment variables, then the cached settings are reset so the next
``get_settings()`` sees them. A variable already set to a non-empty value wins over the secret, so
an operator can still override one key by hand. Call :func:`load_secrets` first thing at start-up
(the Lambda handlers and the container entrypoint do).

Secret format::

    {"ANTHROPIC_API_KEY": "sk-ant-...", "PINECONE_API_KEY": "pc-...", "API_KEYS": "key1,key2"}

``API_KEYS`` may also be a JSON list. Unknown keys are ignored (and named in a warning); values
are never logged.

Run as a module it is a small entrypoint: ``python -m f1analyzer.aws.secrets CMD ARGS...`` loads
the secret and then ``exec``s the command with the enriched environment (the Docker image uses
this, so uvicorn's worker processes inherit the keys).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import MutableMapping

from ..config import Settings, get_settings, reset_settings
from ..errors import BackendUnavailableError, ConfigError
from ..log import get_logger

log = get_logger("aws.secrets")

#: the variables a secret may provide
SECRET_KEYS: tuple[str, ...] = ("ANTHROPIC_API_KEY", "PINECONE_API_KEY", "API_KEYS", "OPENAI_API_KEY",
                                 "F1A_MODEL_SIGNING_KEY")

_loaded_from: str | None = None


def parse_secret(text: str) -> dict[str, str]:
    """The known keys of a secret string as environment values (lists joined with commas)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"the Secrets Manager secret is not a JSON object ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ConfigError("the Secrets Manager secret must be a JSON object of KEY: value")
    unknown = sorted(k for k in data if k not in SECRET_KEYS)
    if unknown:
        log.warning("ignoring unknown keys in the secret: %s", ", ".join(unknown))
    out = {}
    for key in SECRET_KEYS:
        value = data.get(key)
        if isinstance(value, list):
            value = ",".join(str(v) for v in value if str(v))
        if value is None or str(value) == "":
            continue  # an empty placeholder ("fill me in later") is not a key
        out[key] = str(value)
    return out


def fetch_secret(secret_id: str, settings: Settings | None = None) -> dict[str, str]:
    """Read and parse one secret; raises BackendUnavailableError when it cannot be read."""
    from botocore.exceptions import BotoCoreError, ClientError

    # boto3 is imported only when AWS is used
    from .clients import client

    try:
        resp = client("secretsmanager", settings).get_secret_value(SecretId=secret_id)
    except (BotoCoreError, ClientError) as exc:
        raise BackendUnavailableError(f"cannot read secret {secret_id!r} from Secrets Manager: {exc}") from None
    text = resp.get("SecretString")
    if text is None:
        raise ConfigError(f"secret {secret_id!r} has no SecretString (binary secrets are not supported)")
    return parse_secret(text)


def load_secrets(environ: MutableMapping[str, str] | None = None, *, force: bool = False) -> list[str]:
    """Load the secret named by ``SECRETS_MANAGER_SECRET_ID`` into ``environ`` (default os.environ).

    Returns the names of the variables it set. Does nothing (returns []) when no secret is
    configured or when this secret was already loaded in this process (unless ``force``).
    """
    global _loaded_from
    env = os.environ if environ is None else environ
    settings = get_settings()
    secret_id = settings.secrets_manager_secret_id
    if not secret_id or (secret_id == _loaded_from and not force):
        return []
    values = fetch_secret(secret_id, settings)
    applied = [k for k, v in values.items() if not env.get(k)]
    for key in applied:
        env[key] = values[key]
    if env is os.environ:
        _loaded_from = secret_id
    reset_settings()
    log.info("loaded %s from secret %s", ", ".join(applied) or "nothing new", secret_id)
    return applied


def forget_loaded_secret() -> None:
    """Allow :func:`load_secrets` to fetch again (tests; after rotating the secret)."""
    global _loaded_from
    _loaded_from = None


def main(argv: list[str] | None = None) -> int:
    """``python -m f1analyzer.aws.secrets CMD ARGS...``: load the secret, then exec CMD."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        sys.stderr.write("usage: python -m f1analyzer.aws.secrets CMD [ARGS...]\n")
        return 2
    try:
        load_secrets()
    except (ConfigError, BackendUnavailableError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    os.execvp(args[0], args)
    return 0  # pragma: no cover - execvp does not return


if __name__ == "__main__":
    sys.exit(main())
