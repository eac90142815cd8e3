"""`kind: inkan` and `kind: flashkan`: the cubic B-spline KANs of PyPI's `inkan` and `flashkan`
(the `peers` extra), built as stacks of the packages' own layers: their shapes, seeds, eager
execution, sizes, refusals and training.

The eager tests come before those that compile flashkan's basis: once it is compiled in this
process, a forward that ran the compiled code would trace nothing new, and counting dynamo's
frames would no longer tell an eager forward from a compiled one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch._dynamo.utils import counters
from typer.testing import CliRunner

from relukan_bench.cli import app
from relukan_bench.config import FunctionSpec, TrainSpec
from relukan_bench.experiments.forgetting.config import NetworkSpec
from relukan_bench.kinds import EntryError, build_model, kind_of, shaped
from relukan_bench.kinds.flashkan import FlashKANSpec
from relukan_bench.kinds.inkan import INSTALL, InKANSpec
from relukan_bench.models import count_parameters
from relukan_bench.training import step_for
from tests.close import assert_close_scaled

inkan = pytest.importorskip("inkan")  # a guard only: the tests install the peers extra (Makefile)
flashkan = pytest.importorskip("flashkan")

KINDS = ["inkan", "flashkan"]
SPECS = {"inkan": InKANSpec, "flashkan": FlashKANSpec}
PACKAGES = {"inkan": inkan, "flashkan": flashkan}
DOMAIN = (0.0, 1.0)


def spec(kind: str, **options) -> InKANSpec | FlashKANSpec:
    return SPECS[kind](name=f"my-{kind}", kind=kind, **options)


def shape(width, grid=5, k=3, name="f") -> FunctionSpec:
    return FunctionSpec(name=name, expression="x1", width=width, grid=grid, k=k)


def package_stack(kind: str, model, **options):
    """The package's own layers of `model`'s sizes, fed `model`'s parameters and buffers."""
    layers = []
    for mine in model:
        theirs = PACKAGES[kind].KANLayer(mine.in_features, mine.out_features, grid_size=mine.grid_size,
                                         grid_range=DOMAIN, **options)
        theirs.load_state_dict(mine.state_dict())
        layers.append(theirs)
    return torch.nn.Sequential(*layers)


def dynamo_work() -> int:
    """Frames torch.compile traced and graphs it made since `counters.clear()`."""
    return sum(counters["frames"].values()) + counters["stats"]["unique_graphs"]


# ------------------------------------------------------------------ building


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("width", [[2, 5, 1], [4, 4, 2, 1]])
def test_builds_a_stack_of_the_packages_layers_of_the_right_shape(kind, width):
    model = build_model(spec(kind), shape(width, grid=7), DOMAIN, 0)
    assert [(layer.in_features, layer.out_features, layer.grid_size, layer.spline_order) for layer in model] == [
        (i, o, 7, 3) for i, o in zip(width[:-1], width[1:])]
    assert all(isinstance(layer, PACKAGES[kind].KANLayer) for layer in model)
    y = model(torch.rand(16, width[0]))
    assert y.shape == (16, width[-1]) and torch.isfinite(y).all()


@pytest.mark.parametrize("kind", KINDS)
def test_the_grid_covers_the_domain_or_the_grid_range(kind):
    first = lambda model: model[0].grid_starts  # noqa: E731 - the knots where each basis starts
    h = 0.5 / 5
    model = build_model(spec(kind), shape([2, 1]), (-0.5, 0.0), 0)
    assert_close_scaled(first(model)[[0, -1]], torch.tensor([-0.5 - 3 * h, 0.0 - h]), rtol=1e-6, what="domain knots")
    model = build_model(spec(kind, grid_range=[1.0, 3.0]), shape([2, 1]), (-0.5, 0.0), 0)
    assert_close_scaled(first(model)[[0, -1]], torch.tensor([1.0 - 3 * 0.4, 3.0 - 0.4]), rtol=1e-6, what="range knots")


@pytest.mark.parametrize("kind", KINDS)
def test_seeded_builds_reproduce_and_leave_the_global_state_alone(kind):
    torch.manual_seed(5)
    before = torch.get_rng_state()
    a, b, c = (build_model(spec(kind), shape([2, 5, 1]), DOMAIN, seed) for seed in (3, 3, 4))
    assert torch.equal(torch.get_rng_state(), before)
    for name, tensor in a.state_dict().items():
        assert torch.equal(tensor, b.state_dict()[name]), name
    x = torch.rand(8, 2)
    assert torch.equal(a(x), b(x)) and not torch.equal(a(x), c(x))


