"""Training plans: runs written by several commands, trained in one pool, costliest first."""

import json

import pytest

from instdet.errors import InstdetError
from instdet.plan import add_to_plan, estimated_cost, longest_first, read_plan
from instdet.training import TrainConfig


def cfg(model="mlp", **kw):
    return TrainConfig(model=model, data=("packs/a.npz",), **kw)


def test_plan_round_trip_and_replacement(tmp_path):
    plan = tmp_path / "plan.json"
    a, b = cfg(epochs=3, val_ids=("0001",)), cfg("crnn", epochs=2)
    assert add_to_plan(plan, [(a, tmp_path / "runs" / "a", True)]) == 1
    assert add_to_plan(plan, [(b, tmp_path / "runs" / "b", False)]) == 2
    jobs = read_plan(plan)
    assert [(c, r.name, o) for c, r, o in jobs] == [(a, "a", True), (b, "b", False)]
    # the same run folder again replaces its job (and keeps the rest)
    assert add_to_plan(plan, [(cfg(epochs=9), tmp_path / "runs" / "a", False)]) == 2
    jobs = {r.name: (c, o) for c, r, o in read_plan(plan)}
    assert jobs["a"] == (cfg(epochs=9), False) and jobs["b"] == (b, False)


def test_two_runs_of_one_name_are_refused(tmp_path):
    plan = tmp_path / "plan.json"
    add_to_plan(plan, [(cfg(), tmp_path / "x" / "run", True)])
    before = plan.read_text()
    with pytest.raises(InstdetError, match="two runs named run"):
        add_to_plan(plan, [(cfg(), tmp_path / "y" / "run", True)])
    assert plan.read_text() == before  # nothing written


@pytest.mark.parametrize("text, message", [
    (None, "no such plan file"),
    ("{not json", "not a plan file"),
    ('{"format": 2, "jobs": []}', "not a plan file"),
    ('{"format": 1, "jobs": {}}', "not a plan file"),
    ('{"format": 1, "jobs": [{"train": {}}]}', "job 1 needs a run folder"),
    ('{"format": 1, "jobs": [{"run": "r", "train": {"epochs": 0}}]}', "epochs=0"),
    ('{"format": 1, "jobs": [{"run": "r", "train": {"bogus": 1, "model": 5, "epochs": []}}]}',
     "job 1: training setting"),
    ('{"format": 1, "jobs": [{"run": "r", "train": {"epochs": 2.5}}]}', "epochs=2.5 is not a whole"),
    ('{"format": 1, "jobs": [{"run": "r", "train": {"data": "a.npz"}}]}', "not a list of strings"),
    ('{"format": 1, "jobs": [{"run": "r", "train": {"model_settings": [1]}}]}', "not an object"),
    ('{"format": 1, "jobs": [{"run": "r", "overwrite": "false", "train": {}}]}', "overwrite true"),
    ('{"format": 1, "jobs": [{"run": " ", "train": {}}]}', "needs a run folder"),
])
def test_bad_plan_files(tmp_path, text, message):
    plan = tmp_path / "plan.json"
    if text is not None:
        plan.write_text(text)
    with pytest.raises(InstdetError, match=message):
        read_plan(plan)


def test_costliest_first_and_ties_keep_their_order():
    mlp30, convtf12 = cfg(epochs=30), cfg("convtf", epochs=12)
    crnn20 = cfg("crnn", epochs=20, model_settings={"time_pool": 4})
    seed_crnn = cfg("crnn", epochs=10)  # the CRNN's default is the seed's, at the full rate
    jobs = [(convtf12, "t"), (mlp30, "m"), (crnn20, "c1"), (crnn20, "c2"), (seed_crnn, "s")]
    assert [name for _, name in longest_first(jobs)] == ["s", "c1", "c2", "m", "t"]
    assert estimated_cost(seed_crnn) == \
        estimated_cost(cfg("crnn", epochs=10, model_settings={"time_pool": 1}))
    # fewer steps, smaller batches or crops cost less
    assert estimated_cost(cfg(epochs=30, steps_per_epoch=50)) == estimated_cost(mlp30) / 2
    assert estimated_cost(cfg(epochs=30, crop_frames=128, batch_size=8)) == \
        estimated_cost(mlp30) / 4


def test_a_run_given_relative_or_absolute_is_one_job(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plan = tmp_path / "plan.json"
    add_to_plan(plan, [(cfg(epochs=1), "runs/a", True)])
    assert add_to_plan(plan, [(cfg(epochs=2), tmp_path / "runs" / "a", False)]) == 1
    assert add_to_plan(plan, [(cfg(epochs=3), "./runs/a", False)]) == 1
    assert read_plan(plan)[0][0].epochs == 3


def test_plan_file_is_plain_json(tmp_path):
    plan = tmp_path / "plan.json"
    add_to_plan(plan, [(cfg(), "runs/a", True)])
    doc = json.loads(plan.read_text())
    assert doc["format"] == 1 and doc["jobs"][0]["run"] == "runs/a"
    assert doc["jobs"][0]["train"]["data"] == ["packs/a.npz"]
