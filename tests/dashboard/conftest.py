import pytest

from instdet.cli import main



@pytest.fixture(scope="session")
def results_fixture(tiny, tmp_path_factory):
    """A small but complete results/ and saved_models/ made by the real pipeline."""
    base = tmp_path_factory.mktemp("dash")
    runs, results = base / "saved_models", base / "results"
    for model, n in (("mlp", 1), ("crnn", 1)):
        assert main(["train", "--model", model, "--data", str(tiny), "--train-size", str(n),
                     "--epochs", "1", "--steps", "2", "--batch-size", "2", "--crop", "64",
                     "--val-ids", "0001", "--test-ids", "0003", "--runs", str(runs),
                     "--name", f"{model}-n{n}-s0"]) == 0
        assert main(["evaluate", str(runs / f"{model}-n{n}-s0"), "--results", str(results),
                     "--name", "real-test"]) == 0
    assert main(["data", "stats", str(tiny), "--out", str(results / "dataset_stats_tiny.csv"),
                 "--cooccurrence", str(results / "cooccurrence_tiny.csv")]) == 0
    return results, runs


@pytest.fixture
def dash_env(monkeypatch):
    def set_dirs(results, models):
        monkeypatch.setenv("INSTDET_RESULTS", str(results))
        monkeypatch.setenv("INSTDET_MODELS", str(models))

    return set_dirs
