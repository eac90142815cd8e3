"""The shared training step and the logged training loop, on real models."""

import pytest
import torch

from relukan_bench.config import FunctionSpec, TrainSpec
from relukan_bench.data import make_dataset
from relukan_bench.models.relukan import ReLUKAN
from relukan_bench.steps import TrainStep
from relukan_bench.training import CHUNK, make_optimizer, make_step, mse, train_logged, truncate_at_divergence
from tests.close import assert_close_scaled
from tests.on_devices import needs_cuda


def test_a_real_short_fit_reduces_the_loss():
    f1 = FunctionSpec(name="f1", expression="sin(pi*x1)", width=[1, 1], grid=5, k=3)
    x, y = make_dataset(f1, 256, (0.0, 1.0), seed=0)
    torch.testing.assert_close(y, torch.sin(torch.pi * x))
    torch.manual_seed(0)
    model = ReLUKAN([1, 1], 5, 3)
    step = TrainStep(model, make_optimizer(model, TrainSpec(lr=1e-2)), x, y)
    first = step().item()
    for _ in range(300):
        step()
    assert step.last_loss.item() < first / 100


def test_dataset_is_seeded_and_in_the_domain():
    f = FunctionSpec(name="f", expression="x1 + x2", width=[2, 1], grid=5, k=3)
    x, y = make_dataset(f, 100, (-2.0, 3.0), seed=1)
    x2, _ = make_dataset(f, 100, (-2.0, 3.0), seed=1)
    x3, _ = make_dataset(f, 100, (-2.0, 3.0), seed=2)
    assert torch.equal(x, x2) and not torch.equal(x, x3)
    assert x.shape == (100, 2) and y.shape == (100, 1) and x.dtype == y.dtype == torch.float32
    assert x.min() >= -2.0 and x.max() < 3.0
    torch.testing.assert_close(y, x.sum(dim=1, keepdim=True))


def _step(lr=1e-2, seed=0):
    torch.manual_seed(seed)
    model = ReLUKAN([1, 1], grid=5, k=3)
    x = torch.rand(64, 1)
    y = torch.sin(torch.pi * x)
    return TrainStep(model, torch.optim.Adam(model.parameters(), lr=lr), x, y)


def test_train_logged_records_every_step_in_mse():
    step = _step()
    x_test = torch.rand(16, 1)
    y_test = torch.sin(torch.pi * x_test)
    initial = mse(step.model, step.x, step.y)
    progress = []
    curve = train_logged(step, x_test, y_test, steps=CHUNK + 30, on_progress=lambda done, loss: progress.append((done, loss)))
    assert curve.losses.shape == (CHUNK + 30, 2) and not curve.diverged
    assert curve.losses[0, 0].item() == pytest.approx(initial, rel=1e-6)  # step 1's loss: before its update
    assert curve.losses[-1, 1].item() == pytest.approx(mse(step.model, x_test, y_test), rel=1e-6)  # test: after it
    assert [done for done, _ in progress] == [CHUNK, CHUNK + 30]
    assert progress[-1][1] == pytest.approx(curve.losses[-1, 0].item())
    assert curve.losses[-1, 0] < curve.losses[0, 0]


def test_truncate_at_divergence_keeps_the_first_bad_step():
    losses = torch.tensor([[1.0, 1.0], [0.5, 0.6], [0.4, float("inf")], [float("nan"), 0.1]], dtype=torch.float64)
    curve = truncate_at_divergence(losses)
    assert curve.diverged and curve.steps_done == 3 and torch.isinf(curve.losses[-1, 1])
    fine = truncate_at_divergence(losses[:2])
    assert not fine.diverged and fine.steps_done == 2


def test_train_logged_stops_a_diverging_run():
    from relukan_bench.models.kan import PyKAN

    model = PyKAN([1, 1], grid=5, k=3, seed=0)
    x = torch.rand(64, 1)
    y = torch.sin(torch.pi * x)
    step = TrainStep(model, torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e12), x, y)
    curve = train_logged(step, x[:8], y[:8], steps=3 * CHUNK)
    assert curve.diverged and curve.steps_done <= CHUNK  # stopped at the first chunk read
    assert not torch.isfinite(curve.losses[-1]).all() and torch.isfinite(curve.losses[:-1]).all()


def _through_new_data(step, before, x, y, after):
    """The losses of `before` steps, then (new data, a fresh optimizer) of `after` more."""
    curve = [step().clone() for _ in range(before)]
    step.set_data(x, y)
    step.reset_optimizer()
    return curve + [step().clone() for _ in range(after)]


