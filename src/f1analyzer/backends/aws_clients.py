"""boto3 clients built from the settings (region and optional endpoint, e.g. a local moto server)."""

from __future__ import annotations

from typing import Any

from ..config import Settings, get_settings


def client(service: str, settings: Settings | None = None) -> Any:
    """A boto3 client for ``service`` in ``settings.aws_region``.

    ``settings.aws_endpoint_url`` (``AWS_ENDPOINT_URL`` or ``F1A_AWS_ENDPOINT_URL``) points every
    service at one endpoint: a local moto server in tests, LocalStack in development.
    """
    import boto3

    s = settings or get_settings()
    kwargs: dict[str, Any] = {"region_name": s.aws_region}
    if s.aws_endpoint_url:
        kwargs["endpoint_url"] = s.aws_endpoint_url
    return boto3.session.Session().client(service, **kwargs)
