"""The fast ReLU-KAN layer: the reference's math in fewer, cheaper passes over memory.

Same function and same parameters as `ReLUKANLayer` (s, e, the Linear's weight and bias); two
things change, both measured in `benchmarks/` and explained in docs/performance.md:

1. **Feature-major layout.** Activations travel as (features, B) instead of (B, features), so
   the basis is (in, G+k, B) with the batch innermost. The reference's (B, in, G+k) basis puts
   the short G+k axis innermost and broadcasts x along it, which PyTorch's elementwise loops do
   several times slower than a long contiguous axis. The flattened basis (in*(G+k), B) has the
   reference's feature order (input-major, basis-minor), so the weight is used as it is:
   y^T = W @ phi + b.

2. **One autograd node per layer with a hand-written backward.** The reference graph keeps
   about ten intermediate tensors per layer and its backward walks them op by op. Here the
   forward keeps the two clamped distances d1 = ReLU(x - s), d2 = ReLU(e - x), their product
   p and the basis phi = p^2, and the backward is, with t = 2 r^2 (W^T g) * p:

       dW = r^2 g phi^T      db = sum_B g
       ds = -sum_B t d2      de = sum_B t d1      dx = sum_i t (d2 - d1)

   (ReLU's derivative needs no mask: where either distance is clamped to zero, p = 0 and so
   t = 0.) The normalisation r^2 is applied to the small matrices (as the matmul's alpha and
   to dW), never to a basis-sized tensor. Gradients nobody asked for are not computed: the
   first layer's dx, and ds/de when s and e are fixed.

Every function here also takes a leading seed axis: activations (S, features, B), parameters
(S, ...), so that `models.batched` trains several seeds as one model with the same code.
"""

from __future__ import annotations

from typing import Sequence

import torch

#: What a layer's forward keeps for its backward: (d1, d2, p, phi), or (x, s, e, None) for a
#: blocked layer, whose backward recomputes its basis.
Saved = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]
#: A layer's gradients (gx, gs, ge, gw, gb), None where not needed.
Grads = tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]


def _matmul_bias(bias: torch.Tensor, weight: torch.Tensor, phi: torch.Tensor, alpha: float) -> torch.Tensor:
    """alpha * weight @ phi + bias[..., None]: (.., out, m) @ (.., m, B) -> (.., out, B)."""
    if weight.dim() == 2:
        return torch.addmm(bias.unsqueeze(-1), weight, phi, alpha=alpha)
    return torch.baddbmm(bias.unsqueeze(-1), weight, phi, alpha=alpha)


#: A layer whose basis has more elements than this (in * (G+k) * B, per seed) runs in blocks of
#: batch columns (`_blocked_forward`, `_blocked_backward`): the basis is never stored whole and is
#: recomputed in the backward, so it lives in the CPU's caches instead of crossing memory a dozen
#: times. Below it (every paper shape) the whole basis is kept, which costs fewer operations.
BLOCK_ABOVE = 1 << 20
#: Basis elements per block (2 MB of float32). Measured at 256x256, G5, batch 4096, 1 thread:
#: blocks of 2^16 to 2^21 elements gave 2.0, 1.4, 1.3, 1.1-1.25, 1.4 and 1.45x nn.Linear's step.
BLOCK_ELEMENTS = 1 << 19
#: The same on a GPU, where blocks exist only to bound memory: each block costs a dozen kernel
#: launches, and there is no cache to fit in. Measured on an H200 at 256x256, G5, batch 4096
#: (2^23 basis elements): in CPU-sized blocks a step took 6.0 ms, 3.4x the reference's.
CUDA_BLOCK_ABOVE = 1 << 27
CUDA_BLOCK_ELEMENTS = 1 << 26


