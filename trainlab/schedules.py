"""Learning-rate tools Keras lacks: the 1cycle schedule (with its momentum cycle) and the LR range
test callback."""

from __future__ import annotations

import math

import keras
import numpy as np


class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """Smith's 1cycle policy (Smith 2018): the learning rate climbs linearly from
    ``max_lr / div_factor`` to ``max_lr``, comes back down linearly in as many steps, then falls
    to ``max_lr / div_factor / final_div_factor`` over the last steps.

    ``cycle_fraction`` is the share of ``total_steps`` taken by the up-and-down cycle (its peak is
    at half of it); the rest anneals. Beyond ``total_steps`` the rate stays at its final value.

    Example:
        >>> schedule = OneCycle(max_lr=0.1, total_steps=100)
        >>> [round(float(schedule(s)), 4) for s in (0, 45, 90, 100)]
        [0.01, 0.1, 0.01, 0.0001]
    """

    def __init__(self, max_lr: float, total_steps: int, *, div_factor: float = 10.0,
                 final_div_factor: float = 100.0, cycle_fraction: float = 0.9, name: str = "one_cycle"):
        super().__init__()
        if not (isinstance(max_lr, (int, float)) and max_lr > 0):
            raise ValueError(f"max_lr must be a positive number, got {max_lr!r}")
        if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 2:
            raise ValueError(f"total_steps must be an int of at least 2, got {total_steps!r}")
        if not (div_factor >= 1 and final_div_factor >= 1):
            raise ValueError("div_factor and final_div_factor must be at least 1")
        if not 0 < cycle_fraction <= 1:
            raise ValueError(f"cycle_fraction must be in (0, 1], got {cycle_fraction!r}")
        self.max_lr, self.total_steps = float(max_lr), total_steps
        self.div_factor, self.final_div_factor = float(div_factor), float(final_div_factor)
        self.cycle_fraction, self.name = float(cycle_fraction), name

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        low = self.max_lr / self.div_factor
        final = low / self.final_div_factor
        half = self.total_steps * self.cycle_fraction / 2
        end = 2 * half
        up = low + (self.max_lr - low) * step / half
        down = self.max_lr - (self.max_lr - low) * (step - half) / half
        tail = max(self.total_steps - end, 1e-9)
        anneal = low - (low - final) * keras.ops.minimum((step - end) / tail, 1.0)
        return keras.ops.where(step < half, up, keras.ops.where(step < end, down, anneal))

    def get_config(self):
        return {"max_lr": self.max_lr, "total_steps": self.total_steps, "div_factor": self.div_factor,
                "final_div_factor": self.final_div_factor, "cycle_fraction": self.cycle_fraction,
                "name": self.name}


class CycleMomentum(keras.callbacks.Callback):
    """1cycle's momentum half (Smith 2018): while the learning rate of ``schedule`` climbs from
    its start to its peak, Adam's ``beta_1`` falls linearly from ``high`` to ``low``; it climbs
    back as the rate comes down, and stays at ``high`` while the rate anneals.

    Keras' SGD takes its momentum as a Python float and reads it when the train step is traced,
    so only optimizers that read a ``beta_1`` at every step (Adam, AdamW, Nadam, AdaMax, Lion)
    can be cycled. Give the
    optimizer ``beta_1=keras.Variable(high, trainable=False)``: Keras' Adam reads that variable at
    every step (its bias correction then uses the current ``beta_1``, as other 1cycle
    implementations do).

    Example:
        >>> beta_1 = keras.Variable(0.95, trainable=False)
        >>> schedule = OneCycle(max_lr=1e-2, total_steps=100)
        >>> optimizer = keras.optimizers.Adam(schedule, beta_1=beta_1)
        >>> callback = CycleMomentum(schedule)   # pass to fit(callbacks=[callback])
        >>> [round(callback.momentum(s), 3) for s in (0, 45, 90, 100)]
        [0.95, 0.85, 0.95, 0.95]
    """

    def __init__(self, schedule: OneCycle, high: float = 0.95, low: float = 0.85):
        super().__init__()
        if not isinstance(schedule, OneCycle):
            raise TypeError(f"schedule must be a trainlab OneCycle, got {type(schedule).__name__}")
        if not 0 <= low <= high < 1:
            raise ValueError(f"need 0 <= low <= high < 1, got low={low!r}, high={high!r}")
        self.schedule, self.high, self.low = schedule, float(high), float(low)

    def momentum(self, step: int) -> float:
        """The momentum at ``step``: linear in the learning rate between the cycle's ends."""
        start = self.schedule.max_lr / self.schedule.div_factor
        rate = float(self.schedule(step))
        share = 0.0 if self.schedule.max_lr == start else (rate - start) / (self.schedule.max_lr - start)
        return self.high - (self.high - self.low) * min(max(share, 0.0), 1.0)

    def on_train_begin(self, logs=None):
        beta_1 = getattr(self.model.optimizer, "beta_1", None)
        if not isinstance(beta_1, keras.Variable):
            raise TypeError(
                f"CycleMomentum needs an optimizer whose beta_1 is a keras.Variable, got "
                f"{type(self.model.optimizer).__name__} with beta_1={beta_1!r}. Build it as, e.g., "
                "keras.optimizers.Adam(schedule, beta_1=keras.Variable(0.95, trainable=False)). "
                "(SGD's momentum is a float that Keras fixes when it traces the train step.)")
        self._beta_1 = beta_1

    def on_train_batch_begin(self, batch, logs=None):
        self._beta_1.assign(self.momentum(int(self.model.optimizer.iterations.numpy())))


