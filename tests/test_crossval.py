import numpy as np
import pytest

from instdet import crossval
from instdet.crossval import (load_oof, make_folds, nested_postprocess, pooled, save_oof, spread,
                              summary_rows)
from instdet.postprocess import PostProcess

IDS = [f"{i:04d}" for i in (80, 1014, 1545, 1941, 2269, 2395, 2462, 2602, 2720, 2841, 2990, 3000)]


@pytest.mark.parametrize("k, n_val", [(4, 2), (3, 0), (12, 1)])
def test_every_song_is_tested_once_and_never_validates_its_own_fold(k, n_val):
    folds = make_folds(IDS, k=k, n_val=n_val)
    tested = [t for f in folds for t in f.test]
    assert sorted(tested) == IDS
    for f in folds:
        assert len(f.val) == n_val and not set(f.val) & set(f.test)
        assert f.excluded() == set(f.test) | set(f.val)


def fake_oof(seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for t in IDS:
        y = (rng.random((60, 31)) > 0.8).astype(np.uint8)
        p = np.clip(0.6 * y + 0.5 * rng.random((60, 31)), 0, 1).astype(np.float32)
        out[t] = {"labels": y, "probs": p}
    return out


def test_post_processing_is_tuned_on_the_other_folds_only(monkeypatch):
    folds = make_folds(IDS, k=4, n_val=0)
    oof = fake_oof()
    seen = []

    def spy(probs, labels, **kw):
        seen.append({id(p) for p in probs})
        return PostProcess(), 0.0, 0.0

    monkeypatch.setattr(crossval, "tune", spy)
    nested_postprocess(oof, folds)
    for f, used in zip(folds, seen):
        assert used == {id(oof[t]["probs"]) for g in folds if g.index != f.index for t in g.test}


def test_pooled_row_scores_every_song_once(tmp_path):
    folds = make_folds(IDS, k=4, n_val=0)
    save_oof(tmp_path / "o.npz", fake_oof(), frame_rate=10.0)
    oof, rate = load_oof(tmp_path / "o.npz")
    table = summary_rows("c", oof, folds, frame_rate=rate, ids=IDS[1:])
    raw = table[(table["stage"] == "raw") & (table["fold"] == "pooled")].iloc[0]
    want = pooled(oof, IDS[1:], frame_rate=rate).summary
    assert raw["f1_micro"] == pytest.approx(want["f1_micro"]) and "0080" not in raw["songs"]
    s = spread(table, "f1_micro")
    assert set(s["stage"]) == {"raw", "postprocessed"} and (s["fold_min"] <= s["fold_max"]).all()


def test_unreadable_oof_is_one_line(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(Exception, match="unreadable out-of-fold"):
        load_oof(tmp_path / "bad.npz")
