"""Run directories being written: opening a new run, or resuming an interrupted one, and
closing it. The driver (relukan_bench.runner) owns the directory through a `Session`.

Nothing is written before every check has passed: the config (file, `--quick`, options,
overrides) validates, the devices exist, the experiment's context (the paper's numbers) reads
and every model entry passes its kind's check (a plugin builds and has the right shape). With
`Request.resume` the directory of an interrupted run is reopened instead: its config and
environment must be the recorded ones, the rows of units a kill cut short are dropped, and the
finished units are kept byte for byte.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, Sequence

from relukan_bench import resources
from relukan_bench.config import differences, dump_config, load_config, select
from relukan_bench.env import code_change, commits, environment, run_sessions, utc_now
from relukan_bench.errors import ConfigError, UsageError, clip
from relukan_bench.executors import Execution, resolve
from relukan_bench.kinds import EntryError, ModelKind, kind_of
from relukan_bench.kinds import resolve as resolve_entry
from relukan_bench.limits import check_demand
from relukan_bench.pykan_envs import installed, needs_environment
from relukan_bench.records import Row, columns_of
from relukan_bench.results import (
    CsvLog,
    Unreadable,
    mapping_of,
    new_run_dir,
    read_log,
    read_mapping,
    remove_temporaries,
    write_csv,
    write_json,
    write_text,
)
from relukan_bench.schema import ModelEntry, Strict

if TYPE_CHECKING:
    from relukan_bench.experiments.protocol import Experiment


@dataclass
class Request:
    """What the user asked for, before any validation."""

    config: Path | None = None
    overrides: Sequence[str] = ()
    options: Sequence[str] = ()  # CLI options already turned into key=value overrides
    functions: Sequence[str] | None = None
    models: Sequence[str] | None = None
    out: Path | None = None
    quick: bool = False
    tuned: bool = False  # reproduce: also the parts experiments declare for it (fit-tuned)
    peers: bool = False  # reproduce: also the field's KANs (speed-peers, speed-scale, fit-peers, forgetting-peers)
    resume: Path | None = None  # an interrupted run directory to finish
    workers: int | None = 1  # units at once (None: the experiment's default, every core; relukan_bench.executors)
    executor: str = "local"  # local | dask
    address: str | None = None  # a Dask scheduler's address (None: a local cluster)


def resolve_config(request: Request, exp: Experiment) -> Any:
    """The validated config of `request` for the experiment `exp`: file, then `--quick`,
    options, overrides."""
    path = config_path(request, exp)
    overrides = [*(exp.command.quick if request.quick else []), *request.options, *request.overrides]
    config: Strict = load_config(path, overrides, exp.schema)
    return select(config, functions=request.functions, models=request.models)


def config_path(request: Request, exp: Experiment) -> Path:
    """The config file of `request`: its `--config` (a path, or a shipped config's name), else
    the experiment's default."""
    return resources.find_config(request.config) if request.config is not None else resources.default_config(exp.name)


#: What must not change between the sessions of one run (`--resume`).
SAME_ENVIRONMENT = ("cpu", "gpu", "python", "torch", "pykan", "numpy", "threads")


@dataclass
class Session:
    """A run directory being written by this process: its config and devices, its environment
    record, its per-unit logs, the records of the units earlier sessions finished, and the
    experiment's context."""

    run_dir: Path
    config: Any  # an instance of the experiment's `schema`
    devices: list[str]
    env: dict[str, Any]
    logs: dict[str, CsvLog]  # table -> its per-unit log
    loaded: dict[str, list[dict[str, Any]]]  # table -> records of finished units, as written
    context: object = None
    lock: RunLock | None = None
    execution: Execution | None = None  # workers decided
    warning: str | None = None  # what the execution makes of the results (speed timed in parallel)

    def record(self, rows: Mapping[str, Iterable[Row]]) -> None:
        """Write one finished unit's rows, table by table in the declared order, so that the
        commit log comes last: until its row is on disk the unit counts as unfinished."""
        for name, log in self.logs.items():
            log.extend(rows.get(name, ()))

    def note(self, **fields: object) -> None:
        """Record how this session runs in env.json: on the run, or on its latest `resumed` entry."""
        (self.env["resumed"][-1] if self.env.get("resumed") else self.env).update(fields)
        write_json(self.run_dir / "env.json", self.env)

    def rewrite(self, units: Sequence[Mapping[str, Iterable[Row]]]) -> None:
        """Write the per-unit logs again with the units' rows in the order of `units`, each
        file replaced at once and the commit log last (parallel workers finish in any order)."""
        for name, log in self.logs.items():
            write_csv(log.path, log.columns, [row for rows in units for row in rows.get(name, ())])

    def close(self, interrupted: bool) -> None:
        try:
            close_run(self.run_dir, self.env, interrupted)
        finally:
            self.release()

    def release(self) -> None:
        """Let go of the run directory (also when the run ends in an exception)."""
        if self.lock is not None:
            self.lock.release()


class RunLock:
    """This process's exclusive hold on a run directory, so that two processes never write one
    run (two `--resume` of it at once). An `flock` on the directory itself: no file is created,
    and the kernel lets go when the process ends, `kill -9` included. Where `fcntl` does not
    exist (Windows) nothing is locked."""

    def __init__(self, run_dir: Path, option: str = "--resume"):
        self.fd: int | None = None
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return
        fd = os.open(run_dir, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise UsageError(f"{option} {run_dir}: another relukan-bench process is writing this run; "
                             "wait for it to end (or stop it) and try again") from None
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor drops the lock
            self.fd = None


def being_written(run_dir: Path) -> bool:
    """Whether another process holds `run_dir`'s `RunLock` (it is writing the run now)."""
    try:
        import fcntl

        fd = os.open(run_dir, os.O_RDONLY | os.O_DIRECTORY)
    except (ImportError, OSError):
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)  # and with it the shared lock, if it was taken


def check(exp: Experiment, config: Any, devices: Sequence[str], path: Path | None, workers: int = 1) -> object:
    """Every check that needs more than the config's schema, before anything is written or
    allocated: what the config asks for against the limits (relukan_bench.limits; `workers`
    units train at once on this machine), each model entry's kind check on the shapes it is
    built on (its own `k` and `match` applied: kinds.resolve; ConfigError naming the key), then
    the experiment's context."""
    where = path or resources.default_config(exp.name)
    check_demand(exp.demand(config, devices), exp.shapes(config), devices, where, workers)
    for index, entry in enumerate(getattr(config, "models", ())):
        kind = kind_of(entry)
        _check_elsewhere(exp, kind, entry, f"{where}: models[{index}]")
        if kind.check is not None:
            try:
                kind.check(entry, [resolve_entry(entry, shape)[1] for shape in exp.shapes(config)], exp.domain(config))
            except EntryError as exc:
                raise ConfigError(f"{where}: models[{index}].{exc.key}: {exc.message}") from None
    return exp.context(config)


def _check_elsewhere(exp: Experiment, kind: ModelKind, entry: ModelEntry, where: str) -> None:
    """An entry that must run in another pykan's worker needs an experiment that runs workers."""
    version = (kind.pykan(entry) or (None, None))[0]
    if needs_environment(version) and not exp.workers:
        raise ConfigError(f"{where}.pykan: {exp.name} runs the installed pykan ({installed()}) only; "
                          f"only speed times other versions (got pykan: {version})")


def start(exp: Experiment, request: Request) -> Session:
    """Validate everything, then open the run: a new directory, or with `request.resume` the
    directory of an interrupted run with the same config, environment and columns."""
    if request.resume is None:
        config = resolve_config(request, exp)
        devices = exp.devices(config.device)
        execution = execution_of(exp, request, config)
        context = check(exp, config, devices, config_path(request, exp), together(execution[0]))
        run_dir, env, lock = open_run(exp.name, request, config, devices)  # nothing is created before this line
        logs = {name: CsvLog(run_dir / f"{name}.csv", columns_of(table)) for name, table in exp.tables.items()}
        return Session(run_dir, config, devices, env, logs, {name: [] for name in exp.tables}, context, lock,
                       *execution)
    return _reopen(exp, request)


def execution_of(exp: Experiment, request: Request, config: Any) -> tuple[Execution, str | None]:
    """How the request's units are to execute (relukan_bench.executors.resolve): UsageError
    for what cannot, before anything is written."""
    return resolve(exp, Execution(request.workers, request.executor, request.address), config.threads)


def together(execution: Execution) -> int:
    """How many units train at once on this machine: the workers of a local pool or of a
    Dask cluster started here; one for a cluster elsewhere (its machines hold their own)."""
    assert execution.workers is not None  # decided by relukan_bench.executors.resolve
    return execution.workers if execution.address is None else 1


def _reopen(exp: Experiment, request: Request) -> Session:
    assert request.resume is not None  # start() reopens only a run it was asked to resume
    run_dir = Path(request.resume)
    commit = list(exp.tables)[-1]
    config, env = resumed_config(request, exp, f"{commit}.csv")
    execution = execution_of(exp, request, config)
    lock = RunLock(run_dir)
    try:
        session = _reopen_locked(exp, run_dir, config, env, lock, together(execution[0]))
        session.execution, session.warning = execution
        return session
    except BaseException:
        lock.release()
        raise


def _reopen_locked(exp: Experiment, run_dir: Path, config: Any, env: dict[str, Any], lock: RunLock,
                   workers: int) -> Session:
    commit = list(exp.tables)[-1]
    devices = exp.devices(config.device)
    context = check(exp, config, devices, run_dir / "config.yaml", workers)
    try:
        logs_read = {name: read_log(run_dir / f"{name}.csv", types) if (run_dir / f"{name}.csv").exists() else ([], False)
                     for name, types in exp.tables.items()}
    except (OSError, ValueError) as exc:
        raise UsageError(f"--resume {run_dir}: cannot read the run ({exc})") from None
    found = {name: rows for name, (rows, _) in logs_read.items()}
    now = environment(config.threads, devices)
    same_environment(run_dir, env, now)
    done = {exp.key(row) for row in found[commit]}
    # Rows of a unit that a kill cut short before its commit are dropped, and a partial last line.
    loaded = {name: [row for row in rows if exp.key(row) in done] for name, rows in found.items()}
    # Every check has passed: from here on the directory is written to.
    remove_temporaries(run_dir)
    for name, rows in loaded.items():
        if len(rows) < len(found[name]) or logs_read[name][1]:  # records read back write the same bytes
            write_csv(run_dir / f"{name}.csv", columns_of(exp.tables[name]), rows)
    logs = {name: CsvLog(run_dir / f"{name}.csv", columns_of(table), resume=True) for name, table in exp.tables.items()}
    record_session(run_dir, env, now, units_done=len(done))
    return Session(run_dir, config, devices, env, logs, loaded, context, lock)


def resumed_config(request: Request, exp: Experiment, log: str) -> tuple[Any, dict[str, Any]]:
    """The config of `request` for finishing the run in `request.resume`, and the run's
    recorded environment: the recorded `config.yaml` (or `request.config`) with the request's
    options and overrides, which must come out the same as the recorded one. UsageError
    otherwise, or when the directory is not a run of `experiment` (`log` is a file every such
    run has)."""
    assert request.resume is not None  # called for a request that resumes a run
    run_dir = Path(request.resume)
    env = recorded_env(request)
    # Runs record their experiment in env.json; older ones are known by their log.
    kind = env.get("experiment", exp.name if (run_dir / log).is_file() else None) if env is not None else None
    if env is None or kind != exp.name or not (run_dir / "config.yaml").is_file():
        why = _unreadable(run_dir / "env.json") if env is None else ""
        raise UsageError(f"--resume {run_dir}: expected a {exp.name} run directory (with config.yaml and env.json){why}")
    recorded_digest = env.get("config_sha256")
    if recorded_digest is not None and recorded_digest != digest_of(run_dir / "config.yaml"):
        raise UsageError(f"--resume {run_dir}: config.yaml was edited after the run started (it is not the config "
                         "env.json recorded); results of two configs are not one run, start a new run")
    recorded: Strict = load_config(run_dir / "config.yaml", [], exp.schema)
    config = resolve_config(replace(request, config=request.config or run_dir / "config.yaml"), exp)
    changed = differences(recorded, config)
    if changed:
        shown = "; ".join(changed[:3]) + (f"; and {len(changed) - 3} more" if len(changed) > 3 else "")
        raise UsageError(f"--resume {run_dir}: the config differs from the one the run recorded ({shown}); "
                         "resume with the same config, or start a new run")
    return config, env


def _unreadable(path: Path) -> str:
    """Why the file at `path`, which is there, cannot be read as a run's record ("; env.json:
    expected a regular file, got a FIFO"); "" where it is absent or reads."""
    if not os.path.lexists(path):
        return ""
    try:
        mapping_of(path)
    except Unreadable as exc:
        return f"; {path.name}: {exc}"
    return ""


def recorded_env(request: Request) -> dict[str, Any] | None:
    """The env.json of the run `request.resume` names, or None where there is none to read.
    UsageError when `--out` is given too."""
    if request.out is not None:
        raise UsageError(f"--out {request.out}: a resumed run goes on in its own directory; give --resume or --out")
    assert request.resume is not None  # called for a request that resumes a run
    return read_mapping(Path(request.resume) / "env.json")


def same_environment(run_dir: Path, recorded: dict[str, Any], now: dict[str, Any]) -> None:
    moved = [f"{name}: {recorded.get(name)} -> {now.get(name)}" for name in SAME_ENVIRONMENT if recorded.get(name) != now.get(name)]
    if moved:
        raise UsageError(f"--resume {run_dir}: the run was recorded in another environment ({'; '.join(moved)}); "
                         "results of two environments are not one run, start a new run")


#: The run directories whose code this process has compared with its own (`record_session`): a
#: reproduce run's comparison covers its parts, which then say nothing more.
_COMPARED: set[Path] = set()


def record_session(run_dir: Path, env: dict[str, Any], now: dict[str, Any], **details: object) -> None:
    """Note in env.json that another session goes on with the run, with its commit and tree
    state (`git`). Where that code is not what the run (and the runs inside it) was computed
    with, say so in one `warning:` line on stderr, and go on."""
    here = Path(run_dir).resolve()
    if not _COMPARED.intersection(here.parents):
        change = code_change(commits(run_sessions(run_dir, env)), now["git"])
        if change:
            print(f"warning: {clip(f'--resume {run_dir}: {change}', 2000)}", file=sys.stderr, flush=True)
    _COMPARED.add(here)
    env.setdefault("resumed", []).append({"start_time": now["start_time"], **details, "git": now["git"], "command": now["command"]})
    env["end_time"] = None
    write_json(run_dir / "env.json", env)


def open_run(experiment: str, request: Request, config: Any, devices: list[str]) -> tuple[Path, dict[str, Any], RunLock]:
    """Create the run directory; write the resolved config and the environment into it. Returns
    this process's lock on it too."""
    text = dump_config(config)  # checked to load again as the same config
    env = {"experiment": experiment, "config_sha256": digest(text), "quick": request.quick,
           **environment(config.threads, devices)}
    with new_run(experiment, request.out) as (run_dir, lock):
        write_text(run_dir / "config.yaml", text)
        write_json(run_dir / "env.json", env)
    return run_dir, env, lock


@contextmanager
def new_run(experiment: str, out: Path | None) -> Iterator[tuple[Path, RunLock]]:
    """A new run directory (`out`, or one under results/), locked by this process, for the block
    to write its first files into: two processes given one empty `--out` at once never both
    write it. When the block cannot write (OSError: permission, a read-only or full disk),
    everything it and this call created is removed again and a UsageError says why."""
    top = _first_missing(Path(out) if out is not None else Path("results") / experiment)
    run_dir = new_run_dir(experiment, out)
    if top is None and out is None:
        top = run_dir  # results/<experiment>/ was there; the timestamped directory is new
    lock = RunLock(run_dir, "--out")
    if any(run_dir.iterdir()):  # another process began a run here between the check and the lock
        lock.release()
        raise UsageError(f"--out {out}: expected a new or empty directory")
    try:
        yield run_dir, lock
    except OSError as exc:
        lock.release()
        for path in run_dir.iterdir():  # the directory was new or empty: all of it is ours
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        for directory in [run_dir, *run_dir.parents]:  # the directories this call created
            if top is None or not (directory == top or top in directory.parents):
                break
            directory.rmdir()
        where = f"--out {out}" if out is not None else str(run_dir)
        raise UsageError(f"{where}: cannot write into the run directory ({exc.strerror or exc})") from None


def _first_missing(path: Path) -> Path | None:
    """The outermost directory of `path` (itself included) that does not exist yet."""
    missing = None
    for directory in [path, *path.parents]:
        if directory.exists():
            break
        missing = directory
    return missing


def digest(text: str | bytes) -> str:
    """The SHA-256 of a config as written (UTF-8), so that a resume can tell it was not edited."""
    return hashlib.sha256(text.encode("utf-8") if isinstance(text, str) else text).hexdigest()


def digest_of(path: Path) -> str | None:
    """`digest` of the file at `path` as it is on disk; None when it cannot be read."""
    try:
        return digest(Path(path).read_bytes())
    except OSError:
        return None


def close_run(run_dir: Path, env: dict[str, Any], interrupted: bool) -> None:
    env["end_time"] = utc_now()
    env["interrupted"] = interrupted
    write_json(run_dir / "env.json", env)
