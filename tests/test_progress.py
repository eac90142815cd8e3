"""Progress for logs: plain lines at a bounded rate, with elapsed time and what is left."""

import io

from relukan_bench.progress import LogReporter, RichReporter, duration, reporter


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _wait_for(stream, text, seconds=5.0):
    """Until `text` is in `stream` (written by the heartbeat thread), or `seconds` pass."""
    import time

    deadline = time.monotonic() + seconds
    while text not in stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_stream_that_is_not_a_terminal_gets_lines_and_a_terminal_the_bar():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert isinstance(reporter("fit", io.StringIO()), LogReporter)
    assert isinstance(reporter("fit", Tty()), RichReporter)


def test_a_line_per_finished_unit_with_elapsed_time_and_estimate():
    stream, clock = io.StringIO(), Clock()
    log = LogReporter("fit", stream, clock)
    log.start(4 * 100)
    log.update(0, "next run")
    log.finished(0, 4)
    clock.now += 30
    log.update(100, "run 2/4: f1 kan seed 0, step 0/100")
    log.finished(1, 4)
    clock.now += 30
    log.update(200, "next run")
    log.finished(2, 4)
    log.stop()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "fit: 0/4 units, 0s elapsed"
    assert lines[1] == "fit: 1/4 units, 30s elapsed, about 1m30s left; run 2/4: f1 kan seed 0, step 0/100"
    assert lines[2] == "fit: 2/4 units, 1m00s elapsed, about 1m00s left"


def test_units_finishing_fast_are_not_a_line_each_but_the_last_one_is():
    stream, clock = io.StringIO(), Clock()
    log = LogReporter("speed", stream, clock)
    log.start(1000)
    for unit in range(1, 1001):
        clock.now += 0.01
        log.update(unit, "next run")
        log.finished(unit, 1000)
    log.stop()
    lines = stream.getvalue().splitlines()
    assert len(lines) <= 1 + 10 / LogReporter.GAP + 1  # 10 s of units: a line per GAP at most, and the last
    assert lines[-1].startswith("speed: 1000/1000 units") and lines[-1].endswith(", done")


def test_a_long_unit_still_gets_a_line_a_minute():
    stream, clock = io.StringIO(), Clock()
    log = LogReporter("fit", stream, clock)
    log.HEARTBEAT = 0.2  # the timer thread checks every second; the clock is ours
    log.start(100)
    log.update(0, "next run")
    log.finished(0, 1)
    clock.now += 5
    log.update(50, "run 1/1: f4 kan seed 0, step 50/100")
    _wait_for(stream, "step 50/100")
    log.stop()
    assert "fit: 0/1 units, 5s elapsed, about 5s left; run 1/1: f4 kan seed 0, step 50/100" in stream.getvalue()


def test_resumed_steps_do_not_make_the_estimate_optimistic():
    stream, clock = io.StringIO(), Clock()
    log = LogReporter("fit", stream, clock)
    log.start(1000)
    log.update(900, "next run")  # 9 of 10 units finished by an earlier session
    log.finished(9, 10)
    clock.now += 10
    log.update(950, "run 10/10: f6 mlp seed 2, step 50/100")
    clock.now += 5
    log.finished(9, 10)
    log.stop()
    assert "about 15s left" in stream.getvalue().splitlines()[-1]  # 50 steps in 15 s, 50 to go (not 950 in 15 s)


def test_a_second_stage_goes_on_with_the_clock_the_rate_and_the_heartbeat_of_the_first():
    stream, clock = io.StringIO(), Clock()
    log = LogReporter("fit", stream, clock)
    log.HEARTBEAT = 0.2
    log.start(2 * 100)  # the first stage: 2 units
    log.update(0, "next run")
    clock.now += 20
    log.update(200, "next run")
    log.finished(2, 2)
    log.stop()
    log.start(4 * 100)  # the second: what the first made due, 2 more units
    log.finished(2, 4)
    clock.now += 10
    log.update(250, "run 3/4: f1 kan seed 1, step 50/100")
    _wait_for(stream, "step 50/100")
    log.stop()
    assert "fit: 2/4 units, 30s elapsed, about 18s left; run 3/4: f1 kan seed 1, step 50/100" in stream.getvalue()


def test_a_closed_stream_does_not_end_the_run():
    stream = io.StringIO()
    log = LogReporter("fit", stream, Clock())
    log.start(10)
    stream.close()
    log.finished(1, 1)
    log.stop()


def test_durations():
    assert [duration(s) for s in (0, 4.6, 59, 60, 184, 3599, 3600, 3725)] == [
        "0s", "5s", "59s", "1m00s", "3m04s", "59m59s", "1h00m", "1h02m"]
