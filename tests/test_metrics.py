import numpy as np
import pytest

from instdet.confusion import confusion_matrix, normalise, pairs_table
from instdet.metrics import Counts, average_precision, frame_metrics, score, selection_score
from instdet.postprocess import PostProcess, binarize, tune

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
    ours = Counts.of(t, p, frame_rate=rate).summary()

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
    ap = average_precision(y, p)
    assert ap[0] == 1.0 and np.isnan(ap[1])
    assert score([(y, p)], frame_rate=10.0).summary["mAP"] == 1.0


def test_counts_match_scikit_learn_on_random_tracks():
    from sklearn import metrics as skm

    rng = np.random.default_rng(3)
    tracks = [((rng.random((n, 5)) > 0.6).astype(np.uint8), rng.random((n, 5)).astype(np.float32))
              for n in (40, 77, 13)]
    s = score(tracks, frame_rate=10.0)
    y = np.concatenate([t for t, _ in tracks]).astype(bool)
    p = np.concatenate([q for _, q in tracks]) >= 0.5
    assert s.summary["f1_micro"] == pytest.approx(skm.f1_score(y, p, average="micro"))
    assert s.summary["f1_weighted"] == pytest.approx(skm.f1_score(y, p, average="weighted"))
    assert s.summary["hamming"] == pytest.approx(skm.hamming_loss(y, p))
    assert s.summary["jaccard_samples"] == pytest.approx(
        skm.jaccard_score(y, p, average="samples", zero_division=1.0))
    np.testing.assert_array_equal(s.counts.confusion, confusion_matrix(y, p))


def test_median_filter_stops_at_track_boundaries():
    rng = np.random.default_rng(0)
    tracks = [((rng.random((n, 4)) > 0.5).astype(np.uint8), rng.random((n, 4)).astype(np.float32))
              for n in (30, 25, 41)]
    post = PostProcess(median=9)
    s = score(tracks, frame_rate=10.0, postprocess=post)
    for k, (y, p) in enumerate(tracks):  # each track scored alone gives the same counts
        alone = score([(y, p)], frame_rate=10.0, postprocess=post).counts
        np.testing.assert_array_equal(alone.tp, s.per_track[k].tp)
        np.testing.assert_array_equal(s.active[k], post.apply(p))
    joined = post.apply(np.concatenate([p for _, p in tracks]))
    assert (joined != np.concatenate(s.active)).any()  # what filtering joined tracks got wrong


def test_segments_stop_at_track_boundaries():
    # 15 frames at 10 fps = 1.5 s: segments [0, 1) and [1, 1.5) per track. Joined, the second
    # track's first frames would share a segment with the first track's last ones.
    y1 = np.zeros((15, 1), np.uint8)
    y1[-1] = 1
    y2 = np.zeros((15, 1), np.uint8)
    p1 = np.zeros((15, 1), np.float32)
    p2 = np.zeros((15, 1), np.float32)
    p2[0] = 1.0
    s = score([(y1, p1), (y2, p2)], frame_rate=10.0)
    assert (s.counts.seg_tp.sum(), s.counts.seg_fn.sum(), s.counts.seg_fp.sum()) == (0, 1, 1)
    assert s.per_track[0].n_frames == 15 and len(s.per_track) == 2


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


@pytest.mark.parametrize("mode", ["none", "global", "per-instrument"])
@pytest.mark.parametrize("seed", range(3))
def test_postprocess_never_lowers_its_validation_score(seed, mode):
    rng = np.random.default_rng(seed)
    y = (rng.random((400, 6)) > 0.7).astype(np.uint8)
    probs = np.clip(y * 0.4 + rng.random((400, 6)) * 0.6, 0, 1).astype(np.float32)
    tracks = [slice(0, 150), slice(150, 400)]
    post, before, after = tune([probs[t] for t in tracks], [y[t] for t in tracks], thresholds=mode)
    assert (post.thresholds is None) == (mode == "none") or post == PostProcess()
    assert after >= before
    assert selection_score([y[t] for t in tracks], [post.apply(probs[t]) for t in tracks]) \
        == pytest.approx(after)


def test_median_filter_removes_blips():
    p = np.zeros((20, 1), np.float32)
    p[10] = 0.9
    assert binarize(p, 0.5, 1).sum() == 1 and binarize(p, 0.5, 3).sum() == 0
    with pytest.raises(Exception):
        PostProcess(median=4)
