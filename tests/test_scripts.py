"""scripts/: every argument of the shell scripts is read as a decimal number (or a name, a path)
or refused in one line, status 2, before anything runs or is made.

The scripts run for real, with a stub Python first on PATH and in $PYTHON: it records each call
in a file of its own and does nothing else, so "nothing ran" is "no call was recorded"."""

from __future__ import annotations

import os
import re
import subprocess
import unicodedata
from pathlib import Path

from hypothesis import given, settings, strategies as st

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
GPU = SCRIPTS / "gpu-reference.sh"
WHEELS = SCRIPTS / "offline-wheels.sh"
HELP = ("-h", "--help")
STAGES = ("reproduce", "tests", "baselines")
MAX_SECONDS = 999_999

# Records its arguments (NUL-separated, one file per call); as `python -` it prints two pins.
STUB = """#!/bin/sh
printf '%s\\0' "$@" > "$(mktemp "$STUB_CALLS/call.XXXXXX")"
case ${1-} in -) cat >/dev/null; echo "pykan==0.2.8 typer==0.16.0" ;; esac
exit 0
"""


def _locales() -> list[str]:
    """C, and C.UTF-8 where this machine has it (the quoting differs: octal bytes or characters)."""
    probe = subprocess.run(["bash", "-c", ":"], capture_output=True, env={"LC_ALL": "C.UTF-8"})
    return ["C", "C.UTF-8"] if probe.returncode == 0 and not probe.stderr else ["C"]


LOCALES = _locales()


def _workdir(root: Path) -> Path:
    """A working directory with the stub, a file, a broken link and a directory in it."""
    (root / "bin").mkdir(parents=True)
    (root / "calls").mkdir()
    for name in ("python", "python3", "pip"):
        (root / "bin" / name).write_text(STUB)
        (root / "bin" / name).chmod(0o755)
    (root / "work").mkdir()
    (root / "work" / "afile").write_text("not a directory\n")
    (root / "work" / "alink").symlink_to(root / "nowhere")
    (root / "work" / "adir").mkdir()
    return root / "work"


def _call(script: Path, args: list[str], work: Path, locale: str = "C") -> subprocess.CompletedProcess:
    root = work.parent
    env = {"PATH": f"{root / 'bin'}:/usr/bin:/bin", "PYTHON": str(root / "bin" / "python"),
           "STUB_CALLS": str(root / "calls"), "HOME": str(root), "LC_ALL": locale,
           "OUT": str(root / "out"), "RUN": str(root / "run" / "reference-gpu"),
           "PARTS": str(root / "parts"), "WHEELS": str(root / "wheels")}
    return subprocess.run(["bash", str(script), *args], cwd=work, capture_output=True, timeout=60, env=env)


def _calls(work: Path) -> list[list[str]]:
    return [path.read_bytes().decode().split("\0")[:-1] for path in (work.parent / "calls").iterdir()]


def _tree(work: Path) -> set[str]:
    return {str(path.relative_to(work.parent)) for path in work.parent.rglob("*")}


def _unquote(quoted: bytes) -> bytes:
    """The bytes that bash's `printf %q` wrote as `quoted` (read here, never evaluated)."""
    if quoted == b"''":
        return b""
    if quoted.startswith(b"$'") and quoted.endswith(b"'") and len(quoted) >= 3:
        names = {b"a": b"\a", b"b": b"\b", b"e": b"\x1b", b"E": b"\x1b", b"f": b"\f", b"n": b"\n",
                 b"r": b"\r", b"t": b"\t", b"v": b"\v"}

        def escape(match: re.Match) -> bytes:
            body = match.group(1)
            if body[0] in b"01234567":
                return bytes([int(body, 8) & 0xFF])
            if body[:1] == b"x":
                return bytes([int(body[1:], 16)])
            return names.get(body, body)

        return re.sub(rb"\\([0-7]{1,3}|x[0-9a-fA-F]{1,2}|.)", escape, quoted[2:-1], flags=re.S)
    return re.sub(rb"\\(.)", rb"\1", quoted, flags=re.S)


def _assert_refused(result: subprocess.CompletedProcess, value: str, work: Path, before: set[str]) -> None:
    """Status 2, one `error:` line that quotes `value` (control characters escaped), nothing
    run, nothing made."""
    assert result.returncode == 2, result
    line = result.stderr.decode("utf-8", "replace")
    assert line.startswith("error: ") and line.count("\n") == 1 and line.endswith(")\n"), line
    assert not any(unicodedata.category(char) == "Cc" for char in line[:-1]), line
    quoted = result.stderr[result.stderr.rindex(b"(got ") + 5:-2]
    expected = value.encode()
    if _unquote(quoted) != expected:  # then cut to 80 characters (bytes in the C locale)
        shown = _unquote(quoted[:-3])
        assert quoted.endswith(b"...") and len(shown) >= 80 and expected.startswith(shown), (line, value)
    assert result.stdout == b""
    assert _calls(work) == [], "something ran"
    assert _tree(work) == before, "something was made"


