import numpy as np
import pytest

from instdet.data.aam import INSTRUMENT_INDEX
from instdet.verdict import cautions, heard, model_weights


def test_weights_favour_the_better_model():
    w = model_weights({"good": 0.60, "weak": 0.45, "unknown": None})
    assert w["good"] > 0.9 and w["weak"] < 0.05 and w["unknown"] == pytest.approx(w["weak"])
    assert sum(w.values()) == pytest.approx(1.0)


def test_a_weak_model_cannot_outvote_the_best():
    n, k = 100, 31
    d = INSTRUMENT_INDEX["Drums"]
    good = np.zeros((n, k), np.float32)
    good[:, d] = 0.9
    weak = np.zeros((n, k), np.float32)
    weak[:, INSTRUMENT_INDEX["Sitar"]] = 0.95
    probs = {"good": good, "weak": weak}
    w = model_weights({"good": 0.6, "weak": 0.4})
    table = heard(probs, {r: p >= 0.5 for r, p in probs.items()}, w, frame_rate=10.0)
    assert list(table["instrument"]) == ["Drums"]
    assert table.loc[0, "share"] == 1.0 and table.loc[0, "when"] == "0:00–0:10"


@pytest.mark.parametrize("frames, listed", [(4, False), (5, True), (30, True)])
def test_blips_are_not_a_verdict(frames, listed):
    p = np.zeros((100, 31), np.float32)  # 10 s at 10 frames per second
    p[:, INSTRUMENT_INDEX["Drums"]] = 0.9
    p[50:50 + frames, INSTRUMENT_INDEX["Sitar"]] = 0.9  # 0.4 s, 0.5 s, 3 s
    table = heard({"m": p}, {"m": p >= 0.5}, {"m": 1.0}, frame_rate=10.0)
    assert ("Sitar" in set(table["instrument"])) == listed
    short = heard({"m": p[50:52]}, {"m": p[50:52] >= 0.5}, {"m": 1.0}, frame_rate=10.0)
    assert set(short["instrument"]) == {"Drums", "Sitar"}  # a 0.2-s clip still gets an answer


@pytest.mark.parametrize("seconds, sure, n_cautions", [(0.2, True, 1), (60, True, 0),
                                                        (60, False, 1), (0.2, False, 2)])
def test_cautions(seconds, sure, n_cautions):
    p = np.full((50, 31), 0.9 if sure else 0.1, np.float32)
    assert len(cautions(seconds, {"m": p}, {"m": 1.0})) == n_cautions
