import pytest
import torch
from torch import nn

from instdet.models.pooling import MaxPool


@pytest.mark.parametrize("kernel", [(1, 2), (2, 2), (2, 1), (4, 2), (1, 1)])
@pytest.mark.parametrize("shape", [(2, 3, 16, 8), (1, 4, 17, 9), (1, 1, 5, 3)])
def test_predicting_gives_maxpool2d_numbers(kernel, shape):
    torch.manual_seed(0)
    x = torch.randn(*shape)
    x[0, 0, :2] = 0.0  # ties, as after a ReLU
    ref = nn.MaxPool2d(kernel)(x)
    with torch.inference_mode():
        got = MaxPool(kernel)(x)
    assert got.shape == ref.shape and torch.equal(got, ref)
    with torch.no_grad():
        assert torch.equal(MaxPool(kernel)(x), ref)


@pytest.mark.parametrize("kernel", [(1, 2), (2, 2)])
def test_training_keeps_maxpool2d_gradients(kernel):
    # Ties at positive values: max_pool2d sends a window's gradient to one element, the
    # element-wise maximum would split it, so only the max_pool2d path passes.
    x = torch.ones(2, 3, 16, 8, requires_grad=True)
    ref, got = nn.MaxPool2d(kernel)(x), MaxPool(kernel)(x)
    w = torch.randn_like(ref)
    (g_ref,) = torch.autograd.grad((ref * w).sum(), x)
    (g_got,) = torch.autograd.grad((got * w).sum(), x)
    assert torch.equal(got, ref) and torch.equal(g_got, g_ref)
    assert "MaxPool" in type(got.grad_fn).__name__


def test_no_weights_and_a_readable_repr():
    pool = MaxPool((1, 2))
    assert not pool.state_dict() and "kernel=(1, 2)" in repr(pool)
