from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Components(BaseModel):
    data_collector: bool = Field(description="The race store opens and answers queries.")
    vector_database: bool = Field(description="The knowledge index answers a query.")
    strategy_generator: bool = Field(description="The strategy engine and a narrator work.")
    ml_models: bool = Field(description="A race model set is loaded.")


class Health(BaseModel):
    status: Literal["healthy", "degraded"]
    components: Components
    reasons: list[str] = Field(default_factory=list, description="Why the status is degraded.")
    version: str
