"""Sizes by formula (kinds.Size) and `match:` (kinds.resolve): every kind's formula against the
model it builds, counts by hand, and the matching rule against a search over every grid."""

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from relukan_bench.config import load_config
from relukan_bench.errors import ConfigError
from relukan_bench.experiments.speed.config import SpeedConfig
from relukan_bench.kinds import build_model, kind_of, kinds, resolve, shaped, size_of, size_row
from relukan_bench.models import count_parameters

SHAPES = [([1, 1], 5, 3), ([2, 5, 1], 5, 3), ([4, 4, 2, 1], 10, 3), ([3, 2], 4, 3)]
BUILT_IN = ("relukan", "kan", "bspline", "mlp")


def entry(kind: str, **options):
    return kind_of(kind).entry.model_validate({"name": f"a-{kind}", "kind": kind, **options})


def shape(width, grid, k):
    return shaped(type("S", (), {"width": width, "grid": grid, "k": k}))


@pytest.mark.parametrize("width,grid,k", SHAPES)
def test_every_formula_counts_what_the_built_model_trains(width, grid, k):
    for name, kind in kinds().items():
        if kind.size is None or name == "plugin":
            continue
        if name in ("inkan", "flashkan") and k != 3:
            continue
        spec = entry(name)
        try:
            model = build_model(spec, shape(width, grid, k), (0.0, 1.0), 0)
        except ImportError:  # a peer package not installed here
            continue
        assert size_of(spec, shape(width, grid, k)).params == count_parameters(model), name


def test_built_in_kinds_counted_by_hand():
    f4, f5 = shape([2, 5, 1], 5, 3), shape([4, 4, 2, 1], 10, 3)
    # ReLU-KAN: per layer Linear(in*(G+k) -> out) with bias, s and e (in, G+k); macs in*(G+k)*out
    assert size_of(entry("relukan"), f4).params == (2 * 8 * 5 + 5 + 2 * 2 * 8) + (5 * 8 * 1 + 1 + 2 * 5 * 8)
    assert size_of(entry("relukan"), f4).macs == 2 * 8 * 5 + 5 * 8 * 1
    assert size_of(entry("relukan"), f5).params == (4 * 13 * 4 + 4 + 2 * 4 * 13) + (4 * 13 * 2 + 2 + 2 * 4 * 13) + (
        2 * 13 * 1 + 1 + 2 * 2 * 13)
    assert size_of(entry("relukan"), f5).macs == 4 * 13 * 4 + 4 * 13 * 2 + 2 * 13 * 1
    # B-spline KANs: per edge G+k coefficients, scale_base, scale_sp; pykan also applies two scales per node
    assert size_of(entry("bspline"), f4).params == size_of(entry("kan"), f4).params == (2 * 5 + 5 * 1) * (8 + 2)
    assert size_of(entry("bspline"), f4).macs == (2 * 5 + 5 * 1) * (8 + 1)
    assert size_of(entry("kan"), f5).macs == (16 + 8 + 2) * (13 + 2) + 2 * (4 + 2 + 1)
    # an MLP given its hidden widths
    assert size_of(entry("mlp", hidden=[7, 3]), f5).params == (4 * 7 + 7) + (7 * 3 + 3) + (3 * 1 + 1)
    assert size_of(entry("mlp", hidden=[7, 3]), f5).macs == 4 * 7 + 7 * 3 + 3


def matched_config(tmp_path: Path, models: str, width="[2, 5, 1]", grid=5) -> SpeedConfig:
    path = tmp_path / "speed.yaml"
    path.write_text(f"""\
experiment: speed
train: {{steps: 2}}
timing: {{repeats: 1, warmup_steps: 0}}
models:
  - {{name: relukan, kind: relukan}}
{models}
functions:
  - {{name: f4, expression: exp(sin(pi*x1) + x2**2), width: {width}, grid: {grid}, k: 3}}
""")
    return load_config(path, [], SpeedConfig)


