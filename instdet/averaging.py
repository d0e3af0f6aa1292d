"""Weight averaging: an exponential moving average of a model's weights during training.

Validation scores of single epochs jump by several hundredths from one epoch to the next when
only a few validation songs exist; the average of the recent weights moves smoothly and usually
generalises better than any one of them. Training steps with the live weights; validation and
the saved checkpoint use the averaged ones.
"""

from __future__ import annotations

import contextlib

import torch


class WeightAverage:
    """Exponential moving average of every floating tensor of a model's ``state_dict``
    (weights and BatchNorm statistics); integer buffers are copied.

    ``decay`` is the weight of the old average at each ``update``; the first updates use a
    smaller one, ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates, so the initial weights
    are forgotten quickly.
    """

    def __init__(self, model: torch.nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            from instdet.errors import InstdetError

            raise InstdetError(f"weight-average decay must lie in (0, 1), got {decay}")
        self.decay = decay
        self.updates = 0
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for k, v in model.state_dict().items():
            if v.is_floating_point():
                self.state[k].lerp_(v.detach(), 1.0 - d)
            else:
                self.state[k].copy_(v)
        self.updates += 1

    @contextlib.contextmanager
    def swapped_in(self, model: torch.nn.Module):
        """Inside the block the model holds the averaged weights; its own come back after."""
        live = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.load_state_dict(self.state)
        try:
            yield model
        finally:
            model.load_state_dict(live)

    def state_dict(self) -> dict:
        return {"decay": self.decay, "updates": self.updates, "state": self.state}

    def load_state_dict(self, d: dict) -> None:
        self.decay, self.updates = float(d["decay"]), int(d["updates"])
        for k, v in d["state"].items():
            self.state[k].copy_(v)
