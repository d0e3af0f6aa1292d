import pytest
import torch

from instdet.errors import InstdetError
from instdet.models import MODELS, build_model, count_parameters

SINGLE = [m for m in MODELS if m != "ensemble"]


@pytest.mark.parametrize("name", SINGLE)
@pytest.mark.parametrize("t", [1, 7, 300])
def test_shapes(name, t):
    model = build_model(name, n_mels=128, n_classes=31).eval()
    with torch.no_grad():
        out = model(torch.randn(2, t, 128))
    assert out.shape == (2, t, 31)
    assert count_parameters(model) > 10_000


@pytest.mark.parametrize("name", SINGLE)
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


def test_ensemble_is_the_weighted_mean_of_its_members():
    members = [{"model": "mlp", "settings": {"context": 0}}, {"model": "seedmlp", "settings": {}}]
    ens = build_model("ensemble", n_mels=128, n_classes=31,
                      settings={"members": members, "weights": [3.0, 1.0]}).eval()
    x = torch.randn(2, 20, 128)
    with torch.no_grad():
        p = torch.sigmoid(ens(x))
        want = 0.75 * torch.sigmoid(ens.members[0](x)) + 0.25 * torch.sigmoid(ens.members[1](x))
    torch.testing.assert_close(p, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("settings", [{"members": [], "weights": []},
                                      {"members": [{"model": "mlp"}], "weights": [1, 2]},
                                      {"members": [{"model": "mlp"}], "weights": [-1]}])
def test_bad_ensembles(settings):
    with pytest.raises(InstdetError, match="ensemble"):
        build_model("ensemble", n_mels=128, n_classes=31, settings=settings)


@pytest.mark.parametrize("name, t", [("convtf", 1), ("convtf", 5), ("convtf", 301), ("crnn", 7)])
def test_time_pooled_models_give_every_frame_an_output(name, t):
    settings = {"time_pool": 4}
    model = build_model(name, n_mels=128, n_classes=31, settings=settings).eval()
    with torch.no_grad():
        assert model(torch.randn(1, t, 128)).shape == (1, t, 31)


def test_ensemble_member_counts_only_where_it_was_trained():
    from instdet.models.ensemble import member_weights

    w = member_weights((0.4, 0.6), ((0, 1), ()), 3)
    torch.testing.assert_close(w, torch.tensor([[0.4, 0.4, 0.0], [0.6, 0.6, 1.0]]))
    w = member_weights((1.0, 1.0), ((0,), (0,)), 2)  # nobody covers instrument 1: equal votes
    torch.testing.assert_close(w[:, 1], torch.tensor([0.5, 0.5]))
