"""relukan_bench.safe_files: only regular files are read (never waited on, never read past a
bound), and an output never replaces anything but a regular file that is none of the inputs.

Every kind of file that is not a regular one is made for real (a FIFO, a directory, a socket,
symbolic links to /dev/zero, to nowhere and to themselves, and as root a character device);
an alarm fails a test that would block instead of hanging the suite."""

from __future__ import annotations

import os
import signal
import socket
import stat
from pathlib import Path

import pytest

from relukan_bench.errors import UsageError
from relukan_bench.safe_files import NotRegularFile, TooLarge, check_output, present, read_bytes, read_text


@pytest.fixture(autouse=True)
def no_blocking():
    """Fail, rather than hang, where something waits on a FIFO or a device."""
    def alarm(signum, frame):
        raise TimeoutError("blocked on a file")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def special(tmp_path: Path, kind: str) -> tuple[Path, str]:
    """A file of `kind` that is not a regular file, and what the refusal calls it (None: what
    the system says)."""
    path = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(path)
        return path, "got a FIFO"
    if kind == "directory":
        path.mkdir()
        return path, "got a directory"
    if kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        return path, "got a socket"
    if kind == "dev-zero":
        path.symlink_to("/dev/zero")
        return path, "got a character device"
    if kind == "device":
        if os.geteuid() != 0:
            pytest.skip("only root makes a device node")
        os.mknod(path, 0o644 | stat.S_IFCHR, os.makedev(1, 3))  # a copy of /dev/null
        return path, "got a character device"
    if kind == "loop":
        path.symlink_to(path.name)
        return path, "Too many levels of symbolic links"
    path.symlink_to("nowhere")  # dangling
    return path, "No such file or directory"


KINDS = ["fifo", "directory", "socket", "dev-zero", "device", "loop", "dangling"]


@pytest.mark.parametrize("kind", KINDS)
def test_only_a_regular_file_is_read_and_anything_else_is_an_os_error_saying_what_it_is(tmp_path, kind):
    path, what = special(tmp_path, kind)
    with pytest.raises(OSError) as raised:
        read_bytes(path, 1 << 20)
    assert what in (raised.value.strerror or str(raised.value))
    if kind in ("fifo", "socket", "dev-zero", "device"):
        assert isinstance(raised.value, NotRegularFile) and str(raised.value) == f"expected a regular file, {what}"
    if kind == "directory":  # as `open` says, so that callers that tell it apart still do
        assert isinstance(raised.value, IsADirectoryError)
    assert present(path)


def test_a_regular_file_is_read_whole_up_to_the_bound_and_refused_beyond_it(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"x" * 100)
    assert read_bytes(path, 100) == b"x" * 100
    assert read_bytes(tmp_path / "f.csv", 1 << 30) == b"x" * 100
    with pytest.raises(TooLarge, match="larger than 99 bytes"):
        read_bytes(path, 99)
    (tmp_path / "link.csv").symlink_to("f.csv")  # a symbolic link to a regular file is followed
    assert read_text(tmp_path / "link.csv", 100) == "x" * 100
    assert not present(tmp_path / "nothing")


def test_a_file_that_never_ends_is_read_no_further_than_the_bound():
    with pytest.raises(OSError, match="got a character device"):
        read_bytes("/dev/zero", 10)
    proc = Path("/proc/self/status")  # regular, yet of no size until read
    if proc.is_file():
        assert b"Name:" in read_bytes(proc, 1 << 20)
        with pytest.raises(TooLarge):
            read_bytes(proc, 10)


# ----------------------------------------------------------------------------- outputs
@pytest.mark.parametrize("kind", ["fifo", "directory", "socket", "dev-zero", "device", "loop", "dangling"])
@pytest.mark.parametrize("replace", [True, False])
def test_an_output_never_replaces_what_is_not_a_regular_file(tmp_path, kind, replace):
    path, _ = special(tmp_path, kind)
    before = os.lstat(path)
    with pytest.raises(UsageError, match=r"^--out .*: expected a regular file or a new path \(got a "):
        check_output(path, [], replace, "--out")
    after = os.lstat(path)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)


def test_an_output_is_never_an_input_however_it_is_spelled(tmp_path):
    source = tmp_path / "a.csv"
    source.write_text("x\n")
    (tmp_path / "sub").mkdir()
    os.link(source, tmp_path / "hard.csv")
    (tmp_path / "alias.csv").symlink_to("a.csv")
    for spelled in (source, tmp_path / "sub" / ".." / "a.csv", tmp_path / "hard.csv"):
        with pytest.raises(UsageError, match="is also an input of this command"):
            check_output(spelled, [source], replace=True, what="--out")
    with pytest.raises(UsageError, match="is also an input of this command"):  # the input is a link to it
        check_output(source, [tmp_path / "alias.csv"], replace=True)
    check_output(tmp_path / "new.csv", [source], replace=False)  # a new path is fine
    other = tmp_path / "b.csv"
    other.write_text("y\n")
    check_output(other, [source, tmp_path / "missing.csv"], replace=True)  # a regular file, with leave to replace it
    with pytest.raises(UsageError, match=r"^DEST .*b\.csv: already exists \(pass --force to replace it\)$"):
        check_output(other, [source], replace=False, what="DEST")


def test_an_output_path_is_clipped_in_the_message(tmp_path):
    with pytest.raises(UsageError) as raised:
        check_output(tmp_path / ("d" * 600), [], replace=True, what="--out")
    assert "File name too long" in str(raised.value) and len(str(raised.value)) < 300
