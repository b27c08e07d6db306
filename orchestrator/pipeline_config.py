"""The `pipeline` section of the config: which genotypes of a sweep go on to the retrain
stage (see orchestrator/stages/selection.py for the three rules), and with how many seeds each."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from trainables.config import StrictModel


class SelectConfig(StrictModel):
    by: Literal["mask_ratio", "trial", "setting"] = Field(
        "mask_ratio", description="mask_ratio: the best of each mask ratio (plain DARTS and every "
                                  "MIM setting meet in the retrain); trial: the best overall; "
                                  "setting: from the settings with the best mean over seeds")
    top_k: int = Field(1, ge=1, description="distinct genotypes to retrain (per mask ratio, by mask_ratio)")


class PipelineConfig(StrictModel):
    """`alphadarts pipeline`: which genotypes of the sweep go on, and with how many seeds."""

    select: SelectConfig = SelectConfig()
    retrain_seeds: int = Field(2, ge=1, description="seeds per selected genotype")
