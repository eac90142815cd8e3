"""The pykan wrapper: speed mode, no files, no global side effects."""

import random

import numpy as np
import pytest
import torch

from relukan_bench.models.kan import PyKAN


@pytest.fixture
def in_empty_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_building_and_training_writes_nothing(in_empty_dir, capsys):
    width = [2, 5, 1]
    model = PyKAN(width, grid=5, k=3, seed=0)
    x = torch.rand(200, 2)
    y = torch.sin(torch.pi * x[:, :1]) + x[:, 1:] ** 2
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert list(in_empty_dir.iterdir()) == []  # no ./model checkpoints, nothing at all
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""  # no progress bar, no "saving model"
    assert losses[-1] < losses[0] / 2  # it really trains


def test_speed_mode_and_honest_parameter_count():
    model = PyKAN([2, 5, 1], grid=5, k=3)
    assert model.kan.symbolic_enabled is False
    assert model.kan.save_act is False
    assert model.kan.auto_save is False
    assert all(not p.requires_grad for p in model.kan.symbolic_fun.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    # coef (in, out, G+k) + scale_base (in, out) + scale_sp (in, out), per layer
    assert trainable == (2 * 5 * 8 + 2 * 2 * 5) + (5 * 1 * 8 + 2 * 5 * 1)
    assert model.spline_parameter_count() == 2 * 5 * 8 + 5 * 1 * 8


def test_leaves_global_random_state_and_width_alone():
    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    width = [4, 4, 2, 1]
    PyKAN(width, grid=10, k=3, seed=7)
    assert width == [4, 4, 2, 1]
    after = (torch.rand(3), np.random.rand(3), random.random())
    torch.testing.assert_close(after[0], expected[0])
    np.testing.assert_array_equal(after[1], expected[1])
    assert after[2] == expected[2]


def test_interface_seed_and_grid_range():
    x = torch.rand(16, 4)
    a, b, c = (PyKAN([4, 4, 2, 1], 10, 3, seed=s) for s in (1, 1, 2))
    assert a(x).shape == (16, 1)
    # The same seed gives the same model, bit for bit, spline coefficients included.
    for layer_a, layer_b, layer_c in zip(a.kan.act_fun, b.kan.act_fun, c.kan.act_fun):
        assert torch.equal(layer_a.scale_base, layer_b.scale_base)
        assert torch.equal(layer_a.coef, layer_b.coef)
        assert not torch.equal(layer_a.scale_base, layer_c.scale_base)
    assert torch.equal(a(x), b(x))
    k = 3
    grid = a.kan.act_fun[0].grid[0]  # extended grid: k points on each side of [0, 1]
    torch.testing.assert_close(grid[k], torch.tensor(0.0))
    torch.testing.assert_close(grid[-k - 1], torch.tensor(1.0))
    wide = PyKAN([1, 1], 5, 3, grid_range=(-1.0, 2.0)).kan.act_fun[0].grid[0]
    torch.testing.assert_close(wide[k], torch.tensor(-1.0))
    torch.testing.assert_close(wide[-k - 1], torch.tensor(2.0))


ADAM_LR1 = {"opt": "Adam", "lr": 1.0, "update_grid": True, "grid_update_num": 10, "start_grid_update_step": -1, "stop_grid_update_step": 50}


def _data(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, generator=g)
    return x, torch.sin(torch.pi * x)


def test_pykan_fit_returns_mse_and_is_silent(in_empty_dir, capfd):
    """pykan's fit() logs RMSE; pykan_fit gives MSE: its last test value is the model's test MSE."""
    (x, y), (x_test, y_test) = _data(200, 0), _data(50, 1)
    model = PyKAN([1, 1], grid=5, k=3, seed=0)
    state = np.random.get_state()
    losses = model.pykan_fit(x, y, x_test, y_test, steps=60, options=ADAM_LR1, seed=3)
    assert losses.shape == (60, 2) and losses.dtype == torch.float64
    with torch.no_grad():
        test_mse = torch.nn.functional.mse_loss(model(x_test), y_test).item()
    assert losses[-1, 1].item() == pytest.approx(test_mse, rel=1e-4)
    assert losses[-1, 0] < losses[0, 0] / 10  # it trains
    assert list(in_empty_dir.iterdir()) == []
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""  # pykan's tqdm bar replaced
    assert np.array_equal(np.random.get_state()[1], state[1])  # fit() drew from numpy: restored


def test_pykan_fit_grid_updates_move_the_grid_and_monitor_can_stop_it():
    (x, y), (x_test, y_test) = _data(200, 0), _data(50, 1)
    model = PyKAN([1, 1], grid=5, k=3, seed=0, grid_range=(-1.0, 2.0))
    before = model.kan.act_fun[0].grid.clone()
    seen = []

    def monitor(done):
        seen.append(done)
        return done < 12

    losses = model.pykan_fit(x, y, x_test, y_test, steps=40, options=ADAM_LR1, monitor=monitor)
    assert losses.shape == (12, 2) and model.steps_seen == 12
    assert seen == list(range(1, 13))
    assert not torch.equal(before, model.kan.act_fun[0].grid)  # the grid was fitted to the data in [0, 1)
    no_update = PyKAN([1, 1], grid=5, k=3, seed=0, grid_range=(-1.0, 2.0))
    no_update.pykan_fit(x, y, x_test, y_test, steps=10, options={**ADAM_LR1, "update_grid": False})
    assert torch.equal(before, no_update.kan.act_fun[0].grid)


def test_pykan_models_are_deterministic_though_its_lstsq_driver_is_not():
    """pykan fits its initial spline coefficients with torch.linalg.lstsq on rank-deficient
    systems; the CPU's default driver (gelsy) gives different answers from one call to the
    next (it depends on memory alignment), so PyKAN runs pykan's calls with gelsd."""
    from relukan_bench.models.kan import deterministic_lstsq

    torch.manual_seed(0)
    a, b = torch.rand(3, 11, 13), torch.rand(3, 11, 1)  # 11 points, 13 coefficients: rank-deficient
    original = torch.linalg.lstsq
    with deterministic_lstsq():
        solutions = [torch.linalg.lstsq(a, b).solution for _ in range(10)]
    assert all(torch.equal(s, solutions[0]) for s in solutions)
    assert torch.linalg.lstsq is original  # given back outside the scope
    coefs = [torch.cat([layer.coef.flatten() for layer in PyKAN([4, 4, 2, 1], 10, 3, seed=0).kan.act_fun]) for _ in range(6)]
    assert all(torch.equal(c, coefs[0]) for c in coefs)


def test_default_mode_is_pykans_constructor_and_computes_the_same_function(in_empty_dir):
    """`mode: default` keeps the symbolic branch (zero-masked at first, so the same outputs) and
    saved activations; it trains the symbolic branch's parameters too, as pykan's own model does."""
    from tests.close import assert_close_scaled

    fast, plain = PyKAN([2, 5, 1], grid=5, k=3, seed=3), PyKAN([2, 5, 1], grid=5, k=3, seed=3, mode="default")
    assert plain.kan.symbolic_enabled is True and plain.kan.save_act is True
    assert plain.mode == "default" and fast.mode == "speed"
    trainable = lambda model: sum(p.numel() for p in model.parameters() if p.requires_grad)  # noqa: E731
    assert trainable(plain) > trainable(fast)
    assert plain.spline_parameter_count() == fast.spline_parameter_count()
    x = torch.rand(64, 2)
    assert_close_scaled(plain(x), fast(x), rtol=1e-6, what="default vs speed mode at initialisation")
    assert list(in_empty_dir.iterdir()) == []  # no checkpoints in default mode either


def test_speed_compile_wraps_pykans_model_in_torch_compile():
    model = PyKAN([2, 1], grid=3, k=3, mode="speed-compile")
    assert type(model.kan).__name__ == "OptimizedModule" and model.inner.symbolic_enabled is False
    assert model.spline_parameter_count() == PyKAN([2, 1], grid=3, k=3).spline_parameter_count()


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="expected a pykan mode"):
        PyKAN([2, 1], grid=3, k=3, mode="fast")
