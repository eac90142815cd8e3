"""`kind: kan`: the original B-spline KAN from pykan (relukan_bench.models.kan), trained by our
loop or, with `pykan_fit:`, by pykan's own `fit()`.

`pykan: "0.0.5"` names a release other than the installed one: the speed experiment runs it in
a worker process of its own environment (relukan_bench.pykan_envs), which must be prepared
before the run. `mode:` is how pykan is built: `speed` (its `speed()`, the default),
`speed-compile` (`speed(compile=True)`) or `default` (as its constructor builds it; the only
mode of releases before 0.2.0)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, Sequence, cast

from pydantic import Field, model_validator

from relukan_bench.kinds import EntryError, ModelKind, Shape, Size, edges, evaluations_of, named, pair
from relukan_bench.pykan_envs import (
    VERSION,
    env_dir,
    has_speed_mode,
    install_hint,
    installed,
    missing,
    needs_environment,
)
from relukan_bench.schema import (
    LBFGS,
    MAX_COUNT,
    Compile,
    CudaGraph,
    GridRange,
    ModelEntry,
    Name,
    NonNegativeInt,
    Optimizer,
    PositiveFloat,
    PositiveInt,
    Strict,
    error_at,
)

if TYPE_CHECKING:
    from torch import nn

    from relukan_bench.models.kan import PyKAN


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
    optimizer: Optimizer = None  # None: the experiment's train.optimizer (our loop only)
    lbfgs: LBFGS = None  # with optimizer: lbfgs only; None: its defaults
    pykan_fit: PykanFitSpec | None = None  # None: our training loop, like every other model
    pykan: Annotated[str, Field(pattern=VERSION.pattern, max_length=20)] | None = None  # None: the installed one
    mode: Literal["default", "speed", "speed-compile"] = "speed"
    compile: Compile = False
    cuda_graph: CudaGraph = False

    @model_validator(mode="after")
    def _consistent(self) -> "KANSpec":
        if self.pykan_fit is not None and self.lr is not None:
            raise error_at("lr", cross_field=True, message="pykan's fit() takes its learning rate from pykan_fit.lr; remove lr")
        if self.pykan_fit is not None and self.optimizer is not None:
            raise error_at("optimizer", cross_field=True, message="pykan's fit() takes its optimizer from pykan_fit.opt; "
                           "remove optimizer")
        version = self.pykan or installed()
        if self.mode != "default" and version is not None and not has_speed_mode(version):
            raise error_at("mode", cross_field=True, message=f"expected mode: default for pykan {version} "
                           f"(speed() came with pykan 0.2.0; got mode: {self.mode})")
        if self.mode == "speed-compile" and self.compile:
            raise error_at("compile", cross_field=True, message="mode: speed-compile already compiles pykan's forward; "
                           "use mode: speed with compile: true to compile the whole step, not both")
        if self.pykan_fit is not None and needs_environment(self.pykan):
            raise error_at("pykan_fit", cross_field=True, message=f"pykan's fit() runs the installed pykan ({installed()}) "
                           f"only (got pykan: {self.pykan})")
        return self


def build(entry: KANSpec, shape: Shape, domain: tuple[float, float], seed: int) -> PyKAN:
    from relukan_bench.models.kan import PyKAN

    grid_range = pair(entry.grid_range) if entry.grid_range is not None else pair(domain)
    if needs_environment(entry.pykan):
        raise RuntimeError(f"pykan {entry.pykan} runs in a worker of its own environment; this process imports "
                           f"pykan {installed()}")
    return PyKAN(shape.width, shape.grid, shape.k, grid_range=grid_range, seed=seed, mode=entry.mode)


def check(entry: KANSpec, shapes: Sequence[Shape], domain: tuple[float, float]) -> None:
    """A release other than the installed one needs its environment, prepared beforehand."""
    version = entry.pykan
    if version and missing([version]):
        raise EntryError("pykan", f"pykan {version} has no environment in {env_dir(version)}; "
                         + install_hint([version]))


def size(entry: KANSpec, shape: Shape) -> Size:
    """pykan 0.2.8's KANLayer: per edge G + k coefficients, scale_base and scale_sp (the mask,
    the node and subnode affines, affine_trainable=False by default, and the symbolic branch
    do not train). Per sample and edge: G + k spline products, scale_sp's and scale_base's
    products; per output node the subnode and node scales, applied though not trained."""
    n = shape.grid + shape.k
    layers = edges(shape.width)
    return Size(sum(i * o * (n + 2) for i, o in layers), sum(i * o * (n + 2) + 2 * o for i, o in layers))


def describe(entry: KANSpec) -> str:
    """`pykan KAN`, with the release when it is not the installed one, the mode when the
    release has a choice and it is not speed(), and pykan's fit() when it trains."""
    parts: list[str] = []
    if entry.mode != "speed" and (entry.pykan is None or has_speed_mode(entry.pykan)):
        parts.append("default mode" if entry.mode == "default" else entry.mode)
    if entry.pykan_fit is not None:
        parts.append(f"pykan fit(), {entry.pykan_fit.opt}")
    return named(f"pykan {entry.pykan} KAN" if entry.pykan else "pykan KAN", parts, entry)


#: the most loss evaluations one step of pykan's `fit()` with LBFGS makes: its LBFGS keeps
#: torch's max_iter 20 and max_eval 20 x 5 / 4
PYKAN_LBFGS_EVALUATIONS = 25


def evaluations(entry: KANSpec) -> int:
    """pykan's `fit()` with LBFGS: up to 25 evaluations a step; otherwise as our loop's."""
    if entry.pykan_fit is not None:
        return PYKAN_LBFGS_EVALUATIONS if entry.pykan_fit.opt == "LBFGS" else 1
    return evaluations_of(entry)


def spline_params(model: nn.Module) -> int:
    """The B-spline coefficients of the `PyKAN` this kind builds."""
    return cast("PyKAN", model).spline_parameter_count()


KIND = ModelKind("kan", KANSpec, build, label="KAN (pykan)", role="kan", rank=1, describe=describe, evaluations=evaluations,
                 family="B-spline KAN", hue="Oranges",
                 spline_params=spline_params, check=check,
                 pykan=lambda entry: (entry.pykan, entry.mode), cost=5.0, size=size,
                 basis="local")
