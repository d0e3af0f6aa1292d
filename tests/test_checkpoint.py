import pickle

import pytest
import torch

from instdet.checkpoint import FORMAT_VERSION, load_checkpoint, model_from_checkpoint, save_checkpoint
from instdet.data.aam import INSTRUMENTS
from instdet.errors import InstdetError
from instdet.features import FeatureConfig
from instdet.models import build_model


def make_ckpt(**over):
    model = build_model("mlp", n_mels=128, n_classes=31)
    ckpt = {"format": FORMAT_VERSION, "model_name": "mlp", "model_config": {"hidden": 256, "context": 4, "dropout": 0.2},
            "feature_config": FeatureConfig().to_dict(), "instruments": list(INSTRUMENTS),
            "epoch": 1, "best_score": 0.5, "state_dict": model.state_dict()}
    ckpt.update(over)
    return ckpt


class Boom:
    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/instdet_pwned",))


def test_roundtrip(tmp_path):
    save_checkpoint(tmp_path / "m.pt", make_ckpt())
    model, feats = model_from_checkpoint(load_checkpoint(tmp_path / "m.pt"))
    assert feats == FeatureConfig() and not model.training


def test_pickled_code_is_refused(tmp_path):
    import os

    path = tmp_path / "evil.pt"
    torch.save({**make_ckpt(), "extra": Boom()}, path)
    with pytest.raises(InstdetError, match="refused"):
        load_checkpoint(path)
    assert not os.path.exists("/tmp/instdet_pwned")


@pytest.mark.parametrize(
    "over, match",
    [
        ({"instruments": ["Piano", "Drums"]}, "another instrument vocabulary"),
        ({"feature_config": {**FeatureConfig().to_dict(), "window": "hamming"}}, "unknown feature settings"),
        ({"format": 99}, "format"),
        ({"model_name": "resnet"}, "unknown model"),
    ],
)
def test_foreign_checkpoints(tmp_path, over, match):
    save_checkpoint(tmp_path / "m.pt", make_ckpt(**over))
    with pytest.raises(InstdetError, match=match):
        model_from_checkpoint(load_checkpoint(tmp_path / "m.pt"))


def test_truncated_and_garbage(tmp_path):
    save_checkpoint(tmp_path / "m.pt", make_ckpt())
    data = (tmp_path / "m.pt").read_bytes()
    (tmp_path / "t.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(InstdetError, match="unreadable"):
        load_checkpoint(tmp_path / "t.pt")
    (tmp_path / "g.pt").write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(InstdetError):
        load_checkpoint(tmp_path / "g.pt")
    with pytest.raises(InstdetError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")


def test_wrong_weights(tmp_path):
    other = build_model("mlp", n_mels=128, n_classes=31, settings={"hidden": 64}).state_dict()
    save_checkpoint(tmp_path / "m.pt", make_ckpt(state_dict=other))
    with pytest.raises(InstdetError, match="do not fit"):
        model_from_checkpoint(load_checkpoint(tmp_path / "m.pt"))
