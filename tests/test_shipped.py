"""Shipped configs by name: list, show, copy, and --config NAME."""

import re
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from relukan_bench import resources, shipped
from relukan_bench.config import load_config
from relukan_bench.errors import BenchError, ConfigError, UsageError
from relukan_bench.yamlio import loads

REPO = Path(__file__).resolve().parents[1]
NAMES = ["fit", "fit-as-run", "fit-paper-kan", "forgetting", "speed", "speed-baselines"]


def test_every_shipped_config_is_listed_with_its_experiment_and_a_one_line_purpose():
    rows = shipped.listing()
    assert [name for name, _, _ in rows] == sorted(path.stem for path in (REPO / "configs").glob("*.yaml"))
    for name, experiment, purpose in rows:
        assert experiment == name.split("-")[0]
        assert purpose and "\n" not in purpose and "docs/" not in purpose and len(purpose) < 200, (name, purpose)


@pytest.mark.parametrize("name", NAMES)
def test_show_resolves_every_shipped_config_into_yaml_that_loads_back_as_the_same_config(name, tmp_path):
    text = shipped.show(name)
    exp = shipped.experiment_of(resources.find_config(name))
    saved = tmp_path / "saved.yaml"
    saved.write_text(text)
    assert load_config(saved, [], exp.schema) == load_config(resources.find_config(name), [], exp.schema)


def test_show_applies_overrides_and_refuses_a_bad_one_naming_the_key():
    assert loads(shipped.show("fit-paper-kan", ["train.steps=7"]))["train"]["steps"] == 7
    with pytest.raises(ConfigError, match=r"fit-paper-kan.yaml: train.steps: .*set by override 'train.steps=0'"):
        shipped.show("fit-paper-kan", ["train.steps=0"])


def test_a_file_of_the_same_name_where_the_command_runs_wins_over_the_shipped_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resources.find_config("fit").resolve() == (REPO / "configs" / "fit.yaml").resolve()
    (tmp_path / "fit.yaml").write_text((REPO / "configs" / "fit.yaml").read_text().replace("steps: 5000", "steps: 9"))
    assert resources.find_config("fit.yaml") == Path("fit.yaml")
    assert loads(shipped.show("fit.yaml"))["train"]["steps"] == 9
    assert resources.find_config("fit-paper-kan.yaml").name == "fit-paper-kan.yaml"  # not here: the shipped one


def test_the_experiment_of_a_config_of_any_name(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("experiment: forgetting\n")
    assert shipped.experiment_of(mine).name == "forgetting"
    mine.write_text("seeds: [0]\n")  # no experiment key, a name that says nothing: the one schema it fits
    with pytest.raises(UsageError, match=r"cannot tell which experiment .*--experiment"):
        shipped.experiment_of(mine)
    assert shipped.experiment_of(mine, "fit").name == "fit"
    with pytest.raises(UsageError, match=r"--experiment 'nope': expected one of speed, fit, forgetting"):
        shipped.experiment_of(mine, "nope")


def test_copy_writes_the_file_with_its_comments_and_never_over_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert shipped.copy("speed") == Path("speed.yaml")
    assert Path("speed.yaml").read_text() == (REPO / "configs" / "speed.yaml").read_text()
    with pytest.raises(UsageError, match=r"^speed.yaml: already exists \(pass --force to replace it\)$"):
        shipped.copy("speed")
    Path("speed.yaml").write_text("mine")
    shipped.copy("speed", force=True)
    assert Path("speed.yaml").read_text().startswith("#")
    (tmp_path / "into").mkdir()
    assert shipped.copy("fit-as-run", tmp_path / "into") == tmp_path / "into" / "fit-as-run.yaml"
    with pytest.raises(UsageError, match=r"no such directory"):
        shipped.copy("fit", tmp_path / "missing" / "x.yaml")
    assert not (tmp_path / "missing").exists()


@given(st.one_of(st.text(min_size=1, max_size=60), st.text(alphabet="a/.", min_size=250, max_size=600),
                 st.sampled_from(["../configs/fit", "/etc/passwd", "fit\x00", "*", "[bold]fit[/bold]", "~/fit", "."])))
def test_any_name_is_a_config_or_one_line_error(name):
    """Whatever is typed as NAME (traversal, globs, markup, control characters): a config that
    exists, or a UsageError of one line that quotes the name clipped."""
    try:
        path = shipped._named(name)
    except UsageError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) < 400
        return
    assert path.is_file()


