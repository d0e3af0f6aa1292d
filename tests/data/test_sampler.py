"""The note bank and the note sampler, on real AAM stems."""

import hashlib

import numpy as np
import pytest

from instdet.data.aam import INSTRUMENT_INDEX, INSTRUMENTS, load_tracks
from instdet.data.notebank import load_bank
from instdet.data.sampler import MAX_SHIFT, Sampler, sample_corpus
from instdet.errors import InstdetError

SR = 22050
SONGS = ("0080", "2602")  # 13 stems: saxophone, trumpet, piano, guitars, bass, drums, ...


@pytest.fixture(scope="module")
def bank(aam_tiny, tmp_path_factory):
    tracks = {k: v for k, v in load_tracks(aam_tiny).items() if k in SONGS}
    return load_bank(None, tracks=tracks, cache_dir=tmp_path_factory.mktemp("bankcache"))


def test_bank_notes_carry_energy_and_their_pitch(bank):
    import librosa

    assert set(bank.song.tolist()) == set(SONGS)
    rms = [np.sqrt(np.mean(bank.clip(i) ** 2)) for i in range(len(bank))]
    assert min(rms) > 1e-3  # every clip sounds
    singles = [i for i in range(len(bank)) if bank.size[i] == 1 and bank.duration[i] >= 0.3
               and INSTRUMENTS[bank.instrument[i]] != "Drums"]
    rng = np.random.default_rng(0)
    picked = rng.choice(singles, size=min(60, len(singles)), replace=False)
    agree = []
    for i in picked:
        y = bank.clip(int(i))[int(0.05 * SR): int(0.3 * SR)]
        f0 = librosa.yin(y, fmin=60, fmax=1500, sr=SR, frame_length=2048)
        est = librosa.hz_to_midi(np.median(f0))
        agree.append(abs(est - bank.root[i]) <= 1.0)
    assert np.mean(agree) >= 0.7, np.mean(agree)


def test_excluded_songs_give_no_note(aam_tiny, tmp_path):
    tracks = {k: v for k, v in load_tracks(aam_tiny).items() if k in SONGS}
    b = load_bank(None, tracks=tracks, exclude={"0080"}, cache_dir=tmp_path)
    assert set(b.song.tolist()) == {"2602"}
    assert "AltoSax" not in b.instruments()  # 0080's alone
    with pytest.raises(InstdetError, match="no note left"):
        load_bank(None, tracks=tracks, exclude=set(SONGS), cache_dir=tmp_path)


def test_cached_bank_is_the_same(bank, aam_tiny, tmp_path_factory):
    tracks = {k: v for k, v in load_tracks(aam_tiny).items() if k in SONGS}
    cache = tmp_path_factory.mktemp("bank2")
    first = load_bank(None, tracks=tracks, cache_dir=cache)
    again = load_bank(None, tracks=tracks, cache_dir=cache)
    assert len(list((cache / "notebank").iterdir())) == 1
    np.testing.assert_array_equal(first.audio, again.audio)
    np.testing.assert_array_equal(first.root, again.root)


def _frame_db(y, hop=512):
    n = len(y) // hop
    rms = np.sqrt(np.mean(y[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-12)
    return 20 * np.log10(rms)


@pytest.mark.parametrize("seed", range(4))
def test_rendered_stems_sound_exactly_where_labelled(bank, seed):
    sampler = Sampler(bank)
    rng = np.random.default_rng(seed)
    notes, _, length = sampler.composed(rng, 20.0)
    n = int(length * SR)
    mix, stems, played = sampler.render(notes, n, rng)
    assert np.allclose(mix, np.sum(list(stems.values()), axis=0), atol=1e-5)
    hop = 512
    for name, y in stems.items():
        db = _frame_db(y / max(np.abs(y).max(), 1e-9), hop)
        t = (np.arange(len(db)) + 0.5) * hop / SR
        on = np.zeros(len(db), bool)
        near = np.zeros(len(db), bool)  # a note's release (<= 0.5 s) or fade may follow it
        for s, e, _, _ in played[name]:
            on |= (t >= s + 0.03) & (t < e - 0.03)
            near |= (t >= s - 0.03) & (t < e + 0.6)
        assert np.mean(db[on] > -60) > 0.95, name  # sounding where labelled
        off = ~near
        if off.any():
            assert np.mean(db[off] < -60) > 0.98, name  # silent where not


def test_labels_shrink_with_the_note_that_was_played(bank):
    sampler = Sampler(bank)
    name = next(n for n in sampler.available if n != "Drums")
    lo, hi = bank.pitch_range(name)
    long = np.array([[1.0, 9.0, (lo + hi) // 2, 64]])  # 8 s: longer than any bank note
    y, played = sampler.render_part(name, long, int(12 * SR), np.random.default_rng(0))
    rows = bank.instrument == INSTRUMENT_INDEX[name]
    assert played[0, 1] - played[0, 0] <= bank.duration[rows].max() * 2 ** (MAX_SHIFT / 12)
    assert played[0, 1] < 9.0
    assert np.abs(y[int((played[0, 1] + 0.6) * SR):]).max() < 1e-4


def test_same_seed_same_bytes(aam_tiny, tmp_path):
    def digest(folder):
        h = hashlib.sha1()
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                h.update(p.name.encode() + p.read_bytes())
        return h.hexdigest()

    kw = dict(n_tracks=2, seed=3, seconds=(8.0, 10.0), exclude={"2462", "2841", "3000"},
              cache_dir=tmp_path / "cache")
    ids = sample_corpus([aam_tiny], tmp_path / "a", **kw)
    sample_corpus([aam_tiny], tmp_path / "b", **kw)
    assert ids == ["40001", "40002"]
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    from instdet.data.aam import validate

    tracks, problems = validate(tmp_path / "a")
    assert len(tracks) == 2 and not problems
