"""Tiny configs the command-line tests share: every model kind, seconds to run."""

SPEED = """\
experiment: speed
seed: 0
baseline: kan
data: {samples: 64}
train: {steps: 3}
timing: {repeats: 2, warmup_steps: 1}
models:
  - {name: relukan, kind: relukan}
  - {name: kan, kind: kan}
functions:
  - {name: f1, expression: sin(pi*x1), width: [1, 1], grid: 5, k: 3}
  - {name: f2, expression: sin(pi*x1 + pi*x2), width: [2, 1], grid: 5, k: 3}
  - {name: g, expression: x1*x2, width: [2, 1], grid: 3, k: 2}
"""

FIT = """\
experiment: fit
seeds: [0, 1]
baseline: kan
data: {train_samples: 64, test_samples: 16}
train: {steps: 12, lr: 0.01, log_every: 5}
models:
  - {name: relukan, kind: relukan}
  - {name: kan, kind: kan}
  - {name: kan-pykan-fit, kind: kan, pykan_fit: {opt: Adam, lr: 0.1}}
functions:
  - {name: f1, expression: sin(pi*x1), width: [1, 1], grid: 5, k: 3}
  - {name: f4, expression: sin(pi*x1 + pi*x2), width: [2, 5, 1], grid: 5, k: 3}
"""

FORGETTING = """\
experiment: forgetting
seeds: [0, 1]
data: {points: 300, segments: 3}
network: {width: [1, 1], grid: 12, k: 1}
train: {steps_per_phase: 8, lr: 0.01, log_every: 4}
models:
  - {name: relukan, kind: relukan}
  - {name: kan, kind: kan}
  - {name: mlp, kind: mlp}
"""
