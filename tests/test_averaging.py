import pytest
import torch

from instdet.averaging import WeightAverage
from instdet.errors import InstdetError


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))


def _set(model, value):
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(value)


def test_average_follows_the_weights_with_its_decay():
    model = _model()
    _set(model, 0.0)
    avg = WeightAverage(model, 0.5)
    _set(model, 1.0)
    avg.update(model)  # first update: decay min(0.5, 1/10) = 0.1
    assert avg.state["0.weight"].eq(0.9).all()
    avg.update(model)  # then min(0.5, 2/11): the warm-up still rules
    assert avg.state["0.weight"] == pytest.approx(torch.full((2, 3), 2 / 11 * 0.9 + 9 / 11))
    for _ in range(20):
        _set(model, 0.0)
        avg.update(model)  # long after the warm-up: decay 0.5 itself
    before = avg.state["0.weight"].clone()
    _set(model, 1.0)
    avg.update(model)
    assert avg.state["0.weight"] == pytest.approx(0.5 * before + 0.5)
    model[1].num_batches_tracked.fill_(7)
    avg.update(model)
    assert avg.state["1.num_batches_tracked"].item() == 7  # integers are copied


def test_swapped_in_restores_the_live_weights_even_on_error():
    model = _model()
    avg = WeightAverage(model, 0.99)
    _set(model, 2.0)
    with avg.swapped_in(model):
        assert not model[0].weight.eq(2.0).all()  # the average, not the live weights
    assert model[0].weight.eq(2.0).all()
    with pytest.raises(RuntimeError), avg.swapped_in(model):
        raise RuntimeError("boom")
    assert model[0].weight.eq(2.0).all()


def test_state_round_trips():
    model = _model()
    a = WeightAverage(model, 0.9)
    _set(model, 1.0)
    a.update(model)
    b = WeightAverage(_model(), 0.5)
    b.load_state_dict(a.state_dict())
    assert b.decay == 0.9 and b.updates == 1
    assert all(torch.equal(a.state[k], b.state[k]) for k in a.state)


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.1])
def test_decay_out_of_range(decay):
    with pytest.raises(InstdetError, match="decay"):
        WeightAverage(_model(), decay)
