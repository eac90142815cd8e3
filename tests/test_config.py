"""Tests of relukan_bench.config: the shipped speed config, overrides, one-line error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from hypothesis import given, strategies as st

from relukan_bench.config import dump_config, load_config, select
from relukan_bench.errors import ConfigError, UsageError
from relukan_bench.experiments.fit.config import FitConfig
from relukan_bench.experiments.forgetting.config import ForgettingConfig
from relukan_bench.experiments.speed.config import SpeedConfig

SPEED_YAML = Path(__file__).parents[1] / "configs" / "speed.yaml"

PAPER_FUNCTIONS = [
    ("f1", "sin(pi*x1)", [1, 1], 5, 3),
    ("f2", "sin(pi*x1 + pi*x2)", [2, 1], 5, 3),
    ("f3", "arctan(x1 + x1*x2 + x2**2)", [2, 1, 1], 5, 3),
    ("f4", "exp(sin(pi*x1) + x2**2)", [2, 5, 1], 5, 3),
    ("f5", "exp(sin(x1**2 + x2**2) + sin(x3**2 + x4**2))", [4, 4, 2, 1], 10, 3),
]


def _minimal() -> dict[str, Any]:
    """A small valid speed config as plain data."""
    return {
        "experiment": "speed",
        "baseline": "kan",
        "train": {"steps": 5, "lr": 0.01},
        "models": [{"name": "relukan", "kind": "relukan"}, {"name": "kan", "kind": "kan"}],
        "functions": [
            {"name": "f1", "expression": "sin(pi*x1)", "width": [1, 1], "grid": 5, "k": 3},
            {"name": "f2", "expression": "x1*x2", "width": [2, 1], "grid": 5, "k": 3},
            {"name": "f3", "expression": "x1 + x2", "width": [2, 2, 1], "grid": 5, "k": 3},
        ],
    }


def _write(tmp_path: Path, data: Any, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _error(path: Path, overrides: list[str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides or [], SpeedConfig)
    message = str(info.value)
    assert "\n" not in message, message
    assert message.startswith(f"{path}: "), message
    return message


def _error_for(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> tuple[Path, str]:
    data = _minimal()
    change(data)
    path = _write(tmp_path, data)
    return path, _error(path)


# ----------------------------------------------------------------------------- the shipped config
def test_shipped_speed_config_is_the_papers_setting():
    config = load_config(SPEED_YAML, [], SpeedConfig)
    assert isinstance(config, SpeedConfig)
    assert config.experiment == "speed"
    got = [(f.name, f.expression, f.width, f.grid, f.k) for f in config.functions]
    assert got == PAPER_FUNCTIONS
    assert config.data.samples == 1000
    assert config.data.domain == [0.0, 1.0]
    assert config.train.steps == 500
    assert config.train.lr == 1e-3
    assert isinstance(config.train.lr, float)
    assert config.train.optimizer == "adam"
    assert config.train.loss == "mse"
    assert [m.name for m in config.models] == ["relukan", "kan", "relukan-fast", "bspline", "mlp"]
    assert [m.impl for m in config.models if m.kind == "relukan"] == ["reference", "fast"]
    assert [m.kind for m in config.models] == ["relukan", "kan", "relukan", "bspline", "mlp"]
    assert config.baseline == "kan"


def test_shipped_speed_config_targets_fit_their_widths():
    config = load_config(SPEED_YAML, [], SpeedConfig)
    assert [f.target().n_inputs for f in config.functions] == [1, 2, 2, 2, 4]
    assert [f.width[0] for f in config.functions] == [1, 2, 2, 2, 4]


def test_defaults_fill_missing_sections(tmp_path):
    config = load_config(_write(tmp_path, _minimal()), [], SpeedConfig)
    assert config.seed == 0
    assert config.threads == 1
    assert config.device == "cpu"
    assert config.data.samples == 1000
    assert config.data.domain == [0.0, 1.0]
    assert config.timing.repeats == 5
    assert config.timing.warmup_steps == 10
    assert config.train.steps == 5  # given in the file
    assert config.train.optimizer == "adam"


# ----------------------------------------------------------------------------- overrides
def test_override_sets_steps():
    config = load_config(SPEED_YAML, ["train.steps=50"], SpeedConfig)
    assert config.train.steps == 50
    assert config.train.lr == 1e-3  # the rest is untouched
    assert [f.grid for f in config.functions] == [5, 5, 5, 5, 10]


@pytest.mark.parametrize("key", ["functions.f1.grid", "functions[0].grid", "functions.0.grid"])
def test_override_selects_function_by_name_or_index(key):
    config = load_config(SPEED_YAML, [f"{key}=10"], SpeedConfig)
    assert [f.grid for f in config.functions] == [10, 5, 5, 5, 10]


def test_override_by_name_finds_a_later_item():
    config = load_config(SPEED_YAML, ["functions.f4.k=2", "functions[1].grid=7"], SpeedConfig)
    assert [f.k for f in config.functions] == [3, 3, 3, 2, 3]
    assert [f.grid for f in config.functions] == [5, 7, 5, 5, 10]


@pytest.mark.parametrize("text, value", [("1e-3", 0.001), ("2E-4", 0.0002), ("5e1", 50.0), ("0.5", 0.5), ("1.5e-2", 0.015)])
def test_override_reads_exponent_floats(text, value):
    config = load_config(SPEED_YAML, [f"train.lr={text}"], SpeedConfig)
    assert type(config.train.lr) is float
    assert config.train.lr == value


def test_exponent_float_without_dot_in_the_file(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(SPEED_YAML.read_text(encoding="utf-8").replace("lr: 1.0e-3", "lr: 2e-4"), encoding="utf-8")
    assert "lr: 2e-4" in path.read_text(encoding="utf-8")
    assert load_config(path, [], SpeedConfig).train.lr == 0.0002


def test_override_values_are_yaml():
    config = load_config(SPEED_YAML, ["functions.f2.width=[2, 3, 1]", "data.domain=[-1, 1]"], SpeedConfig)
    assert config.functions[1].width == [2, 3, 1]
    assert config.data.domain == [-1.0, 1.0]


def test_override_does_not_touch_the_file():
    before = SPEED_YAML.read_text(encoding="utf-8")
    load_config(SPEED_YAML, ["train.steps=50"], SpeedConfig)
    assert SPEED_YAML.read_text(encoding="utf-8") == before


@pytest.mark.parametrize(
    "override,fragments",
    [
        ("functions[9].grid=1", ["functions[9].grid=1"]),  # a missing index
        ("functions.f9.grid=1", ["f9"]),  # a missing name
        ("nokey", ["'nokey'", "key=value"]),  # no '='
        ("train.steps.x=1", ["train.steps"]),  # into a value
    ],
)
def test_unusable_overrides_are_refused(override, fragments):
    message = _error(SPEED_YAML, [override])
    assert all(fragment in message for fragment in fragments), message


def test_override_producing_an_invalid_value_names_the_override():
    message = _error(SPEED_YAML, ["train.steps=0"])
    assert message == f"{SPEED_YAML}: train.steps: expected a number > 0 (got 0) (set by override 'train.steps=0')"


def test_override_of_an_unknown_key_is_refused():
    message = _error(SPEED_YAML, ["train.stepz=3"])
    assert message.startswith(f"{SPEED_YAML}: train.stepz: unknown key")
    assert "override 'train.stepz=3'" in message


def test_invalid_value_from_the_file_does_not_blame_an_unrelated_override(tmp_path):
    data = _minimal()
    data["train"]["steps"] = 0
    path = _write(tmp_path, data)
    message = _error(path, ["functions.f1.grid=6"])
    assert message == f"{path}: train.steps: expected a number > 0 (got 0)"


# ----------------------------------------------------------------------------- error messages
def test_width_too_short_exact_message(tmp_path):
    path, message = _error_for(tmp_path, lambda d: d["functions"][2].update(width=[2]))
    assert message == f"{path}: functions[2].width: expected a list of at least 2 positive integers (got [2])"


def test_width_message_on_the_shipped_layout(tmp_path):
    # the example of the module docstring, on a copy of the shipped file
    data = yaml.safe_load(SPEED_YAML.read_text(encoding="utf-8"))
    data["functions"][2]["width"] = [2]
    path = _write(tmp_path, data, "speed.yaml")
    assert _error(path) == f"{path}: functions[2].width: expected a list of at least 2 positive integers (got [2])"


def test_unknown_top_level_key(tmp_path):
    path, message = _error_for(tmp_path, lambda d: d.update(stepz=3))
    assert message.startswith(f"{path}: stepz: unknown key")
    assert "stepz" in message and "unknown key" in message


def test_unknown_nested_key(tmp_path):
    path, message = _error_for(tmp_path, lambda d: d["train"].update(stepz=3))
    assert message.startswith(f"{path}: train.stepz: unknown key")
    assert "steps" in message  # lists the allowed keys


def test_steps_zero(tmp_path):
    path, message = _error_for(tmp_path, lambda d: d["train"].update(steps=0))
    assert message == f"{path}: train.steps: expected a number > 0 (got 0)"


def test_steps_not_an_integer(tmp_path):
    path, message = _error_for(tmp_path, lambda d: d["train"].update(steps="abc"))
    assert message == f"{path}: train.steps: expected an integer (got 'abc')"


def test_steps_float_is_not_an_integer(tmp_path):
    path, message = _error_for(tmp_path, lambda d: d["train"].update(steps=2.5))
    assert message.startswith(f"{path}: train.steps: expected an integer")


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda d: d["functions"][0].update(grid=0), "functions[0].grid: expected a number > 0 (got 0)"),
        (lambda d: d["functions"][1].update(k=-1), "functions[1].k: expected a number >= 0 (got -1)"),
        (lambda d: d["train"].update(lr=0), "train.lr: expected a number > 0"),
        (lambda d: d["train"].update(lr=-1), "train.lr: expected a number > 0"),
        (lambda d: d.update(data={"samples": 0}), "data.samples: expected a number > 0 (got 0)"),
        (lambda d: d.update(functions=[]), "functions: expected at least 1 item"),
        (lambda d: d.update(models=[]), "models: expected at least 1 item"),
        (lambda d: d["functions"][1].update(name="f1"), "functions[1].name: expected a name not used before in functions (got 'f1' again)"),
        (lambda d: d["models"][1].update(name="relukan"), "models[1].name: expected a name not used before in models (got 'relukan' again)"),
        (lambda d: d.update(baseline="nope"), "baseline: "),
        (lambda d: d["models"][0].update(kind="transformer"), "models[0].kind: "),
        (lambda d: d.update(experiment="fit"), "experiment: "),
        (lambda d: d.update(device="tpu"), "device: "),
        (lambda d: d.update(data={"domain": [1, 0]}), "data.domain: "),
        (lambda d: d["functions"][0].update(name="f 1"), "functions[0].name: "),
    ],
)
def test_invalid_values_are_reported_under_their_key(tmp_path, change, expected):
    path, message = _error_for(tmp_path, change)
    assert message.startswith(f"{path}: {expected}"), message


def test_lr_zero_and_negative_show_the_value(tmp_path):
    _, message = _error_for(tmp_path, lambda d: d["train"].update(lr=0))
    assert message.endswith("(got 0)")
    _, message = _error_for(tmp_path, lambda d: d["train"].update(lr=-1))
    assert message.endswith("(got -1)")


def test_baseline_names_the_models(tmp_path):
    path, message = _error_for(tmp_path, lambda d: d.update(baseline="nope"))
    assert "'nope'" in message and "relukan" in message and "kan" in message


def test_unknown_model_kind_lists_the_kinds(tmp_path):
    path, message = _error_for(tmp_path, lambda d: d["models"][0].update(kind="transformer"))
    assert message == f"{path}: models[0].kind: expected one of 'relukan', 'kan', 'mlp', 'bspline', 'plugin', 'rbf', 'chebyshev', 'fourier', 'inkan', 'flashkan', 'linear' (got 'transformer')"


def test_experiment_of_another_kind(tmp_path):
    path, message = _error_for(tmp_path, lambda d: d.update(experiment="fit"))
    assert message == f"{path}: experiment: expected 'speed' (got 'fit')"


def test_expression_wider_than_the_width(tmp_path):
    path, message = _error_for(tmp_path, lambda d: d["functions"][0].update(expression="x1 + x3"))
    assert message.startswith(f"{path}: functions[0].width: ")
    assert "x3" in message
    assert "[1, 1]" in message


def test_refused_expression_is_reported_under_its_key(tmp_path):
    path, message = _error_for(tmp_path, lambda d: d["functions"][0].update(expression="__import__('os').system('ls')"))
    assert message.startswith(f"{path}: functions[0].expression: ")
    assert "__import__" in message


def test_expression_that_is_not_text(tmp_path):
    path, message = _error_for(tmp_path, lambda d: d["functions"][0].update(expression=5))
    assert message.startswith(f"{path}: functions[0].expression: ")


def test_last_width_must_be_one(tmp_path):
    path, message = _error_for(tmp_path, lambda d: d["functions"][1].update(width=[2, 2]))
    assert message.startswith(f"{path}: functions[1].width: ")
    assert "last width" in message and "[2, 2]" in message


@pytest.mark.parametrize("width", [[2, 0], [2, -1], [2, True], "2, 1", [2, 1.0]])
def test_width_entries_must_be_positive_integers(tmp_path, width):
    path, message = _error_for(tmp_path, lambda d: d["functions"][1].update(width=width))
    assert message.startswith(f"{path}: functions[1].width: expected a list of at least 2 positive integers (got ")


def test_missing_required_key(tmp_path):
    path, message = _error_for(tmp_path, lambda d: d["functions"][0].pop("grid"))
    assert message == f"{path}: functions[0].grid: missing required key"


def test_yaml_syntax_error(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("a: [1, 2", encoding="utf-8")
    message = _error(path)
    assert message.startswith(f"{path}: invalid YAML at line")


def test_yaml_syntax_error_line_number(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("seed: 0\nthreads: 1\ntrain: {steps: 5\n", encoding="utf-8")
    message = _error(path)
    assert message.startswith(f"{path}: invalid YAML at line 4")


def test_top_level_list_is_refused(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    message = _error(path)
    assert "mapping" in message


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    _error(path)


def test_missing_file(tmp_path):
    path = tmp_path / "missing.yaml"
    assert _error(path) == f"{path}: config file not found"


def test_directory_instead_of_file(tmp_path):
    assert "directory" in _error(tmp_path)


def test_yaml_tags_are_not_executed(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("seed: !!python/object/apply:os.system ['echo hi']\n", encoding="utf-8")
    assert "invalid YAML" in _error(path)


# ----------------------------------------------------------------------------- select
def test_select_functions_keeps_config_order():
    config = load_config(SPEED_YAML, [], SpeedConfig)
    selected = select(config, functions=["f4", "f1"])
    assert [f.name for f in selected.functions] == ["f1", "f4"]
    assert [f.expression for f in selected.functions] == ["sin(pi*x1)", "exp(sin(pi*x1) + x2**2)"]
    assert [m.name for m in selected.models] == ["relukan", "kan", "relukan-fast", "bspline", "mlp"]
    assert [f.name for f in config.functions] == ["f1", "f2", "f3", "f4", "f5"]  # the original is unchanged


def test_select_models():
    config = load_config(SPEED_YAML, [], SpeedConfig)
    selected = select(config, models=["kan"])
    assert [m.name for m in selected.models] == ["kan"]
    assert len(selected.functions) == 5


def test_select_nothing_is_the_same_config():
    config = load_config(SPEED_YAML, [], SpeedConfig)
    assert select(config) == config
    assert select(config, functions=[], models=None) == config


def test_select_unknown_model():
    config = load_config(SPEED_YAML, [], SpeedConfig)
    with pytest.raises(UsageError) as info:
        select(config, models=["nope"])
    assert "--models" in str(info.value) and "nope" in str(info.value)


def test_select_unknown_function():
    config = load_config(SPEED_YAML, [], SpeedConfig)
    with pytest.raises(UsageError) as info:
        select(config, functions=["f1", "f9"])
    assert "--functions" in str(info.value) and "f9" in str(info.value)


# ----------------------------------------------------------------------------- dump
def test_dump_config_round_trips(tmp_path):
    config = load_config(SPEED_YAML, ["train.steps=50", "functions.f2.grid=7"], SpeedConfig)
    path = tmp_path / "dumped.yaml"
    path.write_text(dump_config(config), encoding="utf-8")
    again = load_config(path, [], SpeedConfig)
    assert again == config
    assert again.train.steps == 50
    assert again.functions[1].grid == 7


def test_dump_config_round_trips_non_default_fields(tmp_path):
    data = _minimal()
    data["models"][1]["grid_range"] = [-1, 2]
    data["models"][0]["train_se"] = False
    data["train"]["lr"] = 1e-5
    config = load_config(_write(tmp_path, data, "in.yaml"), [], SpeedConfig)
    path = tmp_path / "dumped.yaml"
    path.write_text(dump_config(config), encoding="utf-8")
    again = load_config(path, [], SpeedConfig)
    assert again == config
    assert again.models[1].grid_range == [-1.0, 2.0]
    assert again.models[0].train_se is False
    assert again.train.lr == 1e-5


def test_dump_config_round_trips_names_that_look_like_numbers(tmp_path):
    data = _minimal()
    data["functions"][0]["name"] = "1e5"
    text = yaml.safe_dump(data, sort_keys=False).replace("name: 1e5", "name: '1e5'")  # as a user quotes it
    source = tmp_path / "in.yaml"
    source.write_text(text, encoding="utf-8")
    config = load_config(source, [], SpeedConfig)
    assert config.functions[0].name == "1e5"
    path = tmp_path / "dumped.yaml"
    path.write_text(dump_config(config), encoding="utf-8")
    assert load_config(path, [], SpeedConfig) == config


def test_cross_field_error_names_the_override_that_caused_it(tmp_path):
    path = _write(tmp_path, _minimal())
    message = _error(path, ["functions.f2.expression=x1*x3"])
    assert message == (
        f"{path}: functions[1].width: the expression uses x3, so width[0] must be at least 3 (got [2, 1]) "
        "(set by override 'functions.f2.expression=x1*x3')"
    )
    # the override that set the key is blamed, an unrelated one is not
    message = _error(path, ["seed=3", "baseline=nope"])
    assert message.endswith("(got 'nope') (set by override 'baseline=nope')") and "seed" not in message


# ----------------------------------------------------------------------------- fit configs
FIT_FUNCTIONS = [
    ("f1", "sin(pi*x1)", [1, 1], 5, 3),
    ("f2", "sin(5*pi*x1) + x1", [1, 1], 5, 3),
    ("f3", "exp(x1)", [1, 1], 5, 3),
    ("f4", "sin(pi*x1 + pi*x2)", [2, 5, 1], 5, 3),
    ("f5", "exp(sin(pi*x1) + x2**2)", [2, 5, 1], 5, 3),
    ("f6", "exp(sin(pi*x1**2 + pi*x2**2) + sin(pi*x3**2 + pi*x4**2))", [4, 4, 2, 1], 10, 3),
]
CONFIGS = Path(__file__).parents[1] / "configs"


def _fit(name: str) -> FitConfig:
    return load_config(CONFIGS / name, [], FitConfig)


def test_shipped_fit_config_is_the_papers_setting():
    config = _fit("fit.yaml")
    assert [(f.name, f.expression, f.width, f.grid, f.k) for f in config.functions] == FIT_FUNCTIONS
    assert (config.data.train_samples, config.data.test_samples, config.data.domain) == (1000, 100, [0.0, 1.0])
    assert (config.train.steps, config.train.optimizer, config.train.lr, config.train.loss) == (5000, "adam", 1e-3, "mse")
    assert config.train.log_every == 1 and config.seeds == [0, 1, 2]
    assert [(m.name, m.kind) for m in config.models] == [("relukan", "relukan"), ("kan", "kan"), ("relukan-fast", "relukan"),
                                                           ("bspline", "bspline"), ("mlp", "mlp")]
    reference, fast = config.models[0], config.models[2]
    assert fast.model_dump() == {**reference.model_dump(), "name": "relukan-fast", "impl": "fast"}
    assert config.models[0].train_se and config.models[1].pykan_fit is None  # both trained by our loop
    assert all(m.lr is None for m in config.models) and config.baseline == "kan"


def test_fit_as_run_differs_from_the_default_only_in_f3_and_f6():
    default, as_run = _fit("fit.yaml"), _fit("fit-as-run.yaml")
    f3, f6 = as_run.functions[2], as_run.functions[5]
    assert f3.expression == "x1**2 + x1 + 1"
    assert (f6.width, f6.grid) == ([4, 2, 2, 1], 5)
    changed = [a.name for a, b in zip(as_run.functions, default.functions) if a != b]
    assert changed == ["f3", "f6"]
    assert as_run.model_copy(update={"functions": default.functions}) == default


def test_fit_paper_kan_trains_kan_with_pykans_fit_adam_lr_1():
    config = _fit("fit-paper-kan.yaml")
    kan = config.models[1]
    assert (kan.name, kan.kind, config.baseline) == ("kan-pykan-fit", "kan", "kan-pykan-fit")
    assert kan.pykan_fit.opt == "Adam" and kan.pykan_fit.lr == 1.0 and kan.pykan_fit.update_grid
    assert config.models[0] == _fit("fit.yaml").models[0]
    assert config.functions == _fit("fit.yaml").functions


def _fit_error(overrides: list[str]) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(CONFIGS / "fit-paper-kan.yaml", overrides, FitConfig)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    "overrides,expected",
    [
        (["seeds=[0, 0]"], "seeds: expected distinct seeds (got [0, 0]) (set by override 'seeds=[0, 0]')"),
        (["seeds=[]"], "seeds: expected at least 1 item(s) (got [])"),
        (["train.log_every=0"], "train.log_every: expected a number > 0 (got 0)"),
        (["models[1].pykan_fit.opt=SGD"], "models[1].pykan_fit.opt: expected 'Adam' or 'LBFGS' (got 'SGD')"),
        (["models[1].pykan_fit.lr=-1"], "models[1].pykan_fit.lr: expected a number > 0.0 (got -1)"),
        (["models[1].pykan_fit.stop_grid_update_step=5"],
         "models[1].pykan_fit.stop_grid_update_step: expected at least grid_update_num (10) when update_grid is true (got 5)"),
        (["models[1].lr=0.1"], "models[1].lr: pykan's fit() takes its learning rate from pykan_fit.lr; remove lr"),
        (["models[0].pykan_fit={}"], "models[0].pykan_fit: unknown key"),
        (["data.samples=10"], "data.samples: unknown key (expected one of: train_samples, test_samples, validation_samples, domain)"),
    ],
)
def test_fit_config_errors(overrides, expected):
    assert expected in _fit_error(overrides)


def test_speed_refuses_pykan_fit(tmp_path):
    data = _minimal()
    data["models"][1]["pykan_fit"] = {"opt": "Adam"}
    path = _write(tmp_path, data)
    assert _error(path) == f"{path}: models[1].pykan_fit: speed times our training loop only; pykan's fit() also evaluates, logs and updates grids (use it in fit)"


def test_a_model_may_set_its_own_learning_rate(tmp_path):
    data = _minimal()
    data["models"].append({"name": "kan-fast", "kind": "kan", "lr": 0.5})
    config = load_config(_write(tmp_path, data), [], SpeedConfig)
    assert config.models[2].lr == 0.5 and config.models[0].lr is None


# ----------------------------------------------------------------------------- forgetting configs
def test_shipped_forgetting_config_is_the_papers_setting():
    config = load_config(CONFIGS / "forgetting.yaml", [], ForgettingConfig)
    data, train, network = config.data, config.train, config.network
    assert (data.points, data.segments, data.sigma, data.scale, data.domain) == (5000, 5, 5.0, 0.08, [0.0, 1.0])
    assert (network.width, network.grid, network.k) == ([1, 1], 25, 1)
    assert (train.steps_per_phase, train.optimizer, train.lr, train.reset_optimizer) == (250, "adam", 1e-3, False)
    assert config.seeds == [0, 1, 2] and config.threads == 1
    assert [(m.name, m.kind) for m in config.models] == [
        ("relukan", "relukan"), ("relukan-fixed-se", "relukan"), ("relukan-fast", "relukan"), ("kan", "kan"),
        ("mlp", "mlp"), ("mlp-lr1e-2", "mlp"),
    ]
    assert config.models[0].train_se and not config.models[1].train_se
    assert config.models[2].model_dump() == {**config.models[0].model_dump(), "name": "relukan-fast", "impl": "fast"}
    assert config.models[4].hidden is None and config.models[4].lr is None and config.models[5].lr == 1e-2


def _forgetting_error(overrides: list[str]) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(CONFIGS / "forgetting.yaml", overrides, ForgettingConfig)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{CONFIGS / 'forgetting.yaml'}: ")
    return message


@pytest.mark.parametrize(
    "overrides,expected",
    [
        (["network.width=[2, 1]"], "network.width: expected one input and one output, e.g. [1, 1] (got [2, 1])"),
        (["network.width=[1]"], "network.width: expected a list of at least 2 positive integers (got [1])"),
        (["network.grid=0"], "network.grid: expected a number > 0 (got 0)"),
        (["network.k=-1"], "network.k: expected a number >= 0 (got -1)"),
        (["data.points=4999"], "data.points: expected a multiple of segments (5) with at least 2 points per segment (got 4999)"),
        (["data.segments=1"], "data.segments: expected a number >= 2 (got 1)"),
        (["data.sigma=0"], "data.sigma: expected a number > 0.0 (got 0)"),
        (["train.steps_per_phase=0"], "train.steps_per_phase: expected a number > 0 (got 0)"),
        (["train.steps=10"], "train.steps: unknown key (expected one of: steps_per_phase,"),
        (["train.reset_optimizer=maybe"], "train.reset_optimizer: expected true or false (got 'maybe')"),
        (["models.mlp.hidden=[]"], "models[4].hidden: expected at least 1 item(s) (got [])"),
        (["models.mlp.hidden=[0]"], "models[4].hidden[0]: expected a number > 0 (got 0)"),
        (["models.mlp.activation=gelu"], "models[4].activation: expected 'relu', 'silu' or 'tanh' (got 'gelu')"),
        (["models.kan.pykan_fit={}"], "models[3].pykan_fit: forgetting trains every model by our loop"),
        (["models[1].name=relukan"], "models[1].name: expected a name not used before in models (got 'relukan' again)"),
        (["functions=[]"], "functions: unknown key"),
    ],
)
def test_forgetting_config_errors(overrides, expected):
    assert expected in _forgetting_error(overrides)


def test_forgetting_config_round_trips(tmp_path):
    config = load_config(CONFIGS / "forgetting.yaml", ["models.mlp.hidden=[8, 8]", "train.reset_optimizer=true"], ForgettingConfig)
    path = tmp_path / "dumped.yaml"
    path.write_text(dump_config(config))
    assert load_config(path, [], ForgettingConfig) == config


# ----------------------------------------------------------------------------- any override at all
@pytest.fixture(scope="module")
def minimal_path(tmp_path_factory) -> Path:
    return _write(tmp_path_factory.mktemp("override"), _minimal())


_KEY_PARTS = ["functions", "models", "train", "data", "timing", ".", "[", "]", "[0]", "[2]", "[99999999999]", "f1",
              "relukan", "steps", "lr", "grid", "width", "expression", "name", "kind", "seed", "\u00b2", "\u0661", " ", ""]
_VALUE_PARTS = ["1", "0", "-1", "010", "0x10", "1:30", "1e-3", ".inf", ".nan", "9" * 50, "[", "]", "{", "}", ",", ": ",
                "&a ", "*a", "'", '"', "\n", "-", "null", "true", "sin(pi*x1)", "-" * 500 + "x1", "!!python/object:os.system",
                "relukan", "x1*x2", "[1, 1]", "{steps: 1, steps: 2}"]


@given(st.one_of(
    st.text(max_size=80),
    st.tuples(st.lists(st.sampled_from(_KEY_PARTS), max_size=8).map("".join), st.sampled_from(["=", "", "=="]),
              st.lists(st.sampled_from(_VALUE_PARTS), max_size=12).map("".join)).map("".join),
))
def test_any_override_loads_or_is_refused_with_the_one_line_error(minimal_path, raw):
    """The override parser's whole contract: a validated config, or ConfigError with one line
    naming the file; never another exception, whatever the text."""
    try:
        config = load_config(minimal_path, [raw], SpeedConfig)
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith(f"{minimal_path}: ") and "\n" not in message and len(message) < 1000, message
        return
    assert isinstance(config, SpeedConfig)
    dump_config(config)  # what loads can be written, and loads again


@given(suffix=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-.", max_size=12))
def test_model_names_starting_with_paper_are_refused_in_every_experiment(suffix):
    """Tables name the paper's columns `paper…` beside each model's (`paper_gain` beside
    `<model>_gain`): a model so named would write a column twice, so every such name is refused."""
    name = "paper" + suffix
    for config, kind in (("speed.yaml", SpeedConfig), ("fit.yaml", FitConfig), ("forgetting.yaml", ForgettingConfig)):
        path = SPEED_YAML.parent / config
        with pytest.raises(ConfigError) as info:
            load_config(path, [f"models[1].name={name}"], kind)
        message = str(info.value)
        assert "\n" not in message and message.startswith(f"{path}: "), message
        assert f"models[1].name: expected a name not starting with 'paper'" in message, message


def test_a_tuned_model_named_paper_is_refused(tmp_path):
    data = yaml.safe_load((SPEED_YAML.parent / "fit.yaml").read_text(encoding="utf-8"))
    data["models"][1].update(name="paper", tune=[{"lr": 0.01}])
    data["baseline"] = "relukan"
    path = _write(tmp_path, data)
    with pytest.raises(ConfigError, match="expected a name not starting with 'paper'"):
        load_config(path, [], FitConfig)
