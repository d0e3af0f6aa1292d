import pytest

from instdet.data.arff import read_arff
from instdet.errors import InstdetError


def test_missing_data_line_restored(tmp_path):
    p = tmp_path / "b.arff"
    p.write_text("@RELATION 'b'\n\n@ATTRIBUTE 't' NUMERIC\n@ATTRIBUTE 'c' STRING\n\n0.0,'A'\n0.5,'B'\n")
    names, rows = read_arff(p)
    assert names == ["t", "c"] and rows == [[0.0, "A"], [0.5, "B"]]


@pytest.mark.parametrize("text", ["", "hello", "@RELATION x\n@ATTRIBUTE a NUMERIC\n@DATA\nabc\n"])
def test_malformed(tmp_path, text):
    p = tmp_path / "m.arff"
    p.write_text(text)
    with pytest.raises(InstdetError):
        read_arff(p)
