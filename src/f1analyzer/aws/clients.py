"""boto3 clients: the factory lives in :mod:`f1analyzer.backends.aws_clients` (below the models'
S3 registry that uses it); re-exported here for the AWS glue."""

from __future__ import annotations

from ..backends.aws_clients import client  # noqa: F401 - re-exported

__all__ = ["client"]
