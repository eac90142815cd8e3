"""Every figure the README publishes in its answer table, and docs/performance.md's and
docs/peers.md's headline figures, recomputed from the committed run that holds it, so that a
figure and its source cannot drift apart.

A figure is found by a template: the words around it, with `{}` for a number, `{f}` for a list of
functions ("f1, f2", "f3 to f5") and `{w}` for a word. Each template comes with the values it
must show, computed from the committed CSVs; a number passes when it is the value rounded to the
digits it prints. A source may also assert what the words around its numbers state."""

from __future__ import annotations

import csv
import functools
import json
import math
import re
import statistics
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from relukan_bench.kinds import kinds

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PERFORMANCE = ROOT / "docs" / "performance.md"
PAPER, REF, BASELINES = "results/paper", "results/reference-cpu", "results/reference-cpu-baselines"
TUNED, PEERS = "results/reference-cpu-tuned", "results/reference-cpu-peers"
BENCH = "docs/performance"
FUNCTIONS = ("f1", "f2", "f3", "f4", "f5")
NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
GROUPS = {"{}": f"({NUMBER})", "{f}": r"(f\d(?:(?:, | to | and )f\d)*)", "{w}": r"([a-z]+)"}
WORDS = ["none", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

Source = Callable[[], list]


# --- the committed files -------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def rows(path: str) -> tuple[dict[str, str], ...]:
    with open(ROOT / path, newline="", encoding="utf-8") as f:
        return tuple(csv.DictReader(f))


def pick(path: str, **where: str) -> list[dict[str, str]]:
    return [r for r in rows(path) if all(r[k] == v for k, v in where.items())]


def one(path: str, col: str, **where: str) -> float:
    (row,) = pick(path, **where)
    return float(row[col])


def floats(path: str, col: str, **where: str) -> list[float]:
    return [float(r[col]) for r in pick(path, **where)]


def span(values: list[float]) -> list[float]:
    return [min(values), max(values)]


def minutes(env_path: str) -> list[float]:
    env = json.loads((ROOT / env_path).read_text(encoding="utf-8"))
    seconds = (datetime.fromisoformat(env["end_time"]) - datetime.fromisoformat(env["start_time"])).total_seconds()
    return [seconds // 60, seconds % 60]


def is_kan(kind: str) -> bool:
    return kinds()[kind].basis is not None


# --- reading a figure ----------------------------------------------------------------------

def printed_as(text: str, value: float) -> bool:
    """`text` is `value` rounded to the digits it shows: within half a unit of its last digit."""
    mantissa, _, exponent = text.lower().partition("e")
    unit = 10.0 ** (int(exponent or 0) - len(mantissa.partition(".")[2]))
    return abs(float(text) - value) <= unit / 2 * (1 + 1e-9) + 1e-12 * abs(value)


def functions(text: str) -> set[str]:
    """"f1, f2" -> {f1, f2}; "f3 to f5" -> {f3, f4, f5}."""
    found: set[str] = set()
    for part in re.split(r", | and ", text):
        low, _, high = part.partition(" to ")
        found |= {f"f{i}" for i in range(int(low[1:]), int((high or low)[1:]) + 1)}
    return found


def pattern(template: str) -> re.Pattern[str]:
    return re.compile("".join(GROUPS.get(p, re.escape(p)) for p in re.split(r"(\{[fw]?\})", template)))


def agrees(shown: str, expected: object) -> bool:
    if isinstance(expected, set):
        return functions(shown) == expected
    if isinstance(expected, str):
        return shown == expected
    return printed_as(shown, float(expected))


def check(text: str, template: str, source: Source) -> None:
    found = pattern(template).search(" ".join(text.split()))
    assert found, f"not found: {template!r}"
    expected = source()
    shown = list(found.groups())
    assert len(shown) == len(expected), (template, shown, expected)
    wrong = [(s, e) for s, e in zip(shown, expected) if not agrees(s, e)]
    assert not wrong, f"{template!r}: shown {shown}, the committed files give {expected}"


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def table(text: str, header: str) -> list[list[str]]:
    """The rows of the Markdown table whose header line starts with `header`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    found = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        found.append(cells(line))
    return found


# --- the README's answer table -------------------------------------------------------------

def speed_cpu() -> list:
    table_csv = f"{REF}/speed/table.csv"
    repeats = {r["n"] for r in pick(f"{REF}/speed/summary.csv")}
    assert len(repeats) == 1
    return [*span(floats(table_csv, "relukan_speedup_cpu")), len(rows(table_csv)), int(repeats.pop()),
            *span(floats(table_csv, "relukan-fast_speedup_cpu"))]


def speed_paper() -> list:
    cpu = {f: paper_speedup(f) for f in FUNCTIONS}
    gpu = {f: paper_speedup(f, "gpu") for f in FUNCTIONS}
    assert max(cpu.values()) < 20
    return [*span(list(cpu.values())), *span(list(gpu.values())), {f for f, s in gpu.items() if s >= 20}]


def speed_gpu() -> list:
    summary = f"{BENCH}/speed-cuda-summary.csv"
    (fast_f5,) = pick(summary, function="f5", model="relukan-fast")
    steps = 1000 * float(fast_f5["median_s"]) / float(fast_f5["ms_per_step"])
    return [*span(floats(summary, "speedup", model="relukan")),
            *span(floats(summary, "speedup", model="relukan-fast")), steps, float(fast_f5["median_s"]),
            one(f"{PAPER}/speed.csv", "relukan_gpu_s", function="f5")]


def shares(run: str) -> list[float]:
    share = floats(f"{run}/speed/decomposition.csv", "implementation_share", relukan="relukan")
    return span([100 * x for x in share])


def split_cpu() -> list:
    decomposition = f"{REF}/speed/decomposition.csv"
    return [*span(floats(decomposition, "implementation", relukan="relukan")),
            *span(floats(decomposition, "basis", relukan="relukan")), *shares(REF), *shares(TUNED), *shares(PEERS)]


def split_gpu() -> list:
    decomposition = f"{BENCH}/speed-cuda-decomposition.csv"
    return [*span(floats(decomposition, "implementation", relukan="relukan")),
            *span(floats(decomposition, "basis", relukan="relukan"))]


def accuracy_paper() -> list:
    paper = rows(f"{PAPER}/fit.csv")
    gain = [float(r["kan_test_final_mse"]) / float(r["relukan_test_final_mse"]) for r in paper]
    plotted = [float(r["kan_test_final_rmse"]) / float(r["relukan_test_final_mse"]) for r in paper]
    return [*span(plotted), 1 / min(gain), max(gain)]


def gains(run: str) -> list:
    gain = floats(f"{run}/table.csv", "relukan_gain")
    return [1 / math.exp(statistics.fmean(map(math.log, gain))), sum(g > 1 for g in gain), len(gain)]


def accuracy_cpu() -> list:
    mean, lower, of = gains(f"{REF}/fit")
    seeds = {r["n_seeds"] for r in pick(f"{REF}/fit/summary.csv")}
    assert len(seeds) == 1
    return [lower, of, mean, int(seeds.pop())]


def forgetting_cpu() -> list:
    summary = f"{REF}/forgetting/summary.csv"
    (relukan,) = pick(summary, model="relukan")
    assert one(summary, "forgotten_fraction", model="mlp") > 1  # "more than it gained"
    return [100 * float(relukan["forgotten_fraction"]), 100 * float(relukan["forgotten_fraction_max"]),
            WORDS[int(relukan["n_seeds"])], 100 * one(summary, "forgotten_fraction", model="kan")]


def fastest_kan() -> list:
    fastest, ranks, kan_kinds = [], [], set()
    for part in ("speed-peers", "speed-scale"):
        kind = {r["model"]: r["kind"] for r in rows(f"{PEERS}/{part}/raw.csv")}
        timed = [r for r in rows(f"{PEERS}/{part}/summary.csv") if is_kan(kind[r["model"]]) and r["median_s"]]
        kan_kinds |= {kind[r["model"]] for r in timed}
        for shape in dict.fromkeys(r["function"] for r in timed):
            times = {r["model"]: float(r["median_s"]) for r in timed if r["function"] == shape}
            name = min(times, key=times.get)
            fastest.append(name if kind[name] == "relukan" else kind[name])
            ranks.append(1 + sum(t < times["relukan"] for t in times.values()))
    assert set(fastest) == {"relukan-fast", "chebyshev"} and min(ranks) > 1  # `relukan` on none
    return [len(kan_kinds), len(fastest), fastest.count("relukan-fast"), fastest.count("chebyshev"), *span(ranks)]


def equal_size(run: str) -> list[dict[str, str]]:
    """The equal-size KANs of a fit run (its kept candidates, when it tuned)."""
    return [r for r in rows(f"{PEERS}/{run}/summary.csv") if is_kan(r["kind"]) and r["selected"] == "True"
            and (r["sized"] or r["model"] == "relukan")]


def winners(found: list[dict[str, str]], col: str) -> dict[str, dict[str, str]]:
    """Per function, the row of the lowest finite `col`."""
    best: dict[str, dict[str, str]] = {}
    for r in sorted(found, key=lambda r: float(r[col]), reverse=True):
        if math.isfinite(float(r[col])):
            best[r["function"]] = r
    return best


def most_accurate() -> list:
    tuned = winners(equal_size("fit-peers-tuned"), "final_test_mse")
    shared = winners(equal_size("fit-peers"), "final_test_mse")
    inkan = {f for f, r in tuned.items() if r["kind"] == "inkan"}
    pykan_fit = {f for f, r in tuned.items() if r["kind"] == "kan" and r["candidate"] == "pykan-fit"}
    bspline = {f for f, r in tuned.items() if r["kind"] == "bspline"}
    assert inkan | pykan_fit | bspline == set(tuned) and all(r["kind"] != "relukan" for r in tuned.values())
    seeds = {r["n_seeds"] for r in equal_size("fit-peers-tuned")}
    assert len(seeds) == 1
    return [int(seeds.pop()), inkan, pykan_fit, bspline,
            sum(r["model"] == "relukan" for r in shared.values()), len(shared)]


def most_accurate_verdict() -> list:
    tuned = winners(equal_size("fit-peers-tuned"), "final_test_mse")
    return [sum(r["model"] == "relukan" for r in tuned.values()), len(tuned)]


def first_to_target() -> list:
    shared = winners([r for r in rows(f"{PEERS}/fit-peers/summary.csv") if is_kan(r["kind"])], "time_e4")
    tuned = winners([r for r in rows(f"{PEERS}/fit-peers-tuned/summary.csv")
                     if is_kan(r["kind"]) and r["selected"] == "True"], "time_e4")
    assert {r["kind"] for r in shared.values()} == {"bspline", "chebyshev"}
    assert "relukan" not in {r["kind"] for r in [*shared.values(), *tuned.values()]}  # never `relukan`
    every = {r["function"] for r in rows(f"{PEERS}/fit-peers/summary.csv")}
    return [{f for f, r in shared.items() if r["kind"] == "bspline"},
            {f for f, r in shared.items() if r["kind"] == "chebyshev"},
            min(float(r["time_e4"]) for r in shared.values()), WORDS[len({r["kind"] for r in tuned.values()})],
            *span([float(r["time_e4"]) for r in tuned.values()]), every - set(shared) - set(tuned)]


def forgets_least() -> list:
    kans = [r for r in rows(f"{PEERS}/forgetting-peers/summary.csv") if is_kan(r["kind"])]
    lost = {r["model"]: 100 * float(r["forgotten_fraction"]) for r in kans}
    local = [lost[r["model"]] for r in kans if kinds()[r["kind"]].basis == "local"]
    rank = 1 + sum(v < lost["relukan"] for v in lost.values())
    return [*span(local), lost["relukan"], rank, len(kans), lost["fourier"], lost["chebyshev"]]


ANSWERS: dict[str, dict[str, list[tuple[str, Source]]]] = {
    "about 20x faster": {
        "paper": [("{}x to {}x on CPU; {}x to {}x on GPU (20x only GPU vs GPU on {f})", speed_paper)],
        "ours, CPU": [("`relukan` {}x to {}x ({} functions, {} repeats); `relukan-fast` {}x to {}x", speed_cpu)],
        "ours, GPU (H200)": [("`relukan` {}x to {}x; `relukan-fast` {}x to {}x (f5: {} steps in {} s; "
                              "paper's ReLU-KAN: {} s)", speed_gpu)],
    },
    "where the speedup comes from": {
        "ours, CPU": [("implementation (pykan / `bspline`) {}x to {}x, basis (`bspline` / `relukan`) {}x to {}x: "
                       "{}% to {}% of the gap is the implementation (later runs: {}% to {}%, {}% to {}%)",
                       split_cpu)],
        "ours, GPU (H200)": [("implementation {}x to {}x, basis {}x to {}x", split_gpu)],
    },
    "two orders of magnitude more accurate": {
        "paper": [("{}x to {}x as plotted (KAN RMSE vs ReLU-KAN MSE); 1/{}x to {}x in MSE", accuracy_paper)],
        "ours, CPU": [("lower test MSE on {} of {} functions; KAN MSE / ReLU-KAN MSE 1/{}x "
                       "(geometric mean; Adam, lr 1e-3, {} seeds)", accuracy_cpu)],
        "verdict": [("at each model's best (tuned) 1/{}x, lower on {} of {}", lambda: gains(f"{TUNED}/fit-tuned"))],
    },
    "avoids catastrophic forgetting": {
        "ours, CPU": [("ReLU-KAN lost {}% of what it learned (median; {}% on one seed of {w}); KAN {}%; "
                       "an MLP of the same size more than it gained", forgetting_cpu)],
    },
    "fastest KAN? (not the paper's question)": {
        "ours, CPU": [("of {} KANs on {} shapes, `relukan-fast` trains fastest on {}, the Chebyshev KAN on {}; "
                       "`relukan` on none ({}nd to {}th)", fastest_kan)],
    },
    "most accurate KAN at equal size?": {
        "ours, CPU": [("at ReLU-KAN's size, each at its best ({} seeds): inkan on {f}, pykan's KAN by its `fit()` "
                       "on {f}, the B-spline KAN on {f}; `relukan` on none ({} of {} at Adam lr 1e-3)",
                       most_accurate)],
        "verdict": [("does not hold: {} of {}", most_accurate_verdict)],
    },
    "first KAN to MSE 1e-4?": {
        "ours, CPU": [("at equal size, Adam: the B-spline KAN on {f}, the Chebyshev KAN on {f} ({} s); each at its "
                       "best: {w} KANs, {} to {} s; never `relukan`, none on {f}", first_to_target)],
    },
    "forgets least?": {
        "ours, CPU": [("local bases lose {}% to {}% of their gains (`relukan` {}%, {}nd of {}), global ones "
                       "{}% (Fourier) and {}% (Chebyshev)", forgets_least)],
    },
}


def answer_table() -> dict[str, dict[str, str]]:
    """claim -> column -> cell."""
    text = README.read_text(encoding="utf-8")
    header = cells(next(line for line in text.splitlines() if line.startswith("| claim | paper |")))
    return {row[0]: dict(zip(header, row)) for row in table(text, "| claim | paper |")}


FIGURES = [(claim, column, template, source) for claim, columns in ANSWERS.items()
           for column, checks in columns.items() for template, source in checks]


@pytest.mark.parametrize("claim, column, template, source", FIGURES, ids=[f"{c}|{col}" for c, col, _, _ in FIGURES])
def test_each_figure_of_the_answer_table_is_its_committed_value(claim, column, template, source):
    check(answer_table()[claim][column], template, source)


def test_the_answer_table_has_no_figure_the_test_does_not_recompute():
    answers = answer_table()
    assert set(answers) == set(ANSWERS), "a row added or renamed: give its figures a source here"
    for claim, row in answers.items():
        for column, cell in row.items():
            if column == "claim":
                continue
            text = " ".join(cell.split())
            for template, _ in ANSWERS[claim].get(column, []):
                text = pattern(template).sub("", text)
            unchecked = re.sub(r"\bf\d\b", "", text)  # function names are no figures
            assert not re.search(r"\d", unchecked), f"{claim} / {column}: a figure no source checks in {text!r}"


# --- the README's other figures ------------------------------------------------------------

def reference_run() -> list:
    env = json.loads((ROOT / REF / "env.json").read_text(encoding="utf-8"))
    assert (env["threads"], env["torch"], env["pykan"]) == (1, "2.13.0+cpu", "0.2.8")
    assert env["git"]["commit"].startswith("30abe7e") and not env["git"]["dirty"]
    return [*minutes(f"{REF}/env.json"), env["cpu_count"]]


def against_pykan_005() -> list:
    summary = f"{BASELINES}/summary.csv"
    pykans = {r["model"] for r in rows(summary) if r["pykan_version"]}
    relukan = {r["function"]: float(r["median_s"]) for r in pick(summary, model="relukan")}
    ratio = {(r["function"], r["model"]): float(r["median_s"]) / relukan[r["function"]]
             for r in rows(summary) if r["model"] in pykans}
    assert max(ratio.values()) < 20  # "the 20x holds against none of them on the CPU"
    return [WORDS[len(pykans)], *span([v for (_, m), v in ratio.items() if m == "kan-0.0.5"])]


def fast_fits_as_reference() -> list:
    table_csv = f"{REF}/fit/table.csv"
    off = {r["function"]: float(r["relukan-fast_test_mse"]) / float(r["relukan_test_mse"]) - 1
           for r in rows(table_csv)}
    worst = max(off, key=lambda f: abs(off[f]))
    assert off[worst] > 0  # "worse"
    rest = {f: abs(v) for f, v in off.items() if f != worst}
    return [100 * max(rest.values()), set(rest), 100 * off[worst], {worst}]


def mlp_against_the_kans() -> list:
    speed, fit = f"{REF}/speed/table.csv", f"{REF}/fit/table.csv"
    for r in rows(speed):  # "trained faster than both plain KANs"
        assert float(r["mlp_cpu_s"]) < min(float(r["relukan_cpu_s"]), float(r["kan_cpu_s"]))
    for r in rows(fit):  # "fitted worse on every function"
        assert float(r["mlp_test_mse"]) > max(float(r["relukan_test_mse"]), float(r["kan_test_mse"]))
    return []


PROSE = [
    ("({} min {} s, one torch thread, torch 2.13.0+cpu, pykan 0.2.8, commit 30abe7e)", lambda: reference_run()[:2]),
    ("({} min {} s serially on {} cores, `reference-cpu/env.json`", reference_run),
    ("{} repeats, on an NVIDIA H200", lambda: sorted({int(r["n"]) for r in rows(f"{BENCH}/speed-cuda-summary.csv")})),
    ("Against {w} pykans ([`reference-cpu-baselines/`](results/reference-cpu-baselines/)), ReLU-KAN is {}x to {}x "
     "faster than pykan 0.0.5", against_pykan_005),
    ("`relukan-fast` fits within {}% of `relukan`'s test MSE on {f}, {}% worse on {f} (`reference-cpu/fit/`)",
     fast_fits_as_reference),
    ("A plain MLP with ReLU-KAN's parameter count trained faster than both plain KANs and fitted worse on every "
     "function.", mlp_against_the_kans),
]


@pytest.mark.parametrize("template, source", PROSE, ids=[t[:40] for t, _ in PROSE])
def test_the_readmes_other_figures_are_their_committed_values(template, source):
    check(README.read_text(encoding="utf-8"), template, source)


# --- docs/performance.md ---------------------------------------------------------------------

def bench(path: str, function: str, variant: str, col: str = "ms_per_step") -> float:
    """A benchmark's figure; its ratios are medians over rounds of each round's ratio."""
    return one(path, col, function=function, variant=variant)


def impls_row(f: str) -> list[float]:
    path = f"{BENCH}/impls.csv"
    return [*(bench(path, f, v) for v in ("reference", "fast", "fast+compile", "pykan")),
            bench(path, f, "fast", "reference_over_this"), bench(path, f, "fast+compile", "reference_over_this"),
            bench(path, f, "fast", "pykan_over_this")]


def basis_row(f: str) -> list[float]:
    path = f"{BENCH}/impls.csv"
    return [bench(path, f, "bspline"), bench(path, f, "mlp"), bench(path, f, "bspline", "pykan_over_this"),
            bench(path, f, "reference", "bspline_over_this"), bench(path, f, "fast", "bspline_over_this"),
            bench(path, f, "mlp", "reference_over_this")]


def gpu_row(f: str) -> list[float]:
    path = f"{BENCH}/impls-cuda.csv"
    return [*(bench(path, f, v) for v in ("reference", "fast", "pykan", "bspline", "mlp")),
            bench(path, f, "fast", "reference_over_this"), bench(path, f, "reference", "pykan_over_this"),
            bench(path, f, "fast", "pykan_over_this")]


BASELINE_ROWS = {"pykan 0.0.5, default": "kan-0.0.5", "pykan 0.1.2, default": "kan-0.1.2",
                 "pykan 0.2.8, default": "kan-0.2.8-default", "pykan 0.2.8, speed": "kan",
                 "pykan 0.2.8, speed-compile": "kan-0.2.8-compile"}


def paper_speedup(f: str, device: str = "cpu") -> float:
    speed = f"{PAPER}/speed.csv"
    return one(speed, f"kan_{device}_s", function=f) / one(speed, f"relukan_{device}_s", function=f)


def against_row(label: str) -> list[float]:
    """A pykan's ms per step and ReLU-KAN's speedup over it, function by function."""
    summary = f"{BASELINES}/summary.csv"
    if label == "(ReLU-KAN itself)":
        return [one(summary, "ms_per_step", function=f, model="relukan") for f in FUNCTIONS]
    if label == "the paper, CPU":
        return [paper_speedup(f) for f in FUNCTIONS]
    found = []
    for f in FUNCTIONS:
        (pykan,) = pick(summary, function=f, model=BASELINE_ROWS[label])
        found += [float(pykan["ms_per_step"]),
                  float(pykan["median_s"]) / one(summary, "median_s", function=f, model="relukan")]
    return found


def effort_row(key: str) -> list[float]:
    function, relukan = key.split("|")[:2]
    (row,) = pick(f"{BASELINES}/decomposition.csv", function=function, relukan=relukan.strip("`"))
    return [float(row[c]) for c in ("total", "implementation", "basis", "basis_low", "basis_high")]


def phases_row(key: str) -> list[float]:
    function, model = key.split("|")
    (row,) = pick(f"{BASELINES}/summary.csv", function=function, model=model.strip("`"))
    phases = ("ms_per_step", "forward_ms", "backward_ms", "optimizer_ms", "peak_memory_mb")
    return [float(row[c]) for c in phases if row[c]]  # a fused step has no forward of its own


SEEDS_ROWS = {  # a row of the batched-seeds table -> the file and implementation it comes from
    "fast, batched vs sequential": ("seeds.csv", "fast"),
    "fast + compile, batched vs sequential": ("seeds.csv", "fast+compile"),
    "reference, batched vs sequential": ("seeds.csv", "reference"),
    "fast, glibc's default malloc, batched vs sequential (an earlier run)": ("seeds-default-malloc.csv", "fast"),
    "**on an H200**: fast (CUDA graph), batched vs sequential": ("seeds-cuda.csv", "fast"),
}


def seeds_row(label: str) -> list[float]:
    if label == "fast batched vs reference sequential (what `fit` did before)":
        seeds = f"{BENCH}/seeds.csv"
        return [one(seeds, "sequential_ms", function=f, impl="reference")
                / one(seeds, "batched_ms", function=f, impl="fast") for f in FUNCTIONS]
    path, impl = SEEDS_ROWS[label]
    return floats(f"{BENCH}/{path}", "throughput_ratio", impl=impl)


# header of the table -> (its rows, the cells that name a row, a row's values from the committed files)
TABLES: dict[str, tuple[int, int, Callable[[str], list[float]]]] = {
    "| function | width, grid | reference ms |": (5, 2, lambda key: impls_row(key.split("|")[0])),
    "| function | bspline ms | mlp ms |": (5, 1, basis_row),
    "| function | reference | fast | pykan |": (5, 1, gpu_row),
    "| against | f1 | f2 |": (7, 1, against_row),
    "| function | ReLU-KAN | B-spline KAN | equal effort |": (15, 4, effort_row),
    "| function | model | ms per step |": (22, 2, phases_row),
    "| | f1 | f2 | f3 | f4 | f5 |": (6, 1, seeds_row),
}


@pytest.mark.parametrize("header", TABLES)
def test_each_figure_of_the_performance_tables_is_its_committed_value(header):
    count, labels, source = TABLES[header]
    found = table(PERFORMANCE.read_text(encoding="utf-8"), header)
    assert len(found) == count, "a row added, dropped or no longer a table row"
    for row in found:
        shown = re.findall(NUMBER, " ".join(row[labels:]))
        expected = source("|".join(row[:labels]))
        assert len(shown) == len(expected), (row, expected)
        wrong = [(s, e) for s, e in zip(shown, expected) if not printed_as(s, e)]
        assert not wrong, f"{row[:labels]}: shown {shown}, the committed files give {expected}"


def compile_seconds() -> list[float]:
    return span([1000 * x for x in floats(f"{BASELINES}/summary.csv", "compile_s", model="kan-0.2.8-compile")])


def fast_over_pykan_005() -> list[float]:
    summary = f"{BASELINES}/summary.csv"
    return [one(summary, "median_s", function=f, model="kan-0.0.5")
            / one(summary, "median_s", function=f, model="relukan-fast") for f in FUNCTIONS]


def f5_in_500_steps() -> list[float]:
    step_ms = [one(f"{BENCH}/{name}", "ms_per_step", function="f5", variant="fast-500-steps")
               for name in ("impls-cuda.csv", "impls-cuda-f5-compile.csv")]
    return [500 * step_ms[0] / 1000, step_ms[0], 500 * step_ms[1] / 1000,
            one(f"{BENCH}/speed-cuda-summary.csv", "median_s", function="f5", model="relukan-fast")]


PERFORMANCE_PROSE = [
    ("each repeat; {} min {} s (its env.json, start to end), no failed unit",
     lambda: minutes(f"{BASELINES}/env.json")),
    ("`compile_s`, each function's median, is {} to {} ms", compile_seconds),
    ("over pykan 0.0.5 it is {}x, {}x, {}x, {}x and {}x faster on f1 to f5", fast_over_pykan_005),
    ("**met: {} s** (`fast-500-steps` in `performance/impls-cuda.csv`, {} ms a step; {} s in a second run, "
     "`impls-cuda-f5-compile.csv`; {} s, the median of the speed run below", f5_in_500_steps),
    ("the paper-faithful ReLU-KAN was {}x to {}x faster than pykan (the paper: {}x to {}x on its GPU), "
     "`relukan-fast` {}x to {}x", lambda: [*speed_gpu()[:2], *speed_paper()[2:4], *speed_gpu()[2:4]]),
    ("implementation (pykan / bspline) {}-{}x, basis {}-{}x", split_gpu),
]


@pytest.mark.parametrize("template, source", PERFORMANCE_PROSE, ids=[t[:40] for t, _ in PERFORMANCE_PROSE])
def test_the_performance_pages_headline_figures_are_their_committed_values(template, source):
    check(PERFORMANCE.read_text(encoding="utf-8"), template, source)


# --- docs/peers.md -----------------------------------------------------------------------------

def peer(run: str, function: str, model: str, col: str) -> float:
    """A fit summary's figure; a tuned run's by the candidate its model kept."""
    (row,) = [r for r in pick(f"{PEERS}/{run}/summary.csv", function=function, selected="True")
              if model in (r["model"], r["tuned_model"])]
    return float(row[col])


def started(part: str) -> datetime:
    env = json.loads((ROOT / PEERS / part / "env.json").read_text(encoding="utf-8"))
    return datetime.fromisoformat(env["start_time"])


def start_to_start(part: str, following: str) -> list[float]:
    seconds = (started(following) - started(part)).total_seconds()
    return [seconds // 60, seconds % 60]


def first_to_target_shared() -> list[float]:
    found = []
    for f, model in (("f1", "chebyshev-matched"), ("f4", "chebyshev-matched")):
        found += [peer("fit-peers", f, model, "time_e4"), peer("fit-peers", f, model, "steps_e4")]
    return found + [peer("fit-peers", f, "bspline-matched", "time_e4") for f in ("f2", "f3", "f5")]


def at_their_best() -> list[float]:
    tuned = "fit-peers-tuned"
    return [peer(tuned, "f1", "inkan-matched", "final_test_mse"), peer(tuned, "f2", "inkan-matched", "final_test_mse"),
            *(peer(tuned, f, "kan-matched", "final_test_mse") for f in ("f3", "f4", "f5")),
            *(peer(tuned, "f6", "bspline-matched", c)
              for c in ("final_test_mse", "final_test_mse_min", "final_test_mse_max"))]


PEERS_PROSE = [
    ("(pykan's and ours are the same model and tie; {} on f1 against ReLU-KAN's {})",
     lambda: [peer("fit-peers", "f1", model, "final_test_mse") for model in ("bspline-matched", "relukan")]),
    ("the Chebyshev KAN on f1 ({} s, {} steps) and f4 ({} s, {} steps), our B-spline KAN on f2, f3 and f5 ({} s, {} s, "
     "{} s)", first_to_target_shared),
    ("the most accurate KAN is inkan on f1 ({}) and f2 ({}, LBFGS), pykan's KAN trained by its `fit()` on f3 to f5 "
     "({}, {}, {}), our B-spline KAN on f6 ({} [{} to {}])", at_their_best),
    ("`speed-peers/` {} min {} s ({} units), `speed-scale/` {} min {} s ({} units",
     lambda: [*start_to_start("speed-peers", "speed-scale"), len(rows(f"{PEERS}/speed-peers/raw.csv")),
              *start_to_start("speed-scale", "fit"), len(rows(f"{PEERS}/speed-scale/raw.csv"))]),
    ("The default `speed/` part took {} min {} s", lambda: start_to_start("speed", "speed-peers")),
    ("`fit-peers/` {} min {} s ({} training runs",
     lambda: [*start_to_start("fit-peers", "forgetting-peers"), len(rows(f"{PEERS}/fit-peers/runs.csv"))]),
]


@pytest.mark.parametrize("template, source", PEERS_PROSE, ids=[t[:40] for t, _ in PEERS_PROSE])
def test_the_peers_pages_figures_are_their_committed_values(template, source):
    check((ROOT / "docs" / "peers.md").read_text(encoding="utf-8"), template, source)
