"""`kind: kan`: the original B-spline KAN from pykan, in speed mode (relukan_bench.models.kan),
trained by our loop or, with `pykan_fit:`, by pykan's own `fit()`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from relukan_bench.kinds import ModelKind
from relukan_bench.schema import MAX_COUNT, GridRange, ModelEntry, Name, NonNegativeInt, PositiveFloat, PositiveInt, Strict, error_at


class PykanFitSpec(Strict):
    """Train with pykan's own `KAN.fit()` instead of our loop. The defaults are pykan 0.2.8's
    own (LBFGS, lr 1, 10 grid updates in the first 50 steps); the step count is the
    experiment's `train.steps`; full batch, no regularisation."""

    opt: Literal["Adam", "LBFGS"] = "LBFGS"
    lr: PositiveFloat = 1.0
    update_grid: bool = True
    grid_update_num: PositiveInt = 10
    start_grid_update_step: Annotated[int, Field(ge=-1, le=MAX_COUNT)] = -1
    stop_grid_update_step: NonNegativeInt = 50

    @model_validator(mode="after")
    def _update_interval(self) -> "PykanFitSpec":
        # pykan updates the grid every int(stop / num) steps: 0 would divide by zero
        if self.update_grid and self.stop_grid_update_step < self.grid_update_num:
            raise error_at(
                "stop_grid_update_step", cross_field=True,
                message=f"expected at least grid_update_num ({self.grid_update_num}) when update_grid is true "
                f"(got {self.stop_grid_update_step})",
            )
        return self


class KANSpec(ModelEntry):
    """A pykan KAN entry."""

    name: Name
    kind: Literal["kan"]
    grid_range: GridRange | None = None  # None: the data domain
    lr: PositiveFloat | None = None  # None: the experiment's train.lr (our loop only)
    pykan_fit: PykanFitSpec | None = None  # None: our training loop, like every other model

    @model_validator(mode="after")
    def _one_learning_rate(self) -> "KANSpec":
        if self.pykan_fit is not None and self.lr is not None:
            raise error_at("lr", cross_field=True, message="pykan's fit() takes its learning rate from pykan_fit.lr; remove lr")
        return self


def build(entry: KANSpec, shape: Any, domain: tuple[float, float], seed: int) -> Any:
    from relukan_bench.models.kan import PyKAN

    grid_range = tuple(entry.grid_range) if entry.grid_range is not None else tuple(domain)
    return PyKAN(shape.width, shape.grid, shape.k, grid_range=grid_range, seed=seed)


KIND = ModelKind("kan", KANSpec, build, label="KAN (pykan)", role="kan", rank=1,
                 spline_params=lambda model: model.spline_parameter_count())