def _decimal(text: str, low: int = 0, high: int = MAX_SECONDS) -> int | None:
    """The value of `text` as the scripts must read it: ASCII digits only, leading zeros decimal."""
    if not re.fullmatch(r"[0-9]+", text):
        return None
    return int(text) if low <= int(text) <= high else None


# Numbers as a user might mistype them: leading zeros, 08 and 09, signs, spaces, other bases,
# digits of other scripts, huge values, empty; and any text at all.
NUMBERS = st.one_of(
    st.integers(0, 2 * MAX_SECONDS).map(str),
    st.tuples(st.integers(1, 30), st.integers(0, 10**25)).map(lambda t: "0" * t[0] + str(t[1])),
    st.sampled_from(["08", "09", "0540", "010", "+5", "-5", " 5", "5 ", "\t5", "5\n", "1e3", "0x10",
                     "0b1", "1_000", "5.0", "٣", "５", "²", "", "9" * 30, "-", "--5", "-h5", "- 5"]),
    st.text(alphabet="0123456789+-. ex_٣５²\n", max_size=12),
    st.text(alphabet=st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=12),
)
OPTIONS = st.sampled_from(["-x", "--seconds", "--", "-", "--help=1", "-hx", "---", "-\n", "-٣"])
TEXT = st.text(alphabet=st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=100)


def _gpu_oracle(args: list[str]) -> tuple:
    """What gpu-reference.sh must do with `args`: ("help",), ("refused", the value at fault) or
    ("ok", seconds, stages as read)."""
    if any(arg in HELP for arg in args):
        return ("help",)
    for arg in args:
        if re.match(r"--|-[^0-9]", arg):
            return ("refused", arg)
    if not args:
        return ("ok", 540, ["reproduce", "tests"])
    budget = _decimal(args[0])
    if budget is None:
        return ("refused", args[0])
    stages = []
    for stage in args[1:]:
        name, colon, cap = stage.partition(":")
        if name not in STAGES or (colon and _decimal(cap) is None):
            return ("refused", stage)
        stages.append(f"{name}:{_decimal(cap)}" if colon else name)
    return ("ok", budget, stages or ["reproduce", "tests"])


def _check_gpu(args: list[str], work: Path, locale: str = "C") -> None:
    before = _tree(work)
    result = _call(GPU, args, work, locale)
    expected = _gpu_oracle(args)
    if expected[0] == "help":
        assert result.returncode == 0 and b"reproduce" in result.stdout and _calls(work) == []
        assert _tree(work) == before
    elif expected[0] == "refused":
        _assert_refused(result, expected[1], work, before)
    else:
        _, budget, stages = expected
        assert result.returncode == 0, result
        err = result.stderr.decode()
        assert err.startswith(f"gpu-reference: {budget} s for {' '.join(stages)}\n"), err
        # The first stage's deadline: the whole call's budget less a minute kept for packing,
        # or the stage's own cap (a few seconds may have passed).
        name, _, cap = stages[0].partition(":")
        deadline = min(budget - 60, int(cap)) if cap else budget - 60
        left = int(re.search(rf"^gpu-reference: {name} \((-?[0-9]+) s left\)$", err, re.M).group(1))
        assert deadline - 10 <= left <= deadline, err


def test_gpu_help_names_the_stages_and_runs_nothing(tmp_path):
    work = _workdir(tmp_path)
    for args in (["--help"], ["-h"], ["100", "reproduce", "--help"]):
        result = _call(GPU, args, work)
        assert result.returncode == 0 and b"reproduce" in result.stdout and b"baselines" in result.stdout
    assert _calls(work) == [] and not (tmp_path / "out").exists()


def test_gpu_seconds_with_leading_zeros_are_decimal(tmp_path):
    """0540 is 540 s (bash alone reads 352), 08 and 09 are 8 and 9 s (bash alone fails on them)."""
    for i, args in enumerate((["0540"], ["08"], ["09"], ["600", "reproduce:08", "tests:0150"], ["000000000000100"])):
        _check_gpu(args, _workdir(tmp_path / str(i)))
    reproduce = [call for call in _calls(tmp_path / "0" / "work") if call[:3] == ["-m", "relukan_bench", "reproduce"]]
    assert reproduce, "the reproduce stage did not run within 0540 s"


@settings(max_examples=60, deadline=None)
@given(seconds=NUMBERS, stages=st.lists(st.one_of(
    st.sampled_from(STAGES), st.tuples(st.sampled_from(STAGES), NUMBERS).map(":".join), OPTIONS, TEXT),
    max_size=2), locale=st.sampled_from(LOCALES))
def test_gpu_arguments_are_read_as_decimal_or_refused_before_anything_runs(tmp_path_factory, seconds,
                                                                          stages, locale):
    _check_gpu([seconds, *stages], _workdir(tmp_path_factory.mktemp("gpu")), locale)


