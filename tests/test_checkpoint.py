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


def test_the_same_checkpoint_gives_the_same_bytes(tmp_path):
    ckpt = make_ckpt()
    save_checkpoint(tmp_path / "a.pt", ckpt)
    save_checkpoint(tmp_path / "b" / "model.pt", ckpt)
    save_checkpoint(tmp_path / "b" / "model.pt", ckpt)  # over itself, through a new temp file
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b" / "model.pt").read_bytes()


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit,
                                  lambda: OSError(28, "No space left on device")])
@pytest.mark.parametrize("at_write", [1, 3])
def test_a_stop_inside_torch_save_stays_a_stop(tmp_path, monkeypatch, stop, at_write):
    """Ctrl-C (or SIGTERM, a KeyboardInterrupt here) landing inside one of torch's writes used to
    come out as torch's RuntimeError ("unexpected pos"), so `instdet train` exited 1 with a
    traceback instead of 130 (and a full disk as "unexpected pos"); the previous checkpoint
    stays whole either way."""
    import builtins

    from instdet import checkpoint

    target = tmp_path / "last.pt"
    save_checkpoint(target, make_ckpt())
    before = target.read_bytes()

    class Cut:
        def __init__(self, f):
            self.f, self.n = f, 0

        def write(self, data):
            self.n += 1
            if self.n == at_write:
                raise stop()
            return self.f.write(data)

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(checkpoint, "open", lambda *a, **k: Cut(builtins.open(*a, **k)),
                        raising=False)
    with pytest.raises(type(stop())):
        save_checkpoint(target, make_ckpt())
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temporary file left


def test_a_torch_error_with_another_context_stays_itself(tmp_path, monkeypatch):
    from instdet import checkpoint

    def failing_save(obj, f):
        try:
            raise ValueError("inside torch")
        except ValueError:
            raise RuntimeError("a real torch fault")

    monkeypatch.setattr(checkpoint.torch, "save", failing_save)
    with pytest.raises(RuntimeError, match="a real torch fault"):
        save_checkpoint(tmp_path / "x.pt", make_ckpt())
    assert not list(tmp_path.iterdir())


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


def _post(thresholds=None, median=1):
    return {"thresholds": thresholds, "median": median}


# Each damaged field is refused at load time, in one line naming the file.
DAMAGED = [
    ({"postprocess": _post([0.5] * 30)}, "postprocess needs 31 thresholds, one per instrument; got 30"),
    ({"postprocess": _post([0.5] * 30 + [1.5])}, "postprocess thresholds must be numbers in [0, 1]"),
    ({"postprocess": _post([0.5] * 30 + ["0.5"])}, "postprocess thresholds must be numbers in [0, 1]"),
    ({"postprocess": _post([0.5] * 30 + [float("nan")])}, "postprocess thresholds must be numbers in [0, 1]"),
    ({"postprocess": _post(median=2)}, "postprocess median length must be an odd whole number >= 1, got 2"),
    ({"postprocess": _post(median=0)}, "postprocess median length must be an odd whole number >= 1, got 0"),
    ({"postprocess": _post(median="3")}, "postprocess median length must be an odd whole number >= 1, got '3'"),
    ({"postprocess": [0.5] * 31}, "postprocess must be a mapping, got list"),
    ({"model_config": {"hidden": "256", "context": 4, "dropout": 0.2}}, "model mlp: setting hidden='256' must be a whole number >= 0"),
    ({"model_config": {"hidden": 256, "context": -4, "dropout": 0.2}}, "model mlp: setting context=-4 must be a whole number >= 0"),
    ({"model_config": [256, 4]}, "model_config must be a mapping, got list"),
    ({"feature_config": {**FeatureConfig().to_dict(), "sr": "22050"}}, "feature setting sr='22050' must be a whole number > 0"),
    ({"feature_config": {**FeatureConfig().to_dict(), "n_mels": 0}}, "feature setting n_mels=0 must be a whole number > 0"),
    ({"feature_config": None}, "feature_config must be a mapping, got NoneType"),
    ({"state_dict": [1, 2]}, "state_dict is not a mapping of weight names to tensors"),
    ({"state_dict": {"net.0.weight": "x"}}, "state_dict is not a mapping of weight names to tensors"),
    ({"state_dict": {}}, "weights do not fit model mlp: 16 missing, e.g. net.0.bias"),
    ({"instruments": 31}, "trained on another instrument vocabulary (int names), not AAM's 31 in order"),
    ({"model_name": 7}, "model name 7 is not text"),
    ({"epoch": "3"}, "epoch='3' is not a number"),
]


@pytest.mark.parametrize("over, message", DAMAGED)
def test_damaged_fields_refused_with_the_file_name(tmp_path, over, message):
    save_checkpoint(tmp_path / "m.pt", make_ckpt(**over))
    with pytest.raises(InstdetError) as info:
        load_checkpoint(tmp_path / "m.pt")
    assert str(info.value) == f"m.pt: {message}"


def test_missing_state_dict(tmp_path):
    ckpt = make_ckpt()
    del ckpt["state_dict"]
    save_checkpoint(tmp_path / "m.pt", ckpt)
    with pytest.raises(InstdetError, match=r"^m.pt: not an instdet checkpoint \(keys missing\)$"):
        load_checkpoint(tmp_path / "m.pt")


def test_valid_postprocess_loads(tmp_path):
    save_checkpoint(tmp_path / "m.pt", make_ckpt(postprocess=_post([0.0] * 15 + [1] * 16, 21)))
    assert load_checkpoint(tmp_path / "m.pt")["postprocess"]["median"] == 21


def test_pipe_refused(tmp_path):
    import os

    os.mkfifo(tmp_path / "m.pt")
    with pytest.raises(InstdetError, match="not a regular file"):
        load_checkpoint(tmp_path / "m.pt")


@pytest.mark.parametrize("name, old_settings, legacy", [
    ("convtf", {"channels": (32, 64, 96, 128), "d_model": 128, "heads": 4, "layers": 2,
                "dropout": 0.1}, {"time_pool": 1, "skip": False}),
    ("crnn", {"channels": 32, "lstm_hidden": 64, "head": 128, "dropout": 0.2}, {"time_pool": 1}),
])
def test_checkpoints_older_than_time_pooling_load_as_the_full_rate_model(tmp_path, name,
                                                                         old_settings, legacy):
    # Checkpoints written before `time_pool` and `skip` existed store only the older settings.
    old = build_model(name, n_mels=128, n_classes=31, settings={**old_settings, **legacy}).eval()
    save_checkpoint(tmp_path / "m.pt", make_ckpt(model_name=name, model_config=old_settings,
                                                 state_dict=old.state_dict()))
    model, _ = model_from_checkpoint(load_checkpoint(tmp_path / "m.pt"))
    x = torch.randn(1, 64, 128)
    with torch.inference_mode():
        assert torch.allclose(model(x), old(x), atol=1e-5)
