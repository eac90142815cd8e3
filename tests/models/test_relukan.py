"""The paper-faithful ReLU-KAN: basis values, the reference's Conv2d form, gradients."""

import pytest
import torch
from torch import nn

from relukan_bench.models.relukan import ReLUKAN, ReLUKANLayer
from tests.close import assert_close_scaled


def closed_form(x, s, e):
    """R(x) = [ReLU(e - x) * ReLU(x - s)]^2 * 16 / (e - s)^4, the paper's eq. (6)."""
    return (torch.relu(e - x) * torch.relu(x - s)) ** 2 * 16 / (e - s) ** 4


@pytest.mark.parametrize("grid,k", [(5, 3), (10, 3), (25, 1), (3, 0)])
def test_grid_matches_the_paper(grid, k):
    layer = ReLUKANLayer(2, 1, grid, k)
    i = torch.arange(grid + k, dtype=torch.float32)
    assert layer.s.shape == layer.e.shape == (2, grid + k)
    torch.testing.assert_close(layer.s[0], (i - k) / grid)
    torch.testing.assert_close(layer.e[1], (i - k) / grid + (k + 1) / grid)
    assert layer.r == pytest.approx(4 * grid**2 / (k + 1) ** 2)


@pytest.mark.parametrize("input_range", [(0.0, 1.0), (-2.0, 3.0)])
def test_basis_is_one_at_each_centre_and_zero_outside(input_range):
    grid, k = 5, 3
    layer = ReLUKANLayer(1, 1, grid, k, input_range=input_range)
    s, e = layer.s[0].detach(), layer.e[0].detach()
    centres = (s + e) / 2  # (G+k,)
    phi = layer.basis(centres[:, None])  # (G+k, 1, G+k): every centre against every basis
    torch.testing.assert_close(torch.diagonal(phi[:, 0, :]), torch.ones(grid + k))
    # Outside its support [s_i, e_i] every basis is exactly zero.
    outside = torch.cat([s - 1e-3, e + 1e-3, s - 1.0, e + 1.0])
    phi_out = layer.basis(outside[:, None])[:, 0, :]
    for j in range(grid + k):
        assert phi_out[j, j] == 0 and phi_out[grid + k + j, j] == 0
        assert phi_out[2 * (grid + k) + j, j] == 0 and phi_out[3 * (grid + k) + j, j] == 0


def test_basis_matches_the_closed_form_at_chosen_points():
    layer = ReLUKANLayer(3, 2, 5, 3)
    x = torch.tensor([[0.0, 0.5, 1.0], [0.13, 0.77, -0.05], [0.9, 0.21, 0.6]])
    expected = closed_form(x[:, :, None], layer.s.detach(), layer.e.detach())
    torch.testing.assert_close(layer.basis(x), expected)
    # hand-computed: G=5, k=3, basis i=3 spans [0, 0.8]; at x=0.2: (0.6*0.2)^2*16/0.8^4
    assert layer.basis(torch.tensor([[0.2, 0.0, 0.0]]))[0, 0, 3].item() == pytest.approx((0.6 * 0.2) ** 2 * 16 / 0.8**4, rel=1e-6)


def test_shapes():
    model = ReLUKAN([4, 4, 2, 1], grid=10, k=3)
    assert model(torch.rand(7, 4)).shape == (7, 1)
    layer = model.layers[0]
    assert layer.basis(torch.rand(7, 4)).shape == (7, 4, 13)
    assert layer(torch.rand(7, 4)).shape == (7, 4)


