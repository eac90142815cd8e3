"""The devices a test runs on: the CPU always, CUDA where there is one (skipped elsewhere).

CI has no GPU; these tests run on one when the project is checked on a machine that has it
(docs/performance.md, section "GPU")."""

import pytest
import torch

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")

#: pytest params for a `device` argument.
DEVICES = [pytest.param("cpu", id="cpu"), pytest.param("cuda", id="cuda", marks=needs_cuda)]
