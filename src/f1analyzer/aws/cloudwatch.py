"""Batched CloudWatch ``PutMetricData`` publisher, small enough for a Lambda handler.

Values are buffered and sent in batches (at most ``batch_size`` data points per call, well under
the service's 1,000-per-request limit); :meth:`MetricsPublisher.flush` sends what is left. A
publish failure is logged and counted, never raised: metrics must not fail a request.

Example (one invocation of a Lambda handler)::

    with MetricsPublisher(namespace="F1Analyzer", dimensions={"Function": "strategy"}) as m:
        m.put("Requests", 1, unit="Count")
        m.put("LatencyMs", 123.4, unit="Milliseconds")
    # flushed on exit
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from ..config import Settings
from ..log import get_logger

log = get_logger("aws.cloudwatch")

DEFAULT_NAMESPACE = "F1Analyzer"
MAX_BATCH = 1000


class MetricsPublisher:
    """Buffer metric data points and publish them with as few ``put_metric_data`` calls as possible.

    Args:
        namespace: CloudWatch namespace.
        dimensions: dimensions added to every data point (``{"Function": "strategy"}``).
        batch_size: data points per request (1..1000); a full buffer is sent at once.
        client: a boto3 ``cloudwatch`` client (default: one from the settings).
        settings: used to build the client (region, endpoint).
    """

    def __init__(self, namespace: str = DEFAULT_NAMESPACE, *, dimensions: Mapping[str, str] | None = None,
                 batch_size: int = 500, client: Any = None, settings: Settings | None = None):
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be in 1..{MAX_BATCH}, got {batch_size}")
        self.namespace = namespace
        self.dimensions = dict(dimensions or {})
        self.batch_size = batch_size
        self._client = client
        self._settings = settings
        self._buffer: list[dict] = []
        self._lock = threading.Lock()
        #: put_metric_data calls made / data points sent / data points dropped after an error
        self.requests_sent = 0
        self.points_sent = 0
        self.points_failed = 0

    @property
    def client(self) -> Any:
        if self._client is None:
            # boto3 is imported only when AWS is used
            from .clients import client

            self._client = client("cloudwatch", self._settings)
        return self._client

    def put(self, name: str, value: float, *, unit: str = "None",
            dimensions: Mapping[str, str] | None = None, timestamp: datetime | None = None) -> None:
        """Queue one data point (sent when the batch is full or on flush)."""
        dims = {**self.dimensions, **(dimensions or {})}
        datum = {
            "MetricName": name,
            "Value": float(value),
            "Unit": unit,
            "Timestamp": timestamp or datetime.now(timezone.utc),
        }
        if dims:
            datum["Dimensions"] = [{"Name": k, "Value": str(v)} for k, v in sorted(dims.items())]
        with self._lock:
            self._buffer.append(datum)
            full = len(self._buffer) >= self.batch_size
        if full:
            self.flush()

    def pending(self) -> int:
        with self._lock:
            return len(self._buffer)

    def flush(self) -> int:
        """Send everything buffered; returns the number of data points sent."""
        with self._lock:
            batch, self._buffer = self._buffer, []
        sent = 0
        for i in range(0, len(batch), self.batch_size):
            chunk = batch[i:i + self.batch_size]
            try:
                self.client.put_metric_data(Namespace=self.namespace, MetricData=chunk)
            except Exception as exc:  # metrics never fail the caller
                self.points_failed += len(chunk)
                log.warning("put_metric_data to %s failed (%d points dropped): %s",
                            self.namespace, len(chunk), exc)
                continue
            self.requests_sent += 1
            sent += len(chunk)
        self.points_sent += sent
        return sent

    def __enter__(self) -> "MetricsPublisher":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.flush()