@pytest.mark.parametrize("kind", KINDS)
def test_builds_in_the_default_dtype_float64(kind):
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        model = build_model(spec(kind), shape([2, 5, 1]), DOMAIN, 0)
        tensors = dict(model.named_parameters()) | dict(model.named_buffers())
        assert {t.dtype for t in tensors.values()} == {torch.float64}  # flashkan's float32 knots included
        y = model(torch.rand(16, 2))
        y.square().mean().backward()
        assert y.dtype == torch.float64 and all(p.grad.dtype == torch.float64 for p in model.parameters())
    finally:
        torch.set_default_dtype(before)


# ------------------------------------------------------------------ eager by default


def test_eager_inkan_takes_the_packages_eager_basis_and_compiles_nothing():
    model = build_model(spec("inkan"), shape([2, 5, 1]), DOMAIN, 0)
    assert all(layer._basis_fn is inkan.bspline_basis_local_eager for layer in model)
    counters.clear()
    model(torch.rand(32, 2)).sum().backward()
    assert dynamo_work() == 0
    shipped = build_model(spec("inkan", basis_compile=True), shape([2, 5, 1]), DOMAIN, 0)
    assert all(layer._basis_fn is inkan.basis.bspline_basis_local for layer in shipped)  # torch.compile'd


def test_eager_flashkan_compiles_nothing_and_computes_its_eager_basis():
    """The package calls its torch.compile'd basis; the model runs it eagerly: dynamo traces
    no frame, and the outputs and gradients are, bit for bit, those of the package's own eager
    basis (`bspline_basis_eager`) in the layer's two contractions."""
    from flashkan.basis import bspline_basis_eager

    model = build_model(spec("flashkan"), shape([2, 5, 1]), DOMAIN, 0)
    x = torch.rand(64, 2)
    counters.clear()
    y = model(x)
    y.square().sum().backward()
    assert dynamo_work() == 0
    expected = x
    for layer in model:
        bases = bspline_basis_eager(expected, layer.grid_starts, layer.inv_h)
        expected = (torch.einsum("bin,oin->bo", bases, layer.spline_weight)
                    + torch.einsum("bi,oi->bo", layer.base_activation(expected), layer.base_weight))
    assert torch.equal(y, expected)
    grads = torch.autograd.grad(expected.square().sum(), list(model.parameters()))
    assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), grads))


def test_the_inkan_model_is_the_packages_own_layers_fed_its_parameters():
    model = build_model(spec("inkan"), shape([2, 5, 1], grid=6), DOMAIN, 1)
    theirs = package_stack("inkan", model, compile_basis=False)
    x = torch.rand(64, 2) * 1.4 - 0.2  # beyond the grid on either side too
    assert torch.equal(model(x), theirs(x))


# ------------------------------------------------------------------ sizes


SHAPES = [([1, 1], 5), ([2, 5, 1], 5), ([4, 4, 2, 1], 3), ([3, 4, 1], 30), ([4, 20, 1], 29)]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("width,grid", SHAPES)
def test_the_size_formula_counts_the_built_parameters(kind, width, grid):
    model = build_model(spec(kind), shape(width, grid=grid), DOMAIN, 0)
    assert kind_of(kind).size(spec(kind), shape(width, grid=grid)).params == count_parameters(model)
    assert kind_of(kind).spline_params(model) == sum(i * o * (grid + 3) for i, o in zip(width[:-1], width[1:]))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("width,grid", SHAPES[1:])
def test_the_multiply_adds_are_those_torch_counts(kind, width, grid):
    """torch's flop counter counts each product of a matrix multiply or einsum twice (a
    multiply and an add); it leaves out elementwise work, and with it the products of inkan's
    direct contraction (4 gathered coefficients per input and output), added back here. Not
    on [1, 1]: torch computes an einsum of 1 x 1 operands as an elementwise product."""
    from torch.utils.flop_counter import FlopCounterMode

    from relukan_bench.kinds.inkan import direct

    model = build_model(spec(kind), shape(width, grid=grid), DOMAIN, 0)
    with FlopCounterMode(display=False) as counted:
        model(torch.rand(10, width[0]))
    gathered = sum(4 * i * o for i, o in zip(width[:-1], width[1:]) if kind == "inkan" and direct(o, grid + 3))
    expected = kind_of(kind).size(spec(kind), shape(width, grid=grid)).macs
    assert counted.get_total_flops() // (2 * 10) + gathered == expected


