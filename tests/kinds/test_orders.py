"""An entry's own order `k:` (kinds.reorder, applied by kinds.resolve): built at that order on
the grid that keeps the shape's G + k basis functions per edge, its size by formula what the
built model trains, a grid below 1 refused in one line, and a cubic-only peer on the k = 1
forgetting network."""

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from typer.testing import CliRunner

from relukan_bench.cli import app
from relukan_bench.config import load_config
from relukan_bench.errors import ConfigError
from relukan_bench.experiments.forgetting import EXPERIMENT as FORGETTING
from relukan_bench.experiments.forgetting.config import ForgettingConfig
from relukan_bench.experiments.speed.config import SpeedConfig
from relukan_bench.kinds import OrderError, build_model, kind_of, reorder, resolve, shaped, size_of, size_row
from relukan_bench.models import count_parameters
from relukan_bench.session import check

#: the kinds whose size grows with the basis functions per edge, G + k, and nothing else of the shape
BASES = ("relukan", "bspline", "kan", "rbf", "chebyshev", "fourier")
PEERS = ("inkan", "flashkan")


def entry(kind: str, **options):
    return kind_of(kind).entry.model_validate({"name": f"a-{kind}", "kind": kind, **options})


def shape(width, grid, k, name=None):
    found = shaped(type("S", (), {"width": width, "grid": grid, "k": k}))
    if name is not None:
        found.name = name
    return found


@settings(max_examples=60, deadline=None)
@given(grid=st.integers(1, 40), k=st.integers(0, 5), own=st.integers(0, 8))
def test_an_own_order_keeps_the_basis_count_or_is_refused(grid, k, own):
    spec = entry("bspline", k=own)
    if grid + k - own < 1:
        with pytest.raises(OrderError, match=f"k {own} leaves grid {grid + k - own} "):
            reorder(spec, shape([1, 1], grid, k))
        return
    built, note = reorder(spec, shape([1, 1], grid, k))
    assert built.k == own and built.grid + built.k == grid + k
    assert (note == "") == (own == k)
    if note:
        assert note == f"k {own}, grid {grid + k - own} ({grid + k} basis functions per edge as the shape's k {k}, grid {grid})"


SHAPES = [([1, 1], 25, 1, 3), ([2, 5, 1], 5, 3, 1), ([2, 3, 1], 6, 2, 3)]  # width, grid, k, the entry's k


@pytest.mark.parametrize("kind,width,grid,k,own", [(kind, *case) for kind in BASES + PEERS for case in SHAPES
                                                   if kind not in PEERS or case[-1] == 3])  # the peers: cubic only
def test_the_formula_counts_what_the_reordered_model_trains(kind, width, grid, k, own):
    if kind in PEERS:
        pytest.importorskip(kind)
    spec, on = entry(kind, k=own), shape(width, grid, k, name="f")
    model = build_model(spec, on, (0.0, 1.0), 0)
    assert size_of(spec, on).params == count_parameters(model)
    _, built, note = resolve(spec, on)
    assert (built.grid, built.k, built.name) == (grid + k - own, own, "f")
    assert size_row(spec, on)["sized"] == note and note.startswith(f"k {own}, grid {grid + k - own} (")
    if kind in BASES:  # the same basis functions per edge: the same size as at the shape's own order
        assert size_of(spec, on) == size_of(entry(kind), shape(width, grid + k - own, own))


def forgetting_config(tmp_path: Path, models: str, grid: int = 25, k: int = 1) -> ForgettingConfig:
    path = tmp_path / "forgetting.yaml"
    path.write_text(f"""\
experiment: forgetting
seeds: [0]
data: {{points: 40, segments: 2}}
network: {{width: [1, 1], grid: {grid}, k: {k}}}
train: {{steps_per_phase: 2}}
models:
  - {{name: relukan, kind: relukan}}
{models}
""")
    return load_config(path, [], ForgettingConfig)


def test_an_own_order_combines_with_match(tmp_path):
    config = forgetting_config(tmp_path, "  - {name: b, kind: bspline, k: 3, match: relukan}")
    spec = config.models[1]
    _, built, note = resolve(spec, config.network)
    goal = size_of(config.models[0], config.network).params  # 79: matched at the network's own shape
    assert built.k == 3 and size_of(spec, config.network).params <= goal
    assert size_of(entry("bspline"), shaped(built, grid=built.grid + 1)).params > goal
    assert note == f"k 3 (the shape's 1), grid {built.grid} ({size_of(spec, config.network).params} <= {goal} params of relukan)"


def test_a_grid_below_one_is_refused_naming_the_key_and_the_function(tmp_path):
    with pytest.raises(ConfigError, match=r"models\[1\]\.k: k 5 leaves grid 0 to keep the 5 basis functions per edge "
                                          r"of grid 4, k 1; expected k at most 4 on the network"):
        forgetting_config(tmp_path, "  - {name: b, kind: bspline, k: 5}", grid=4)
    path = tmp_path / "speed.yaml"
    path.write_text("""\
experiment: speed
models:
  - {name: relukan, kind: relukan}
  - {name: c, kind: chebyshev, k: 7}
functions:
  - {name: f1, expression: x1, width: [1, 1], grid: 10, k: 3}
  - {name: f2, expression: x1, width: [1, 1], grid: 3, k: 3}
""")
    with pytest.raises(ConfigError, match=r"models\[1\]\.k: k 7 leaves grid -1 .* on f2$"):
        load_config(path, [], SpeedConfig)


def test_the_cli_refuses_a_grid_below_one_in_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    forgetting_config(tmp_path, "")  # writes forgetting.yaml
    text = (tmp_path / "forgetting.yaml").read_text() + "  - {name: i, kind: rbf, k: 30}\n"
    (tmp_path / "forgetting.yaml").write_text(text)
    result = CliRunner().invoke(app, ["forgetting", "--config", "forgetting.yaml", "--out", "out"], terminal_width=120)
    assert result.exit_code == 2 and result.stdout == "", result.output
    assert result.stderr == ("error: forgetting.yaml: models[1].k: k 30 leaves grid -4 to keep the 26 basis functions "
                             "per edge of grid 25, k 1; expected k at most 25 on the network\n")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", PEERS)
def test_a_cubic_only_peer_with_k_3_builds_on_the_k_1_forgetting_network(tmp_path, kind):
    pytest.importorskip(kind)
    config = forgetting_config(tmp_path, f"  - {{name: peer, kind: {kind}, k: 3}}")
    check(FORGETTING, config, ["cpu"], None)  # the kind's check sees the shape it builds on: cubic
    spec = config.models[1]
    model = build_model(spec, config.network, (0.0, 1.0), 0)
    assert size_of(spec, config.network).params == count_parameters(model) == 1 * (23 + 3) + 1  # 26 coefficients, a base weight
    assert size_row(spec, config.network)["sized"] == ("k 3, grid 23 (26 basis functions per edge as the shape's k 1, "
                                                       "grid 25)")
    without = forgetting_config(tmp_path, f"  - {{name: peer, kind: {kind}}}")
    with pytest.raises(ConfigError, match=rf"models\[1\]\.kind: {kind} is cubic only: expected network.k: 3 \(got "
                                          r"network.k: 1\); or set k: 3 on this entry"):
        check(FORGETTING, without, ["cpu"], None)
