"""The configs the package ships, reachable by name from anywhere (`relukan-bench config`).

    listing()                         # [(name, experiment, purpose), ...]
    show("fit-paper-kan", ["train.steps=50"])   # the resolved YAML, ready to save
    copy("fit", Path("my-fit.yaml"))  # the shipped file with its comments, never over a file

Which experiment a config configures is told by `experiment=`, else by its `experiment:`
key, else by its name (`fit-paper-kan` configures `fit`), else by the one schema it validates
against.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from relukan_bench import resources
from relukan_bench.errors import ConfigError, UsageError, clip
from relukan_bench.experiments.protocol import experiments
from relukan_bench.results import write_output
from relukan_bench.yamlio import YamlError, loads, read_text

if TYPE_CHECKING:
    from relukan_bench.experiments.protocol import Experiment


def listing() -> list[tuple[str, str, str]]:
    """Every shipped config: its name, the experiment it configures and its one-line purpose."""
    return [(name, _declared(path) or _by_name(name) or "", resources.purpose(path))
            for name, path in resources.shipped_configs().items()]


def _declared(path: Path) -> str | None:
    """The `experiment:` key of the config at `path`, when it has a readable one."""
    try:
        data = loads(read_text(path))
    except (OSError, UnicodeDecodeError, YamlError):
        return None
    found = data.get("experiment") if isinstance(data, dict) else None
    return found if isinstance(found, str) else None


def _by_name(name: str) -> str | None:
    """The experiment a config's name starts with (`speed-baselines` -> `speed`), if any."""
    return next((exp for exp in experiments() if name == exp or name.startswith(exp + "-")), None)


def _named(name: str) -> Path:
    """A shipped config by name or a config file by path; UsageError naming both otherwise."""
    path = resources.find_config(name)
    try:
        found = path.is_file()
    except (OSError, ValueError):  # a name no file system takes (too long, a NUL)
        found = False
    if not found:
        raise UsageError(f"NAME {clip(name)!r}: neither a config file nor a shipped config "
                         f"(expected one of {', '.join(resources.shipped_configs())})")
    return path


def experiment_of(path: Path, experiment: str | None = None) -> Experiment:
    """The experiment that `path` configures (see the module's docstring)."""
    known = experiments()
    if experiment is not None:
        if experiment not in known:
            raise UsageError(f"--experiment {clip(experiment)!r}: expected one of {', '.join(known)}")
        return known[experiment]
    if (name := _declared(path)) in known or (name := _by_name(path.stem)) is not None:
        return known[name]
    fitting = [exp for exp in known.values() if _validates(path, exp)]
    if len(fitting) == 1:
        return fitting[0]
    raise UsageError(f"{path}: cannot tell which experiment it configures "
                     f"(expected --experiment {'|'.join(known)})")


def _validates(path: Path, exp: Experiment) -> bool:
    from relukan_bench.config import load_config  # pydantic: `config list` needs none

    try:
        load_config(path, [], exp.schema)
    except ConfigError:
        return False
    return True


def show(name: str, overrides: Sequence[str] = (), experiment: str | None = None) -> str:
    """The resolved config `name` (shipped name or path) with `overrides` applied: every key
    with its value, defaults included, as a run would record it in its config.yaml."""
    from relukan_bench.config import dump_config, load_config  # pydantic: `config list` needs none

    path = _named(name)
    exp = experiment_of(path, experiment)
    return dump_config(load_config(path, list(overrides), exp.schema))


def copy(name: str, dest: Path | None = None, force: bool = False) -> Path:
    """Copy the config `name` (with its comments) to `dest` (default: `<name>.yaml` here, or
    into `dest` when it is a directory); never over an existing file unless `force`, never over
    anything but a regular file, never over the config copied. The source must be a config of
    some experiment (ConfigError or UsageError naming it otherwise)."""
    source = _named(name)
    text = _config_text(source)
    target = Path(dest) if dest is not None else Path(source.name)
    if _is_dir(target):
        target = target / source.name
    if not _is_dir(target.parent):
        raise UsageError(f"{clip(str(target.parent))}: no such directory")
    write_output(target, text, [source], replace=force)
    return target


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):  # a name too long: not a directory, and check_output says why
        return False


def _config_text(path: Path) -> str:
    """The text of the config file at `path`, once it is known to configure some experiment
    (`experiment_of`) and to validate against that experiment's schema."""
    from relukan_bench.config import _read_yaml, load_config  # pydantic: `config list` needs none

    _read_yaml(path)  # a regular file, UTF-8, bounded, a YAML mapping: ConfigError naming it otherwise
    try:
        exp = experiment_of(path)
    except UsageError:
        raise UsageError(f"{clip(str(path), 240)}: expected a config of one of the experiments "
                         "(relukan-bench config list), with an experiment: key") from None
    load_config(path, [], exp.schema)
    return read_text(path)