class ReferenceConvLayer(nn.Module):
    """The reference code's formulation: input (B, in, 1), basis reshaped WITHOUT a permute to
    (B, 1, G+k, in), a Conv2d whose kernel covers the whole plane, output (B, out, 1)."""

    def __init__(self, in_features, out_features, grid, k):
        super().__init__()
        self.grid, self.k, self.in_features, self.out_features = grid, k, in_features, out_features
        self.r = 4 * grid * grid / ((k + 1) * (k + 1))
        low = torch.arange(-k, grid, dtype=torch.float64) / grid
        self.low = nn.Parameter(low.float().repeat(in_features, 1))
        self.high = nn.Parameter((low + (k + 1) / grid).float().repeat(in_features, 1))
        self.conv = nn.Conv2d(1, out_features, (grid + k, in_features))

    def forward(self, x):  # (B, in, 1)
        x1 = torch.relu(x - self.low)
        x2 = torch.relu(self.high - x)
        x = x1 * x2 * self.r
        x = x * x
        x = x.reshape((len(x), 1, self.grid + self.k, self.in_features))
        x = self.conv(x)
        return x.reshape((len(x), self.out_features, 1))


@pytest.mark.parametrize("width,grid", [([1, 1], 5), ([2, 5, 1], 5), ([4, 4, 2, 1], 10)])
def test_equivalent_to_the_reference_conv2d_form(width, grid):
    torch.manual_seed(0)
    k = 3
    reference = nn.ModuleList(ReferenceConvLayer(a, b, grid, k) for a, b in zip(width[:-1], width[1:]))
    ours = ReLUKAN(width, grid, k)
    with torch.no_grad():
        for ref, layer in zip(reference, ours.layers):
            # The reshape reinterprets the same memory, so the flattened conv kernel IS the Linear weight.
            layer.linear.weight.copy_(ref.conv.weight.reshape(layer.out_features, -1))
            layer.linear.bias.copy_(ref.conv.bias)
            torch.testing.assert_close(layer.s, ref.low)
            torch.testing.assert_close(layer.e, ref.high)
    x = torch.rand(256, width[0]) * 1.2 - 0.1
    h = x[:, :, None]
    for ref in reference:
        h = ref(h)
    # a matmul against a convolution: sums in another order, outputs that cross zero
    # (each within ~1.4e-6 of the float64 result on [4, 4, 2, 1], relative to the largest output)
    assert_close_scaled(ours(x), h[:, :, 0], rtol=3e-5, what="Linear vs Conv2d")


@pytest.mark.parametrize("train_se", [True, False])
def test_gradients_reach_s_and_e_only_when_trainable(train_se):
    torch.manual_seed(0)
    model = ReLUKAN([2, 3, 1], grid=5, k=3, train_se=train_se)
    model(torch.rand(64, 2)).pow(2).mean().backward()
    for layer in model.layers:
        assert layer.s.requires_grad is train_se and layer.e.requires_grad is train_se
        assert layer.linear.weight.grad is not None and layer.linear.weight.grad.abs().sum() > 0
        if train_se:
            assert layer.s.grad is not None and layer.s.grad.abs().sum() > 0
            assert layer.e.grad is not None and layer.e.grad.abs().sum() > 0
        else:
            assert layer.s.grad is None and layer.e.grad is None
    n_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    linear = (2 * 8 + 1) * 3 + (3 * 8 + 1) * 1
    se = 2 * (2 * 8 + 3 * 8)
    assert n_trainable == linear + (se if train_se else 0)


def test_r_is_fixed_when_s_and_e_train():
    layer = ReLUKANLayer(1, 1, 5, 3)
    r = layer.r
    optimizer = torch.optim.Adam(layer.parameters(), lr=0.1)
    for _ in range(5):
        optimizer.zero_grad()
        layer(torch.rand(32, 1)).pow(2).mean().backward()
        optimizer.step()
    assert layer.r == r
    assert not torch.equal(layer.s.detach(), ReLUKANLayer(1, 1, 5, 3).s.detach())


def test_moves_to_a_device_with_its_grid():
    layer = ReLUKANLayer(2, 1, 5, 3).to(torch.float64)
    assert layer.s.dtype == torch.float64 and layer(torch.rand(3, 2, dtype=torch.float64)).dtype == torch.float64


def test_rejects_bad_arguments():
    with pytest.raises(ValueError):
        ReLUKAN([3], 5, 3)
    with pytest.raises(ValueError):
        ReLUKANLayer(1, 1, 0, 3)
    with pytest.raises(ValueError):
        ReLUKANLayer(1, 1, 5, 3, input_range=(1.0, 1.0))