# ----------------------------------------------------------------------------- only regular files
@pytest.mark.parametrize("kind", ["directory", "fifo", "dangling-symlink"])
def test_only_a_regular_file_hides_a_shipped_config_of_its_name(tmp_path, monkeypatch, kind):
    import os

    monkeypatch.chdir(tmp_path)
    {"directory": lambda: os.mkdir("fit"), "fifo": lambda: os.mkfifo("fit"), "dangling-symlink": lambda: os.symlink("nowhere", "fit")}[kind]()
    assert resources.find_config("fit").resolve() == (REPO / "configs" / "fit.yaml").resolve()
    assert loads(shipped.show("fit"))["experiment"] == "fit"


@pytest.mark.parametrize("content,message", [
    (b"\x7fELF\x02\x01\xd0\xff", "cannot read config file (UnicodeDecodeError"),
    (b"root:x:0:0:root:/root:/bin/bash\n", "expected a mapping of keys at the top level"),
    (b"colour: red\n", "expected a config of one of the experiments"),
    (b"experiment: fit\ncolour: red\n", "colour: unknown key"),
])
def test_copy_copies_only_a_config_of_some_experiment(tmp_path, content, message):
    source = tmp_path / "source"
    source.write_bytes(content)
    with pytest.raises(BenchError, match=re.escape(message)):
        shipped.copy(str(source), tmp_path / "copy.yaml")
    assert not (tmp_path / "copy.yaml").exists()


@pytest.mark.parametrize("kind", ["fifo", "symlink-to-stdout", "dangling-symlink", "device"])
@pytest.mark.parametrize("force", [False, True])
def test_copy_never_replaces_what_is_not_a_regular_file(tmp_path, kind, force):
    import os
    import stat

    dest = tmp_path / "dest.yaml"
    if kind == "fifo":
        os.mkfifo(dest)
    elif kind == "device":
        if os.geteuid() != 0:
            pytest.skip("only root makes a device node")
        os.mknod(dest, 0o644 | stat.S_IFCHR, os.makedev(1, 3))
    else:
        dest.symlink_to("/proc/self/fd/1" if kind == "symlink-to-stdout" else "nowhere")
    before = os.lstat(dest)
    with pytest.raises(UsageError, match=r"dest\.yaml: expected a regular file or a new path \(got a "):
        shipped.copy("fit", dest, force=force)
    assert (os.lstat(dest).st_mode, os.lstat(dest).st_ino) == (before.st_mode, before.st_ino)


def test_copy_never_writes_over_the_config_it_copies(tmp_path, monkeypatch):
    import os

    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "mine.yaml"
    text = (REPO / "configs" / "fit.yaml").read_text() + "# mine\n"
    mine.write_text(text)
    (tmp_path / "sub").mkdir()
    os.link(mine, tmp_path / "hard.yaml")
    for dest in ("mine.yaml", "sub/../mine.yaml", str(mine), "hard.yaml"):
        with pytest.raises(UsageError, match=r"is also an input of this command( \(mine\.yaml\))?; expected another path"):
            shipped.copy("mine.yaml", Path(dest), force=True)
    assert mine.read_text() == text
    shipped.copy("fit", Path("mine.yaml"), force=True)  # another config over it, with --force: replaced
    assert mine.read_text() == (REPO / "configs" / "fit.yaml").read_text() and (tmp_path / "hard.yaml").read_text() != mine.read_text()


def test_copy_clips_a_long_dest_in_its_message(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError) as raised:
        shipped.copy("fit", Path("d" * 600 + ".yaml"))
    assert "File name too long" in str(raised.value) and len(str(raised.value)) < 300