def test_fused_adam_is_torchs_fused_adam_bit_for_bit():
    from relukan_bench.fused_step import FusedAdam

    torch.manual_seed(0)
    mine = [torch.randn(4, 13, requires_grad=True), torch.randn(7, requires_grad=True)]
    theirs = [p.detach().clone().requires_grad_(True) for p in mine]
    frozen = torch.randn(3, requires_grad=False)
    optimizer = FusedAdam([mine[0], frozen, mine[1]], lr=1e-2)
    assert len(optimizer.params) == 2  # parameters without requires_grad are left alone
    reference = torch.optim.Adam(theirs, lr=1e-2, fused=True)
    for _ in range(30):
        grads = [torch.randn_like(p) for p in mine]
        for p, g in zip(theirs, grads):
            p.grad = g.clone()
        reference.step()
        optimizer.step(grads)
    for a, b in zip(mine, theirs):
        assert torch.equal(a.detach(), b.detach())


def test_fused_step_prepare_changes_nothing_and_compiles_apart():
    """prepare() on a compiled step: the compile happens there, and training afterwards is
    the eager step's to compiler rounding."""
    from relukan_bench.fused_step import FusedStep

    torch.manual_seed(0)
    eager_model = ReLUKAN([2, 1], 5, 3, impl="fast")
    compiled_model = ReLUKAN([2, 1], 5, 3, impl="fast")
    compiled_model.load_state_dict(eager_model.state_dict())
    x, y = torch.rand(300, 2), torch.rand(300, 1)
    eager = make_step(eager_model, TrainSpec(), x, y, fused=True)
    compiled = make_step(compiled_model, TrainSpec(), x, y, fused=True, compile=True)
    assert isinstance(compiled, FusedStep) and not compiled.prepared
    before = [p.detach().clone() for p in compiled_model.parameters()]
    seconds = compiled.prepare()
    assert seconds > 0 and compiled.prepared and compiled.prepare() == pytest.approx(0.0, abs=1e-3)
    for a, b in zip(before, compiled_model.parameters()):
        assert torch.equal(a, b.detach())  # preparing trains nothing
    la = torch.stack([eager() for _ in range(20)])
    lb = torch.stack([compiled() for _ in range(20)])
    assert_close_scaled(lb, la, rtol=1e-5, what="compiled vs eager losses")


def test_prepare_records_compile_seconds_only_for_a_compiled_entry():
    import math

    from relukan_bench.kinds.relukan import ReLUKANSpec
    from relukan_bench.training import prepare

    x, y = torch.rand(100, 2), torch.rand(100, 1)
    for compile in (False, True):
        spec = ReLUKANSpec(name="r", kind="relukan", impl="fast", compile=compile)
        step = make_step(ReLUKAN([2, 1], 5, 3, impl="fast"), TrainSpec(), x, y, fused=True, compile=compile)
        seconds = prepare(spec, step)
        assert step.prepared and (seconds > 0 if compile else math.isnan(seconds))
    assert math.isnan(prepare(ReLUKANSpec(name="r", kind="relukan"), None))  # pykan's own fit() has no step


def test_a_fused_step_owns_its_data():
    """(B, 1) transposed is already contiguous; the step must still copy it, or set_data would
    overwrite the caller's tensor."""
    torch.manual_seed(0)
    x = torch.rand(100, 1)
    y = torch.sin(x)
    kept = x.clone()
    step = make_step(ReLUKAN([1, 1], 5, 3, impl="fast"), TrainSpec(), x[:50], y[:50], fused=True)
    step()
    step.set_data(x[50:], y[50:])
    step()
    assert torch.equal(x, kept)
    step.reset_optimizer()
    assert all(float(t.abs().sum()) == 0 for t in step.optimizer.state())