def test_inkans_direct_contraction_is_taken_where_the_formula_says():
    from relukan_bench.kinds.inkan import direct

    for width, grid in [([3, 4, 1], 30), ([4, 20, 1], 29), ([2, 5, 1], 5), ([2, 17, 1], 40)]:
        model = build_model(spec("inkan"), shape(width, grid=grid), DOMAIN, 0)
        assert [layer._use_direct for layer in model] == [direct(o, grid + 3) for o in width[1:]]


def test_sizes_by_hand():
    inkan_size, flashkan_size = kind_of("inkan").size, kind_of("flashkan").size
    # [3, 4, 1], G 30 (33 bases): params 4*(3*33 + 3) + 1*(4*33 + 4) = 408 + 136
    small = shape([3, 4, 1], grid=30)
    assert inkan_size(spec("inkan"), small).params == flashkan_size(spec("flashkan"), small).params == 544
    assert inkan_size(spec("inkan"), small).macs == 4 * 3 * 4 + 3 * 4 + 4 * 4 * 1 + 4 * 1  # both direct: 60 + 20
    assert flashkan_size(spec("flashkan"), small).macs == 3 * 33 * 4 + 3 * 4 + 4 * 33 * 1 + 4 * 1  # 408 + 136
    # [4, 20, 1], G 29 (32 bases): params 20*(4*32 + 4) + 1*(20*32 + 20) = 2640 + 660
    wide = shape([4, 20, 1], grid=29)
    assert inkan_size(spec("inkan"), wide).params == flashkan_size(spec("flashkan"), wide).params == 3300
    assert inkan_size(spec("inkan"), wide).macs == 4 * 33 * 20 + 5 * 20 * 1  # dense (20 outputs) 2640, direct 100
    assert flashkan_size(spec("flashkan"), wide).macs == 4 * 32 * 20 + 4 * 20 + 20 * 32 + 20  # 2640 + 660


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize("kind", KINDS)
def test_a_function_that_is_not_cubic_is_refused(kind):
    check = kind_of(kind).check
    check(spec(kind), [shape([2, 1], name="f1")], DOMAIN)  # cubic: fine
    with pytest.raises(EntryError) as caught:
        check(spec(kind), [shape([2, 1], name="f1"), shape([2, 1], k=2, name="f3")], DOMAIN)
    assert (caught.value.key, caught.value.message) == (
        "kind", f"{kind} is cubic only: expected k: 3 on every function (got k: 2 on f3); or set k: 3 on this entry, "
        "which keeps each function's G + k basis functions per edge")
    with pytest.raises(EntryError, match=r"expected network.k: 3 \(got network.k: 1\)"):
        check(spec(kind), [NetworkSpec(width=[1, 1], grid=5, k=1)], DOMAIN)
    with pytest.raises(ValueError, match="cubic only"):
        build_model(spec(kind), shaped(shape([2, 1]), k=2), DOMAIN, 0)


@pytest.mark.parametrize("kind", KINDS)
def test_the_cli_refuses_basis_compile_beside_compile(kind, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    entry = f"{{name: peer, kind: {kind}, basis_compile: true, compile: true}}"
    (tmp_path / "peers.yaml").write_text(SPEED.replace("{name: peer, kind: KIND}", entry).replace("K}", "3}"))
    result = CliRunner().invoke(app, ["speed", "--config", "peers.yaml"], terminal_width=120)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert result.stderr.startswith("error: peers.yaml: models[1].basis_compile: compile: true compiles the whole step")


def test_eager_flashkan_on_a_torch_without_set_stance_is_refused(monkeypatch):
    import relukan_bench.kinds.flashkan as kind

    monkeypatch.setattr(kind, "torch_version", lambda: (2, 5))
    with pytest.raises(EntryError) as caught:
        kind.check(spec("flashkan"), [shape([2, 1])], DOMAIN)
    assert caught.value.key == "basis_compile" and "torch 2.6 (got torch 2.5)" in caught.value.message
    kind.check(spec("flashkan", basis_compile=True), [shape([2, 1])], DOMAIN)  # as shipped: no stance needed
    monkeypatch.undo()
    assert kind.torch_version() >= (2, 6)  # this environment's torch (2.13) runs it eagerly


SPEED = """\
experiment: speed
seed: 0
baseline: relukan
data: {samples: 32}
train: {steps: 2}
timing: {repeats: 1, warmup_steps: 0}
models:
  - {name: relukan, kind: relukan}
  - {name: peer, kind: KIND}
functions:
  - {name: f1, expression: sin(pi*x1), width: [1, 1], grid: 5, k: K}
"""


def snapshot(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes()) for p in sorted(root.rglob("*"))}