@settings(max_examples=30, deadline=None)
@given(args=st.lists(st.one_of(NUMBERS, OPTIONS, TEXT), max_size=3), locale=st.sampled_from(LOCALES))
def test_gpu_any_arguments_are_read_or_refused(tmp_path_factory, args, locale):
    _check_gpu(args, _workdir(tmp_path_factory.mktemp("gpu")), locale)


# ---------------------------------------------------------------------- offline-wheels.sh

# Paths in the working directory whose fate is known: a directory to make or fill, or refused.
DESTS = st.one_of(
    st.sampled_from([".", "adir", "adir/", "new", "adir/new/deeper", "new/x", ".whl",
                     "afile", "afile/sub", "alink", "alink/sub", "", "-x", "--dest"]),
    st.text(alphabet=st.characters(blacklist_characters="\0/", blacklist_categories=("Cs",)), max_size=20),
)
VERSIONS = st.one_of(
    st.sampled_from(["3.12", "3.012", "03.11", "3.08", "3.09", "3.9", "3.10", "3.99", "3.100", "2.7",
                     "3", "3.", ".12", "3.12.1", "312", "3.1e1", "٣.12", "3.١٢", "+3.12", "3.12 ", ""]),
    st.tuples(st.sampled_from(["3", "03", "0003", "4"]), NUMBERS).map(".".join),
    st.tuples(NUMBERS, NUMBERS).map(".".join),
    NUMBERS,
)


def _dest_ok(work: Path, dest: str) -> bool:
    """Whether DEST is, or can be made as, a directory (the fixed cases above, or one new name)."""
    if not dest or dest.startswith("-"):
        return False
    if dest in ("afile/sub", "alink/sub"):
        return False
    path = work / dest
    return path.is_dir() or not os.path.lexists(path)


def _wheels_oracle(args: list[str], work: Path) -> tuple:
    if any(arg in HELP for arg in args):
        return ("help",)
    for arg in args:
        if arg.startswith("-"):
            return ("refused", arg)
    if len(args) > 2:
        return ("refused", args[2])
    dest = args[0] if args else ".whl"
    if not _dest_ok(work, dest):
        return ("refused", dest)
    version = args[1] if len(args) > 1 else "3.12"
    major, dot, minor = version.partition(".")
    if not dot or _decimal(major, 3, 3) is None or _decimal(minor, 10, 99) is None:
        return ("refused", version)
    return ("ok", dest, f"3.{_decimal(minor, 10, 99)}")


def _check_wheels(args: list[str], work: Path, locale: str = "C") -> None:
    expected = _wheels_oracle(args, work)
    before = _tree(work)
    result = _call(WHEELS, args, work, locale)
    if expected[0] == "help":
        assert result.returncode == 0 and b"PYTHON_VERSION" in result.stdout, result
        assert _calls(work) == [] and _tree(work) == before
    elif expected[0] == "refused":
        _assert_refused(result, expected[1], work, before)
    else:
        _, dest, version = expected
        assert result.returncode == 0, result
        assert (work / dest).is_dir()
        downloads = sorted(call for call in _calls(work) if call[:3] == ["-m", "pip", "download"])
        assert [call[-1] for call in downloads] == sorted(
            ["pykan==0.2.8", "typer==0.16.0", "pykan==0.0.5", "pykan==0.1.2"])
        for call in downloads:
            assert call[call.index("--python-version") + 1] == version and call[call.index("-d") + 1] == dest


def test_wheels_help_runs_nothing_and_makes_nothing(tmp_path):
    """--help once ran four `pip download -d --help` and made a directory `--help`."""
    work = _workdir(tmp_path)
    for args in (["--help"], ["-h"], ["out", "--help"]):
        _check_wheels(args, work)
    assert not (work / ".whl").exists() and not (work / "--help").exists()


def test_wheels_refuses_a_file_as_dest_and_reads_versions_as_decimal(tmp_path):
    for i, args in enumerate((["afile"], ["afile/sub"], ["alink"], [""], ["out", "3.08"], ["out", "3.1e1"],
                              ["out", "3.12", "extra"], ["out", "3.012"], ["adir", "03.10"], [])):
        _check_wheels(args, _workdir(tmp_path / str(i)))


@settings(max_examples=60, deadline=None)
@given(dest=DESTS, version=VERSIONS, extra=st.lists(st.one_of(OPTIONS, TEXT), max_size=1),
       arity=st.integers(0, 2), locale=st.sampled_from(LOCALES))
def test_wheels_arguments_are_read_as_decimal_or_refused_before_anything_runs(tmp_path_factory, dest, version,
                                                                             extra, arity, locale):
    args = [dest, version][:arity] + (extra if arity == 2 else [])
    _check_wheels(args, _workdir(tmp_path_factory.mktemp("wheels")), locale)
