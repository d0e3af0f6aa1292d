import glob

import numpy as np
import pretty_midi
import pytest

from instdet.data.midi import load_midi_notes
from instdet.errors import InstdetError


def test_all_real_midi_files_load_and_match_pretty_midi(aam_tiny):
    files = sorted(glob.glob(str(aam_tiny / "midis" / "*.mid")))
    assert len(files) >= 80
    rejected = 0
    for f in files:
        notes = load_midi_notes(f)
        assert notes.shape[1] == 4 and len(notes)
        try:
            pm = pretty_midi.PrettyMIDI(f)
        except Exception:  # key-signature events strict parsers reject
            rejected += 1
            continue
        ref = np.array(sorted((n.start, n.end) for i in pm.instruments for n in i.notes))
        np.testing.assert_allclose(np.array(sorted(map(tuple, notes[:, :2]))), ref, atol=1e-6)
    assert rejected >= 7  # files that only the tolerant reader can load


@pytest.mark.parametrize("data", [b"", b"MThd", b"RIFF0000", b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x01\x00\x00\x90"])
def test_broken_midi(tmp_path, data):
    p = tmp_path / "x.mid"
    p.write_bytes(data)
    with pytest.raises(InstdetError):
        load_midi_notes(p)
