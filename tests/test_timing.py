"""The clock and the thread pin."""

import torch

from relukan_bench.timing import clock, threads, time_steps


def test_threads_pins_and_restores():
    previous = torch.get_num_threads()
    with threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == previous
    try:
        with threads(1):
            raise RuntimeError
    except RuntimeError:
        pass
    assert torch.get_num_threads() == previous


def test_time_steps_excludes_warmup():
    calls = []
    times = []

    def step():
        calls.append(1)
        times.append(clock("cpu"))

    start = clock("cpu")
    seconds = time_steps(step, steps=5, warmup=3, device="cpu")
    end = clock("cpu")
    assert len(calls) == 8
    assert 0 <= seconds <= end - start
    # the timed region starts after the last warm-up call
    assert seconds <= end - times[2]


def test_clock_synchronises_cuda_before_every_read(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append(device))
    time_steps(lambda: None, steps=3, warmup=2, device="cuda")
    assert calls == ["cuda", "cuda"]  # once before each of the two clock reads
    clock("cpu")
    assert calls == ["cuda", "cuda"]  # the CPU has nothing to wait for