def test_match_takes_the_largest_grid_not_above_the_target(tmp_path):
    config = matched_config(tmp_path, "  - {name: b, kind: bspline, match: relukan}\n  - {name: m, kind: mlp, match: relukan}")
    function = config.functions[0]
    goal = size_of(config.models[0], function).params  # 238
    b, m = config.models[1], config.models[2]
    fitting = [g for g in range(1, 200) if size_of(entry("bspline"), shape([2, 5, 1], g, 3)).params <= goal]
    resolved, resized, note = resolve(b, function)
    assert resized.grid == max(fitting) and note.startswith(f"grid {max(fitting)} (")
    assert size_of(b, function).params <= goal < size_of(entry("bspline"), shape([2, 5, 1], resized.grid + 1, 3)).params
    _, _, note = resolve(m, function)
    assert note.startswith("hidden ") and size_of(m, function).params <= goal
    model = build_model(b, function, (0.0, 1.0), 0)  # built as resolved
    assert count_parameters(model) == size_of(b, function).params
    assert size_row(b, function)["sized"] == resolve(b, function)[2] and size_row(config.models[0], function)["sized"] is None


@settings(max_examples=25, deadline=None)
@given(width=st.lists(st.integers(1, 6), min_size=2, max_size=4), grid=st.integers(1, 12))
def test_matched_sizes_never_exceed_and_one_step_more_would(width, grid):
    relukan, spline = entry("relukan"), entry("bspline", match="relukan")
    spline._target = relukan
    goal = size_of(relukan, shape(width, grid, 3)).params
    _, resized, _ = resolve(spline, shape(width, grid, 3))
    assert size_of(entry("bspline"), resized).params <= goal
    assert size_of(entry("bspline"), shaped(resized, grid=resized.grid + 1)).params > goal


def test_a_matched_mlp_of_a_wide_network_is_as_large_as_the_kan_it_matches(tmp_path):
    """[1000, 1000, 1] at grid 5, k 3: ReLU-KAN's 8,041,001 parameters; the MLP [1000, h, 1] has
    1002 h + 1, so h = 8024 (8,040,049), never a search bound's cap far below it."""
    config = matched_config(tmp_path, "  - {name: m, kind: mlp, match: relukan}", width="[1000, 1000, 1]")
    function, mlp = config.functions[0], config.models[1]
    goal = size_of(config.models[0], function).params
    _, _, note = resolve(mlp, function)
    assert goal == 8_041_001 and note == "hidden 8024 (8040049 <= 8041001 params of relukan)"
    assert size_of(mlp, function).params == 1002 * 8024 + 1 <= goal < 1002 * 8025 + 1


def test_bad_matches_are_refused_naming_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"models\[1\]\.match: expected the name of another model"):
        matched_config(tmp_path, "  - {name: b, kind: bspline, match: nothing}")
    with pytest.raises(ConfigError, match=r"models\[1\]\.match: expected the name of another model"):
        matched_config(tmp_path, "  - {name: b, kind: bspline, match: b}")
    with pytest.raises(ConfigError, match=r"models\[2\]\.match: expected the name of another model"):
        matched_config(tmp_path, "  - {name: b, kind: bspline, match: relukan}\n  - {name: c, kind: bspline, match: b}")
    # a target smaller than any grid of the matched kind: pykan's KAN at grid 1 has 5 per edge, ReLU-KAN's MLP ...
    with pytest.raises(ConfigError, match=r"models\[0\]\.match: .*even grid 1"):
        load_config_text(tmp_path, "  - {name: k, kind: kan, match: m}\n  - {name: m, kind: mlp, hidden: [1]}")


def load_config_text(tmp_path: Path, models: str) -> SpeedConfig:
    path = tmp_path / "small.yaml"
    path.write_text(f"""\
experiment: speed
models:
{models}
functions:
  - {{name: f, expression: x1*x2, width: [2, 5, 1], grid: 5, k: 3}}
""")
    return load_config(path, [], SpeedConfig)


def test_the_floor_matches_by_its_copies_whatever_the_grid(tmp_path):
    config = matched_config(tmp_path, "  - {name: floor, kind: linear, copies: 3, match: relukan}")
    _, _, note = resolve(config.models[1], config.functions[0])
    # [2, 5, 1] with c copies: (2c*5 + 5) + (5c*1 + 1) = 15c + 6 <= 238, so c = 15
    assert note == "copies 15 (231 <= 238 params of relukan)"