def test_the_cli_refuses_a_function_that_is_not_cubic_in_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "peers.yaml").write_text(SPEED.replace("KIND", "inkan").replace("K}", "2}"))
    before = snapshot(tmp_path)
    result = CliRunner().invoke(app, ["speed", "--config", "peers.yaml"], terminal_width=120)
    assert result.exit_code == 2 and result.stdout == "", result.output
    assert result.stderr == ("error: peers.yaml: models[1].kind: inkan is cubic only: expected k: 3 on every function "
                             "(got k: 2 on f1); or set k: 3 on this entry, which keeps each function's G + k basis "
                             "functions per edge\n")
    assert snapshot(tmp_path) == before


def run_hiding(packages: list[str], args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """`python -m relukan_bench ARGS` (the real CLI) in a process where `packages` cannot be
    imported: a sitecustomize marks them absent in sys.modules, as Python does for a module
    that must not be found (importlib.util.find_spec then answers None)."""
    hider = cwd.parent / f"{cwd.name}-hider"
    hider.mkdir()
    (hider / "sitecustomize.py").write_text(f"import sys\nsys.modules.update(dict.fromkeys({packages!r}))\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(hider), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "relukan_bench", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("kind", KINDS)
def test_the_cli_refuses_a_missing_package_in_one_line_naming_the_extra(kind, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "peers.yaml").write_text(SPEED.replace("KIND", kind).replace("K}", "3}"))
    before = snapshot(work)
    result = run_hiding(KINDS, ["speed", "--config", "peers.yaml"], work)
    assert result.returncode == 2 and result.stdout == "", result.stderr
    assert result.stderr == (f"error: peers.yaml: models[1].kind: the package {kind} is not installed; "
                             f"install it with: {INSTALL}\n")
    assert INSTALL == "pip install 'relukan-bench[peers]'"
    assert snapshot(work) == before  # no results directory


def test_a_config_without_them_runs_without_the_packages(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "plain.yaml").write_text(SPEED.replace("  - {name: peer, kind: KIND}\n", "").replace("K}", "3}"))
    result = run_hiding(KINDS, ["speed", "--config", "plain.yaml", "--out", "run", "--threads", "1"], work)
    assert result.returncode == 0, result.stderr
    assert (work / "run" / "summary.csv").is_file()


# ------------------------------------------------------------------ training, eager then compiled


def data(width, samples=64):
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(samples, width[0], generator=generator)
    return x, torch.sin(torch.pi * x.sum(dim=1, keepdim=True))


@pytest.mark.parametrize("kind", KINDS)
def test_eager_training_lowers_the_loss(kind):
    entry = spec(kind)
    model = build_model(entry, shape([2, 5, 1]), DOMAIN, 0)
    step = step_for(entry, model, TrainSpec(lr=1e-2), *data([2, 5, 1]))
    counters.clear()
    losses = torch.stack([step() for _ in range(60)])
    assert dynamo_work() == 0
    assert torch.isfinite(losses).all() and losses[-1] < losses[0] / 3


def test_the_flashkan_model_is_the_packages_own_layers_fed_its_parameters():
    """Against the package's layers as shipped (their basis compiled; both layers of width
    [3, 3, 1] take inputs of one shape, so that it compiles once), and the entry that runs it
    as shipped is that very stack."""
    model = build_model(spec("flashkan"), shape([3, 3, 1], grid=6), DOMAIN, 1)
    theirs = package_stack("flashkan", model)
    x = torch.rand(64, 3) * 1.4 - 0.2
    expected = theirs(x)
    assert_close_scaled(model(x), expected, rtol=1e-5, what="eager vs the shipped compiled basis")
    shipped = build_model(spec("flashkan", basis_compile=True), shape([3, 3, 1], grid=6), DOMAIN, 1)
    assert type(shipped) is torch.nn.Sequential  # no ForceEager around it
    assert torch.equal(shipped(x), expected)


@pytest.mark.parametrize("kind", KINDS)
def test_compiled_training_lowers_the_loss(kind):
    """`compile: true` compiles the whole step, the packages' layers in it (one tiny shape)."""
    entry = spec(kind, compile=True)
    model = build_model(entry, shape([1, 1]), DOMAIN, 0)
    step = step_for(entry, model, TrainSpec(lr=3e-2), *data([1, 1], samples=32))
    assert step.prepare() > 0
    losses = torch.stack([step() for _ in range(8)])
    assert torch.isfinite(losses).all() and losses[-1] < losses[0]