def _bumps(x: torch.Tensor, s: torch.Tensor, e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """d1 = ReLU(x - s), d2 = ReLU(e - x) and p = d1 d2: (.., in, B) -> (.., in, n, B) each."""
    xb = x.unsqueeze(-2)  # (.., in, 1, B)
    d1 = (xb - s.unsqueeze(-1)).clamp_min_(0)
    d2 = (e.unsqueeze(-1) - xb).clamp_min_(0)
    return d1, d2, d1 * d2


def _block_width(x: torch.Tensor, s: torch.Tensor) -> int:
    """Batch columns per block, or 0 to keep the whole basis. Counts every seed of a batch."""
    per_column = x[..., :1].numel() * s.shape[-1]  # basis elements of one batch column
    above, elements = (CUDA_BLOCK_ABOVE, CUDA_BLOCK_ELEMENTS) if x.is_cuda else (BLOCK_ABOVE, BLOCK_ELEMENTS)
    if per_column * x.shape[-1] <= above:
        return 0
    return max(32, elements // per_column)


def _layer_forward(x: torch.Tensor, s: torch.Tensor, e: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                   r2: float) -> tuple[torch.Tensor, Saved]:
    """One layer forward, feature-major; returns y and what its backward needs: (d1, d2, p,
    phi), or (x, s, e, None) for a blocked layer, whose backward recomputes its basis."""
    width = _block_width(x, s)
    if width:
        return _blocked_forward(x, s, e, weight, bias, r2, width), (x, s, e, None)
    d1, d2, p = _bumps(x, s, e)  # (.., in, n, B)
    phi = (p * p).flatten(-3, -2)  # (.., in*n, B)
    return _matmul_bias(bias, weight, phi, r2), (d1, d2, p, phi)  # (.., out, B)


def _layer_backward(grad: torch.Tensor, saved: Sequence[torch.Tensor | None], weight: torch.Tensor, r2: float,
                    need_x: bool, need_s: bool, need_e: bool, need_w: bool, need_b: bool) -> Grads:
    """One layer backward: (gx, gs, ge, gw, gb), None where not needed."""
    d1, d2, p, phi = saved
    assert d1 is not None and d2 is not None and p is not None  # only a blocked layer's phi is None
    if phi is None:  # a blocked layer saved x, s, e in their places
        return _blocked_backward(grad, d1, d2, p, weight, r2, need_x, need_s, need_e, need_w, need_b)
    gx = gs = ge = gw = gb = None
    if need_w:
        gw = torch.matmul(grad, phi.transpose(-1, -2)).mul_(r2)  # (.., out, in*n)
    if need_b:
        gb = grad.sum(-1)  # (.., out)
    if need_x or need_s or need_e:
        scaled = grad * (2.0 * r2)  # (.., out, B): small
        t = torch.matmul(weight.transpose(-1, -2), scaled).view_as(p).mul_(p)  # (.., in, n, B)
        u = t * d2 if (need_s or need_x) else None
        v = t.mul_(d1) if (need_e or need_x) else None
        if need_s and u is not None:
            gs = u.sum(-1).neg_()
        if need_e and v is not None:
            ge = v.sum(-1)
        if need_x and u is not None and v is not None:
            gx = u.sub_(v).sum(-2)  # (.., in, B)
    return gx, gs, ge, gw, gb


def _blocked_forward(x: torch.Tensor, s: torch.Tensor, e: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                     r2: float, width: int) -> torch.Tensor:
    """`_layer_forward` block by block of `width` batch columns."""
    blocks = []
    for start in range(0, x.shape[-1], width):
        _, _, p = _bumps(x[..., start:start + width], s, e)
        blocks.append(_matmul_bias(bias, weight, p.mul_(p).flatten(-3, -2), r2))
    return torch.cat(blocks, dim=-1)


def _blocked_backward(grad: torch.Tensor, x: torch.Tensor, s: torch.Tensor, e: torch.Tensor, weight: torch.Tensor,
                      r2: float, need_x: bool, need_s: bool, need_e: bool, need_w: bool, need_b: bool) -> Grads:
    """`_layer_backward` block by block, the basis recomputed from x; the weight's, s's and
    e's gradients summed over the blocks."""
    width = _block_width(x, s)
    gx = torch.empty_like(x) if need_x else None
    gs = torch.zeros_like(s) if need_s else None
    ge = torch.zeros_like(e) if need_e else None
    gw = torch.zeros_like(weight) if need_w else None
    gb = grad.sum(-1) if need_b else None
    basis_grad = need_x or need_s or need_e
    scaled = grad * (2.0 * r2) if basis_grad else None
    weight_t = weight.transpose(-1, -2)
    for start in range(0, x.shape[-1], width):
        block = slice(start, start + width)
        d1, d2, p = _bumps(x[..., block], s, e)
        if gw is not None:
            phi_t = (p * p).flatten(-3, -2).transpose(-1, -2)  # (.., Bc, in*n)
            gw.add_(torch.matmul(grad[..., block], phi_t))
        if scaled is not None:
            t = torch.matmul(weight_t, scaled[..., block]).view_as(p).mul_(p)
            u = t * d2 if (need_s or need_x) else None
            v = t.mul_(d1) if (need_e or need_x) else None
            if gs is not None and u is not None:
                gs.sub_(u.sum(-1))
            if ge is not None and v is not None:
                ge.add_(v.sum(-1))
            if gx is not None and u is not None and v is not None:
                gx[..., block] = u.sub_(v).sum(-2)
    if gw is not None:
        gw.mul_(r2)
    return gx, gs, ge, gw, gb


def _forward(x: torch.Tensor, r2s: Sequence[float],
             params: Sequence[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
    """Every layer forward: the output and each layer's saved tensors, four per layer."""
    saved: list[torch.Tensor | None] = []
    for layer, r2 in enumerate(r2s):
        s, e, weight, bias = params[4 * layer: 4 * layer + 4]
        x, tensors = _layer_forward(x, s, e, weight, bias, r2)
        saved.extend(tensors)
    return x, saved


def _backward(grad: torch.Tensor, saved: Sequence[torch.Tensor | None], weights: Sequence[torch.Tensor],
              r2s: Sequence[float], needs: Sequence[bool],
              need_input: bool) -> tuple[torch.Tensor | None, list[torch.Tensor | None]]:
    """Every layer backward from the output's gradient: the input's gradient (None unless
    `need_input`) and the parameters' (None where `needs` says no)."""
    n = len(r2s)
    grads: list[torch.Tensor | None] = [None] * (4 * n)
    gx: torch.Tensor | None = grad
    for layer in reversed(range(n)):
        gx, *mine = _layer_backward(grad, saved[4 * layer: 4 * layer + 4], weights[layer], r2s[layer],
                                    layer > 0 or need_input, *needs[4 * layer: 4 * layer + 4])
        grads[4 * layer: 4 * layer + 4] = mine
        if gx is not None:  # None only out of the first layer, when its input needs none
            grad = gx
    return gx, grads


class ReLUKANFunction(torch.autograd.Function):
    """A whole stack of ReLU-KAN layers as one autograd node, feature-major.

    `apply(x, r2s, *params)`: x (.., in, B); r2s the layers' r^2; params four per layer,
    s and e (.., in, n), weight (.., out, in*n), bias (.., out); returns (.., out, B).
    n = G + k. One node instead of one per layer: the autograd bookkeeping of a custom
    function costs tens of microseconds, as much as a small layer's arithmetic.
    """

    @staticmethod
    def forward(ctx, x, r2s, *params):
        y, saved = _forward(x, r2s, params)
        ctx.save_for_backward(*saved, *params[2::4])  # the layers' saved tensors, then the weights
        ctx.r2s = r2s
        return y

    @staticmethod
    def backward(ctx, grad):
        n = len(ctx.r2s)
        tensors = ctx.saved_tensors
        needs = ctx.needs_input_grad  # (x, r2s, s0, e0, w0, b0, s1, ...)
        gx, grads = _backward(grad, tensors[:4 * n], tensors[4 * n:], ctx.r2s, needs[2:], needs[0])
        return (gx, None, *grads)


def relukan_t(x: torch.Tensor, r2s: tuple[float, ...], params: list[torch.Tensor]) -> torch.Tensor:
    """ReLU-KAN layers on feature-major activations: (.., in, B) -> (.., out, B).
    `params` holds s, e, weight, bias of every layer in order; `r2s` their r^2."""
    return ReLUKANFunction.apply(x, tuple(r2s), *params)


def mse_grads(
    x: torch.Tensor, y: torch.Tensor, r2s: tuple[float, ...], params: list[torch.Tensor], needs: tuple[bool, ...]
) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
    """The MSE of the layers' output against `y` and its gradients, without autograd.

    x (.., in, B) and y (.., out, B) feature-major; `params` four per layer as in
    `relukan_t`, `needs[i]` whether params[i] wants a gradient. Returns the loss (a scalar,
    or one per seed when there is a leading seed axis: each seed's own mean) and the gradients
    of (the sum of) it, None where not needed. A pure function: nothing is modified, which is
    what lets `torch.compile` and CUDA graphs take it whole.
    """
    out, saved = _forward(x, r2s, params)
    diff = out - y  # (.., out, B)
    count = diff.shape[-1] * diff.shape[-2]
    loss = (diff * diff).sum((-2, -1)) / count  # (..,)
    _, grads = _backward(diff.mul_(2.0 / count), saved, params[2::4], r2s, needs, need_input=False)
    return loss, grads
