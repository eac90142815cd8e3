"""pykan environments: versions, what counts as prepared, installation."""

import pytest

from relukan_bench import pykan_envs


def test_versions_compare_as_numbers():
    assert pykan_envs.version_tuple("0.10.0") > pykan_envs.version_tuple("0.2.8")
    assert pykan_envs.has_speed_mode("0.2.0") and pykan_envs.has_speed_mode("1.0")
    assert not pykan_envs.has_speed_mode("0.1.2") and not pykan_envs.has_speed_mode("0.0.5")


@pytest.mark.parametrize("text", ["latest", "0", "0.2.8 ", "0.2.8\n", "../0.2.8", "0..2", "1.2.3.4.5", "v0.2.8", "٠.٢"])
def test_only_plain_versions_name_an_environment(text):
    assert not pykan_envs.VERSION.fullmatch(text)


def test_the_installed_version_runs_here_and_others_need_an_environment():
    installed = pykan_envs.installed()
    assert installed == "0.2.8"
    assert not pykan_envs.needs_environment(None) and not pykan_envs.needs_environment(installed)
    assert pykan_envs.needs_environment("0.0.5")


def test_an_environment_counts_only_when_complete(tmp_path, monkeypatch):
    monkeypatch.setenv(pykan_envs.HOME_VARIABLE, str(tmp_path))
    (tmp_path / "0.0.5" / "kan").mkdir(parents=True)
    assert not pykan_envs.prepared("0.0.5")  # no package, no marker: an install cut short
    (tmp_path / "0.0.5" / "kan" / "__init__.py").write_text("")
    assert not pykan_envs.prepared("0.0.5")
    (tmp_path / "0.0.5" / ".relukan-bench-pykan").write_text("0.0.5\n")
    assert pykan_envs.prepared("0.0.5") and pykan_envs.prepared_versions() == ["0.0.5"]
    assert pykan_envs.missing(["0.0.5", "0.1.2", "0.2.8"]) == ["0.1.2"]


def test_install_refuses_what_is_not_a_version(tmp_path, monkeypatch):
    monkeypatch.setenv(pykan_envs.HOME_VARIABLE, str(tmp_path))
    with pytest.raises(ValueError, match="expected a pykan version"):
        pykan_envs.install("../../etc")
    assert list(tmp_path.iterdir()) == []


def test_a_release_that_does_not_exist_is_a_usage_error_and_leaves_nothing(tmp_path, monkeypatch):
    from relukan_bench.errors import UsageError

    monkeypatch.setenv(pykan_envs.HOME_VARIABLE, str(tmp_path))
    with pytest.raises(UsageError, match="VERSION 999.0.0: no such pykan release in the package index"):
        pykan_envs.install("999.0.0", echo=lambda line: None)
    assert list(tmp_path.iterdir()) == []


def _install(*argv: str, home: str):
    from typer.testing import CliRunner

    from relukan_bench.cli import app

    return CliRunner().invoke(app, ["pykan", "install", *argv], env={pykan_envs.HOME_VARIABLE: home})


def test_install_of_an_unknown_release_exits_2_before_installing_any(tmp_path):
    """0.0.5 exists, 9.9.9 does not: the index is asked first, so nothing is installed."""
    result = _install("0.0.5", "9.9.9", home=str(tmp_path / "envs"))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: VERSION 9.9.9: no such pykan release") and result.stderr.count("\n") == 1
    assert not (tmp_path / "envs").exists()


@pytest.mark.parametrize("where", ["file", "sysfs"])
def test_an_environments_directory_that_cannot_be_written_exits_2_naming_the_variable(tmp_path, where):
    (tmp_path / "file").write_text("")
    home = {"file": str(tmp_path / "file" / "envs"), "sysfs": "/sys/relukan-bench-envs"}[where]
    before = sorted(tmp_path.iterdir())
    result = _install("0.0.5", home=home)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {pykan_envs.HOME_VARIABLE}={home}: the pykan environments' directory")
    assert result.stderr.count("\n") == 1 and result.stdout == "" and sorted(tmp_path.iterdir()) == before


def test_prepared_environments_hold_their_release(pykan_home):
    assert pykan_envs.prepared_versions() == ["0.0.5", "0.1.2"]
    for version in ("0.0.5", "0.1.2"):
        assert (pykan_envs.env_dir(version) / f"pykan-{version}.dist-info").is_dir()
