import numpy as np
import pytest

from instdet.confusion import confusion_matrix, normalise, pairs_table
from instdet.metrics import frame_metrics, mean_average_precision, segment_metrics
from instdet.postprocess import PostProcess, binarize, tune
from instdet.metrics import selection_score

T = np.array([[1, 0, 1], [1, 1, 0], [0, 0, 0], [0, 1, 1]])
P = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0], [0, 1, 1]])


def test_frame_metrics_by_hand():
    m = frame_metrics(T, P)
    # TP = 4, FP = 1, FN = 2: micro F1 = 8 / (8 + 3)
    assert m["f1_micro"] == pytest.approx(8 / 11)
    # per class F1: c0 = 1, c1 = 2/3 (tp1 fp1 fn1 -> 2/4), c2 = 2/3
    assert m["f1_macro"] == pytest.approx((1 + 0.5 + 2 / 3) / 3)
    assert m["hamming"] == pytest.approx(3 / 12)
    # jaccard per frame: 1/3, 1/2, silent-and-silent 1, 1
    assert m["jaccard_samples"] == pytest.approx((1 / 3 + 1 / 2 + 1 + 1) / 4)


def test_macro_ignores_absent_instruments():
    t = np.array([[1, 0], [0, 0]])
    p = np.array([[1, 1], [0, 0]])
    assert frame_metrics(t, p)["f1_macro"] == 1.0


def test_segment_metrics_match_sed_eval():
    import dcase_util
    import sed_eval

    rng = np.random.default_rng(1)
    rate = 10.0
    t = (rng.random((95, 3)) > 0.7).astype(int)
    p = (rng.random((95, 3)) > 0.6).astype(int)
    ours = segment_metrics(t, p, frame_rate=rate)

    def events(y):
        out = []
        for k in range(y.shape[1]):
            for i in np.flatnonzero(y[:, k]):
                out.append({"event_label": f"c{k}", "onset": i / rate, "offset": (i + 1) / rate - 1e-6,
                            "filename": "x"})
        return dcase_util.containers.MetaDataContainer(out)

    sm = sed_eval.sound_event.SegmentBasedMetrics(["c0", "c1", "c2"], time_resolution=1.0)
    sm.evaluate(events(t), events(p))
    ref = sm.results_overall_metrics()
    assert ours["segment_f1_1s"] == pytest.approx(ref["f_measure"]["f_measure"], abs=1e-6)
    assert ours["segment_er_1s"] == pytest.approx(ref["error_rate"]["error_rate"], abs=1e-6)


def test_map():
    y = np.array([[1, 0], [0, 0], [1, 0]])
    p = np.array([[0.9, 0.2], [0.1, 0.3], [0.8, 0.1]])
    m, ap = mean_average_precision(y, p)
    assert m == 1.0 and np.isnan(ap[1])


def test_confusion_pairs_three_frames():
    # frame 0: A missed, B false -> (A, B); frame 1: A and C missed, B false -> (A,B), (C,B)
    # frame 2: all right -> nothing
    t = np.array([[1, 0, 0], [1, 0, 1], [0, 1, 0]])
    p = np.array([[0, 1, 0], [0, 1, 0], [0, 1, 0]])
    m = confusion_matrix(t, p)
    expected = np.zeros((3, 3), int)
    expected[0, 1] = 2
    expected[2, 1] = 1
    np.testing.assert_array_equal(m, expected)
    table = pairs_table(m, t.sum(axis=0), names=("A", "B", "C"))
    assert table.iloc[0][["true", "predicted", "count"]].tolist() == ["A", "B", 2]
    assert table.iloc[0]["rate"] == 1.0
    np.testing.assert_allclose(normalise(m, t.sum(axis=0))[2, 1], 1.0)


@pytest.mark.parametrize("seed", range(5))
def test_postprocess_never_lowers_its_validation_score(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random((400, 6)) > 0.7).astype(np.uint8)
    probs = np.clip(y * 0.4 + rng.random((400, 6)) * 0.6, 0, 1).astype(np.float32)
    post, before, after = tune(probs, y, score=selection_score)
    assert after >= before
    assert selection_score(y, post.apply(probs)) == pytest.approx(after)


def test_median_filter_removes_blips():
    p = np.zeros((20, 1), np.float32)
    p[10] = 0.9
    assert binarize(p, 0.5, 1).sum() == 1 and binarize(p, 0.5, 3).sum() == 0
    with pytest.raises(Exception):
        PostProcess(median=4)