@needs_cuda
@pytest.mark.parametrize("compile", [False, True], ids=["eager", "compiled"])
def test_a_captured_cuda_step_replays_the_eager_step(compile):
    """The CUDA graph is the eager step recorded once: the same losses and parameters, through
    new data and an optimizer reset (what forgetting does between phases)."""
    from relukan_bench.fused_step import FusedStep

    torch.manual_seed(0)
    eager_model = ReLUKAN([4, 4, 2, 1], 10, 3, impl="fast").cuda()
    graph_model = ReLUKAN([4, 4, 2, 1], 10, 3, impl="fast").cuda()
    graph_model.load_state_dict(eager_model.state_dict())
    x, y = torch.rand(2, 1000, 4, device="cuda"), torch.rand(2, 1000, 1, device="cuda")
    eager = make_step(eager_model, TrainSpec(), x[0], y[0], fused=True)
    captured = make_step(graph_model, TrainSpec(), x[0], y[0], fused=True, compile=compile, cuda_graph=True)
    assert isinstance(captured, FusedStep) and captured.prepare() > 0 and captured._graph is not None
    losses = []
    for step in (eager, captured):
        losses.append(torch.stack(_through_new_data(step, 30, x[1], y[1], 30)))
    torch.testing.assert_close(losses[1], losses[0], rtol=1e-5 if compile else 1e-6, atol=0)
    assert losses[0][-1] < losses[0][30]  # it trained on the new data
    for a, b in zip(eager_model.parameters(), graph_model.parameters()):  # relative to the largest magnitude
        assert float((a - b).abs().max() / a.abs().max()) < (1e-5 if compile else 1e-6)
    with pytest.raises(ValueError, match="keeps its data's shape"):
        captured.set_data(x[1, :10], y[1, :10])


def test_many_compiled_steps_of_many_shapes_all_run_compiled():
    """dynamo stops compiling a function after 8 shapes by default and silently runs it eagerly;
    every FusedStep shares one gradient function, so a long run must raise that limit."""
    import torch._dynamo.utils as dynamo_utils

    from relukan_bench.fused_step import FusedStep

    torch.manual_seed(0)
    steps = [make_step(ReLUKAN([2, 1], 5, 3, impl="fast"), TrainSpec(), torch.rand(n, 2), torch.rand(n, 1), fused=True, compile=True)
             for n in range(10, 21)]  # 11 shapes
    dynamo_utils.counters.clear()
    for step in steps:
        assert isinstance(step, FusedStep)
        step.prepare()
    assert dynamo_utils.counters["stats"]["unique_graphs"] == 11  # with dynamo's defaults: 8
    assert dynamo_utils.counters["frames"]["ok"] == 11
    dynamo_utils.counters.clear()
    for step in steps:
        step()
    assert not dynamo_utils.counters["frames"]  # every call ran its own compiled graph


def _three_models():
    """pytest params: a tiny model of every kind the autograd step trains, (name, factory)."""
    from relukan_bench.models.bspline import BSplineKAN
    from relukan_bench.models.kan import PyKAN

    return [
        pytest.param(lambda: ReLUKAN([2, 1], 3, 3, train_se=True, input_range=(0, 1), impl="reference"), id="relukan"),
        pytest.param(lambda: BSplineKAN([2, 1], 3, 3, grid_range=(0, 1)), id="bspline"),
        pytest.param(lambda: PyKAN([2, 1], grid=3, k=3, grid_range=(0, 1), seed=0), id="pykan"),
    ]


@pytest.mark.parametrize("build", _three_models())
def test_a_compiled_train_step_compiles_in_prepare_and_trains_as_the_eager_one(build):
    """compile=True: the forward, loss, backward and Adam step compiled in prepare(), which
    trains nothing; then the eager step's losses to compiler rounding, through new data and an
    optimizer reset (what forgetting does between phases), and nothing compiled after prepare."""
    import copy

    import torch._dynamo.utils as dynamo_utils

    torch.manual_seed(0)
    model = build()
    x, y = torch.rand(2, 32, 2), torch.sin(3 * torch.rand(2, 32, 1))
    eager = make_step(model, TrainSpec(lr=1e-2), x[0], y[0])
    compiled = make_step(copy.deepcopy(model), TrainSpec(lr=1e-2), x[0], y[0], compile=True)
    assert isinstance(compiled, TrainStep) and compiled.compile and not compiled.prepared
    before = [p.detach().clone() for p in compiled.model.parameters()]
    assert compiled.prepare() > 0 and compiled.prepared and compiled.prepare() < 0.1
    for a, b in zip(before, compiled.model.parameters()):
        assert torch.equal(a, b.detach())  # preparing trains nothing
    state = [t for s in compiled.optimizer.state.values() for t in s.values()]
    assert state and all(float(t.abs().sum()) == 0 for t in state)  # Adam's fresh state, built in place
    dynamo_utils.counters.clear()
    losses = []
    for step in (eager, compiled):
        losses.append(torch.stack(_through_new_data(step, 8, x[1], y[1], 8)))
    assert not dynamo_utils.counters["frames"]  # no compiling after prepare()
    assert_close_scaled(losses[1], losses[0], rtol=1e-4, what="compiled vs eager losses")
    assert losses[0][-1] < losses[0][8]  # it trained on the new data
    params = [torch.cat([p.detach().flatten() for p in s.model.parameters()]) for s in (eager, compiled)]
    assert_close_scaled(params[1], params[0], rtol=1e-4, what="compiled vs eager parameters")


