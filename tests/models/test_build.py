"""build_model: config entries to seeded, fresh models."""

import torch

from relukan_bench.config import FunctionSpec
from relukan_bench.kinds.kan import KANSpec
from relukan_bench.kinds.relukan import ReLUKANSpec
from relukan_bench.kinds import build_model
from relukan_bench.models import count_parameters

F4 = FunctionSpec(name="f4", expression="exp(sin(pi*x1) + x2**2)", width=[2, 5, 1], grid=5, k=3)


def test_same_seed_same_model_and_global_state_untouched():
    torch.manual_seed(5)
    before = torch.get_rng_state()
    spec = ReLUKANSpec(name="relukan", kind="relukan")
    a, b = build_model(spec, F4, (0.0, 1.0), 3), build_model(spec, F4, (0.0, 1.0), 3)
    c = build_model(spec, F4, (0.0, 1.0), 4)
    assert torch.equal(torch.get_rng_state(), before)
    x = torch.rand(8, 2)
    assert torch.equal(a(x), b(x)) and not torch.equal(a(x), c(x))


def test_options_reach_the_models():
    fixed = build_model(ReLUKANSpec(name="r", kind="relukan", train_se=False), F4, (0.0, 1.0), 0)
    assert not fixed.layers[0].s.requires_grad
    assert count_parameters(fixed) == (2 * 8 + 1) * 5 + (5 * 8 + 1)
    kan = build_model(KANSpec(name="kan", kind="kan"), F4, (-1.0, 1.0), 0)
    assert kan.grid_range == (-1.0, 1.0)  # default: the data domain
    kan = build_model(KANSpec(name="kan", kind="kan", grid_range=[0.0, 2.0]), F4, (-1.0, 1.0), 0)
    assert kan.grid_range == (0.0, 2.0)
