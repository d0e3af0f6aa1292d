import numpy as np
import pandas as pd
import pytest

from instdet.analysis import (PALETTES, activity_rolls, conditional_cooccurrence,
                              confusion_locations, downsample_codes, outcome_codes, outcome_rolls,
                              segments, threshold_curves)
from instdet.data.aam import INSTRUMENT_INDEX, INSTRUMENTS


def test_outcome_codes():
    t = np.array([[1, 0], [1, 1], [0, 0]])
    p = np.array([[1, 1], [0, 1], [0, 0]])
    np.testing.assert_array_equal(outcome_codes(t, p), [[1, 2], [3, 1], [0, 0]])


def test_downsample_keeps_worst():
    codes = np.zeros((10, 1), np.int8)
    codes[3] = 3
    pooled, step = downsample_codes(codes, max_columns=2)
    assert step == 5 and pooled[:, 0].tolist() == [3, 0]


@pytest.mark.parametrize("gap, expected", [(0.0, [(0.2, 0.4), (0.5, 0.6)]), (0.2, [(0.2, 0.6)])])
def test_segments(gap, expected):
    a = np.zeros(10, bool)
    a[2:4] = a[5] = True
    got = segments(a, frame_rate=10.0, min_gap_s=gap)
    assert np.allclose(got, expected) and len(got) == len(expected)


def test_confusion_locations_find_the_frames():
    k = len(INSTRUMENTS)
    y = np.zeros((40, k), np.uint8)
    p = np.zeros((40, k), bool)
    a, b = INSTRUMENT_INDEX["Erhu"], INSTRUMENT_INDEX["Cello"]
    y[10:20, a] = 1
    p[12:18, b] = True  # Erhu missed, Cello reported instead: 6 frames from 1.2 s
    frames = {"0007": {"labels": y, "frame_rate": 10.0}, "0008": {"labels": y, "frame_rate": 10.0}}
    where = confusion_locations(frames, {"0007": p, "0008": np.zeros_like(p)}, true="Erhu",
                                predicted="Cello")
    assert list(where["track_id"]) == ["0007"]
    assert where.loc[0, "frames"] == 6 and where.loc[0, "first_s"] == pytest.approx(1.2)


def test_threshold_curves():
    k = len(INSTRUMENTS)
    y = np.zeros((4, k), np.uint8)
    y[:2, 0] = 1
    p = np.zeros((4, k), np.float32)
    p[:, 0] = [0.9, 0.6, 0.4, 0.1]
    c = threshold_curves(y, p, INSTRUMENTS[0], thresholds=np.array([0.5, 0.95]))
    assert c.loc[0, ["precision", "recall", "f1"]].tolist() == [1.0, 1.0, 1.0]
    assert c.loc[1, "recall"] == 0.0 and c.loc[1, "precision"] == 1.0


def test_conditional_cooccurrence_masks_the_diagonal():
    co = pd.DataFrame([[10, 5, 0], [5, 20, 0], [0, 0, 0]], index=list("ABC"), columns=list("ABC"))
    c = conditional_cooccurrence(co)
    assert list(c.index) == ["A", "B"]  # C never plays
    assert c.loc["A", "B"] == 0.5 and c.loc["B", "A"] == 0.25 and np.isnan(c.loc["A", "A"])


def test_rolls():
    k = len(INSTRUMENTS)
    y = np.zeros((20, k), np.uint8)
    y[5:10, 0] = 1
    act = np.zeros((20, k), bool)
    act[7:15, 0] = True
    bands = outcome_rolls(y, {"R1": act}, [0], frame_rate=10.0,
                          palette=PALETTES["colour-blind safe"])
    truth, r1 = bands[0]["rows"]
    assert truth["segments"] == [[0.5, 1.0, "#555555"]]
    assert [s[2] for s in r1["segments"]] == ["#CC79A7", "#0072B2", "#E69F00"]  # miss, hit, FA
    assert activity_rolls({"M": act}, {"M": "#123456"}, [0], frame_rate=10.0)[0]["rows"][0][
        "segments"] == [[0.7, 1.5, "#123456"]]
