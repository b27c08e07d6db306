"""The `pipeline` section of the config: which genotypes of a sweep go on to the retrain
stage (see orchestrator/selection.py for the two rules), and with how many seeds each."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from trainables.config import StrictModel


class SelectConfig(StrictModel):
    top_k: int = Field(2, ge=1, description="distinct genotypes to retrain")
    by: Literal["trial", "setting"] = "trial"


class PipelineConfig(StrictModel):
    """`alphadarts pipeline`: which genotypes of the sweep go on, and with how many seeds."""

    select: SelectConfig = SelectConfig()
    retrain_seeds: int = Field(2, ge=1, description="seeds per selected genotype")