def test_a_train_step_ignores_cuda_graph_on_the_cpu_and_compiles_with_adam_only():
    torch.manual_seed(0)
    model = ReLUKAN([1, 1], 5, 3)
    step = make_step(model, TrainSpec(), torch.rand(16, 1), torch.rand(16, 1), cuda_graph=True)
    assert isinstance(step, TrainStep) and not step.cuda_graph and step.prepared
    assert not step.optimizer.param_groups[0]["capturable"]
    assert torch.isfinite(step()) and step._graph is None
    with pytest.raises(ValueError, match="Adam"):
        TrainStep(model, torch.optim.SGD(model.parameters(), lr=0.1), torch.rand(16, 1), torch.rand(16, 1), compile=True)


@needs_cuda
@pytest.mark.parametrize("compile", [False, True], ids=["eager", "compiled"])
def test_a_captured_cuda_train_step_replays_the_eager_step(compile):
    """TrainStep with cuda_graph: forward, loss, backward and Adam recorded once and replayed:
    the eager step's losses and parameters, through new data, an optimizer reset and a pass of
    its eager phases (time_phases) between replays."""
    import copy

    from relukan_bench.timing import time_phases

    torch.manual_seed(0)
    eager_model = ReLUKAN([4, 4, 2, 1], 10, 3).cuda()
    graph_model = copy.deepcopy(eager_model)
    x, y = torch.rand(2, 1000, 4, device="cuda"), torch.rand(2, 1000, 1, device="cuda")
    # the same optimizer arithmetic on both sides: Adam's capturable variant
    eager = TrainStep(eager_model, make_optimizer(eager_model, TrainSpec(), capturable=True), x[0], y[0])
    captured = make_step(graph_model, TrainSpec(), x[0], y[0], compile=compile, cuda_graph=True)
    assert isinstance(captured, TrainStep) and captured.optimizer.param_groups[0]["capturable"]
    assert captured.prepare() > 0 and captured._graph is not None
    for a, b in zip(eager_model.parameters(), graph_model.parameters()):
        assert torch.equal(a, b)  # preparing (warm-up and capture) trains nothing
    losses = []
    for step in (eager, captured):
        curve = _through_new_data(step, 30, x[1], y[1], 15)
        time_phases(step, 3, "cuda")  # three eager steps
        curve += [step().clone() for _ in range(15)]
        losses.append(torch.stack(curve))
    rtol = 1e-4 if compile else 1e-6
    assert_close_scaled(losses[1], losses[0], rtol=rtol, what="captured vs eager losses")
    assert losses[0][-1] < losses[0][30]  # it trained on the new data
    params = [torch.cat([p.detach().flatten() for p in m.parameters()]) for m in (eager_model, graph_model)]
    assert_close_scaled(params[1], params[0], rtol=rtol, what="captured vs eager parameters")
    with pytest.raises(ValueError, match="keeps its data's shape"):
        captured.set_data(x[1, :10], y[1, :10])


# ----------------------------------------------------------------------------- LBFGS
def _sine(samples=64, seed=1):
    x = torch.rand(samples, 1, generator=torch.Generator().manual_seed(seed))
    return x, torch.sin(torch.pi * x)


def _relukan(seed=0, impl="reference"):
    torch.manual_seed(seed)
    return ReLUKAN([1, 1], grid=5, k=3, impl=impl)


def test_lbfgs_lowers_the_loss_more_per_step_than_adam_at_lr_1e_3():
    from relukan_bench.steps import LBFGSStep

    x, y = _sine()
    adam = make_step(_relukan(), TrainSpec(lr=1e-3), x, y)
    lbfgs = make_step(_relukan(), TrainSpec(lr=1.0), x, y, optimizer="lbfgs")
    assert isinstance(lbfgs, LBFGSStep) and isinstance(adam, TrainStep)
    first = [adam().item(), lbfgs().item()]
    assert first[0] == first[1]  # the same model and data: the same loss before the first update
    for _ in range(49):
        adam(), lbfgs()
    after = [mse(adam.model, x, y), mse(lbfgs.model, x, y)]
    assert after[1] < after[0] / 100 and after[1] < first[1] / 1000  # measured: 0.56 and 1e-5 from 1.06