class LRRangeTest(keras.callbacks.Callback):
    """The learning-rate range test (Smith 2017): raise the learning rate exponentially from
    ``start_lr`` to ``end_lr`` over ``steps`` batches and record each batch's own loss.

    Keras' ``logs["loss"]`` is the running mean over the epoch so far, not the batch's loss; the
    batch's loss is read from the change of the loss tracker's total and count. The test stops
    once the loss passes ``stop_factor`` times its best (or is not finite), and afterwards puts
    the model's and the optimizer's variables back as they were (learning rate included), so the
    model can then be trained from where it started.

    Example:
        >>> finder = LRRangeTest(1e-5, 1.0, steps=100)
        >>> history = model.fit(data.x_train, data.y_train, batch_size=8, epochs=2, callbacks=[finder],
        ...                     verbose=0)
        >>> 1e-6 <= finder.suggestion() <= 0.1  # a tenth of a rate in the tested range
        True
    """

    def __init__(self, start_lr: float = 1e-5, end_lr: float = 1.0, steps: int = 100, *,
                 stop_factor: float = 4.0):
        super().__init__()
        if not 0 < start_lr < end_lr:
            raise ValueError(f"need 0 < start_lr < end_lr, got {start_lr!r} and {end_lr!r}")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
            raise ValueError(f"steps must be an int of at least 2, got {steps!r}")
        self.start_lr, self.end_lr, self.steps, self.stop_factor = start_lr, end_lr, steps, stop_factor
        self.learning_rates: list[float] = []
        self.losses: list[float] = []

    def _rate(self, i: int) -> float:
        return self.start_lr * (self.end_lr / self.start_lr) ** (i / (self.steps - 1))

    def on_train_begin(self, logs=None):
        optimizer = self.model.optimizer
        if isinstance(optimizer._learning_rate, keras.optimizers.schedules.LearningRateSchedule):
            raise ValueError("LRRangeTest sets the learning rate itself: compile with a plain number")
        self._saved = [keras.ops.convert_to_numpy(v) for v in self.model.variables]
        if not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        self._saved_optimizer = [keras.ops.convert_to_numpy(v) for v in optimizer.variables]
        self._tracker_state = (0.0, 0.0)
        self.learning_rates, self.losses = [], []
        optimizer.learning_rate = self._rate(0)

    def on_epoch_begin(self, epoch, logs=None):
        self._tracker_state = (0.0, 0.0)  # Keras resets its metrics at each epoch

    def on_train_batch_end(self, batch, logs=None):
        total, count = (float(keras.ops.convert_to_numpy(v)) for v in self.model.metrics[0].variables)
        last_total, last_count = self._tracker_state
        self._tracker_state = (total, count)
        loss = (total - last_total) / max(count - last_count, 1e-12)
        self.learning_rates.append(self._rate(len(self.losses)))
        self.losses.append(loss)
        best = min(self.losses)
        if len(self.losses) >= self.steps or not math.isfinite(loss) or loss > self.stop_factor * best:
            self.model.stop_training = True
        else:
            self.model.optimizer.learning_rate = self._rate(len(self.losses))

    def on_train_end(self, logs=None):
        for variable, value in zip(self.model.variables, self._saved):
            variable.assign(value)
        for variable, value in zip(self.model.optimizer.variables, self._saved_optimizer):
            variable.assign(value)

    def suggestion(self, smoothing: float = 0.9) -> float:
        """A learning rate to train with: a tenth of the rate where the smoothed loss was lowest
        (the loss is smoothed with an exponential moving average, bias-corrected)."""
        if len(self.losses) < 2:
            raise ValueError("run the test first: fit the model with this callback")
        smoothed, average = [], 0.0
        for i, loss in enumerate(self.losses):
            average = smoothing * average + (1 - smoothing) * (loss if math.isfinite(loss) else 1e30)
            smoothed.append(average / (1 - smoothing ** (i + 1)))
        return float(self.learning_rates[int(np.argmin(smoothed))] / 10)
