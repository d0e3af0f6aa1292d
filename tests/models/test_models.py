import pytest
import torch

from instdet.errors import InstdetError
from instdet.models import MODELS, build_model, count_parameters


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("t", [1, 7, 300])
def test_shapes(name, t):
    model = build_model(name, n_mels=128, n_classes=31).eval()
    with torch.no_grad():
        out = model(torch.randn(2, t, 128))
    assert out.shape == (2, t, 31)
    assert count_parameters(model) > 10_000


@pytest.mark.parametrize("name", list(MODELS))
def test_frames_are_independent_of_batch_mates(name):
    model = build_model(name, n_mels=64, n_classes=31).eval()
    x = torch.randn(3, 50, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x)[1], model(x[1:2])[0], rtol=1e-4, atol=1e-4)


def test_seed_architecture_of_crnn():
    m = build_model("crnn", n_mels=128, n_classes=31)
    assert m.conv[0].out_channels == 32 and m.conv[4].out_channels == 32
    assert m.lstm.hidden_size == 64 and m.lstm.bidirectional
    assert m.head[0].out_features == 128 and m.head[2].out_features == 31


def test_mlp_context():
    m = build_model("mlp", n_mels=128, n_classes=31, settings={"context": 0})
    assert m.net[0].in_features == 128


def test_bad_names():
    with pytest.raises(InstdetError, match="unknown model"):
        build_model("resnet", n_mels=128, n_classes=31)
    with pytest.raises(InstdetError, match="unknown settings"):
        build_model("mlp", n_mels=128, n_classes=31, settings={"depth": 3})