def test_an_lbfgs_step_returns_the_loss_before_its_update():
    from relukan_bench.schema import LBFGSSpec

    x, y = _sine()
    for settings in (None, LBFGSSpec(max_iter=3, history_size=5), LBFGSSpec(line_search="none")):
        step = make_step(_relukan(), TrainSpec(lr=1.0), x, y, optimizer="lbfgs", lbfgs=settings)
        for _ in range(3):
            before, weights = mse(step.model, x, y), step.model.layers[0].linear.weight.detach().clone()
            loss = step()
            assert loss.item() == pytest.approx(before, rel=1e-6) and step.last_loss is loss
            assert not torch.equal(step.model.layers[0].linear.weight, weights)  # the step did update the model
            if step.optimizer.param_groups[0]["line_search_fn"] == "strong_wolfe":
                assert mse(step.model, x, y) < before  # the search accepts a decrease only
        assert step.prepare() == 0.0


def test_lbfgs_training_is_deterministic():
    x, y = _sine()
    x_test, y_test = _sine(16, seed=2)
    curves = [train_logged(make_step(_relukan(3), TrainSpec(lr=1.0), x, y, optimizer="lbfgs"), x_test, y_test, steps=30)
              for _ in range(2)]
    assert torch.equal(curves[0].losses, curves[1].losses) and not curves[0].diverged


@pytest.mark.parametrize("line_search,lr", [("strong_wolfe", 1e8), ("none", 1e3)])
def test_a_diverging_lbfgs_run_is_recorded_not_raised(line_search, lr):
    from relukan_bench.schema import LBFGSSpec

    x, y = _sine()
    step = make_step(_relukan(), TrainSpec(lr=lr), x, y, optimizer="lbfgs", lbfgs=LBFGSSpec(line_search=line_search))
    curve = train_logged(step, x[:8], y[:8], steps=CHUNK + 20)
    assert curve.diverged and curve.steps_done <= CHUNK
    assert not torch.isfinite(curve.losses[-1]).all() and torch.isfinite(curve.losses[:-1]).all()
    assert not torch.isfinite(step()).all()  # a step on the diverged model returns its NaN loss, updating nothing


def test_an_error_lbfgs_raises_on_nan_is_a_divergence_and_any_other_error_is_raised(monkeypatch):
    import torch.optim.lbfgs as lbfgs

    x, y = _sine()

    def search_into_nan(obj_func, x0, t, d, f, g, gtd, **kwargs):
        obj_func(x0, 1e30, d)  # a trial point far out: a non-finite loss
        raise RuntimeError("the search broke")

    monkeypatch.setattr(lbfgs, "_strong_wolfe", search_into_nan)
    step = make_step(_relukan(), TrainSpec(lr=1.0), x, y, optimizer="lbfgs")
    assert torch.isnan(step()).all()

    def search_that_breaks(obj_func, x0, t, d, f, g, gtd, **kwargs):
        raise RuntimeError("the search broke")

    monkeypatch.setattr(lbfgs, "_strong_wolfe", search_that_breaks)
    with pytest.raises(RuntimeError, match="the search broke"):
        make_step(_relukan(), TrainSpec(lr=1.0), x, y, optimizer="lbfgs")()


def test_lbfgs_is_never_fused_compiled_or_captured():
    from relukan_bench.kinds.relukan import ReLUKANSpec
    from relukan_bench.fused_step import FusedStep
    from relukan_bench.steps import LBFGSStep
    from relukan_bench.training import step_for

    x, y = _sine()
    for options in ({"fused": True}, {"compile": True}):
        with pytest.raises(ValueError, match="LBFGS step runs eagerly"):
            make_step(_relukan(impl="fast"), TrainSpec(), x, y, optimizer="lbfgs", **options)
    fast = {"name": "fast", "kind": "relukan", "impl": "fast"}
    assert isinstance(step_for(ReLUKANSpec(**fast), _relukan(impl="fast"), TrainSpec(), x, y), FusedStep)
    spec = ReLUKANSpec(**fast, optimizer="lbfgs", lr=1.0)
    step = step_for(spec, _relukan(impl="fast"), TrainSpec(), x, y)
    assert isinstance(step, LBFGSStep)  # the fast model through autograd (its cuda_graph default is off)
    reference = step_for(spec.model_copy(update={"impl": "reference"}), _relukan(), TrainSpec(), x, y)
    for _ in range(3):
        assert_close_scaled(step(), reference(), rtol=1e-5, what="fast vs reference LBFGS loss")
