"""A cohort median's expected value: a robust level and trend in time, and its band (pure).

The fleet verdict asks whether a whole cohort *stepped*. A level alone lags a cohort that
follows the daily load, and it counts rounds, not time: after rounds the cohort could not be
compared (too few of its nodes read in time, partitions read at different paces), the load had
climbed while the level stood still, and the climb read as a jump (the demo's false fleet
verdicts on ``role=db``, e.g. ``cpu.usage_user`` at 11:06). So the median is forecast as a line
in time, level plus trend times the time since the cohort was last compared: a least-squares
line over the warm-up rounds, then Holt's error-correction updates, Huber-clipped so that a step
moves level and trend slowly and stays a step. The trend's gain is a quarter of the square of
the level's (β = α²/4): the error's response is critically damped, so the line follows a step
without overshooting it (which would read as a second jump, the other way). The band is the
one-round scale widened as a fitted line's prediction interval widens with the distance from
the rounds it was fitted on (over the rounds the model remembers, ``2/α - 1``): a forecast an
hour out, from a trend learned in twenty rounds, is judged with the band it deserves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

HUBER = 3.0  # residuals past this many deviations move level and trend by this much only
SCALE_CLIP = 6.0  # and the scale by at most this many
MEAN_ABS_OF_SIGMA = 0.7979  # a normal residual's mean absolute value, in standard deviations


@dataclass(slots=True)
class CohortLevel:
    """One metric's cohort median: level, trend per second, scale, rounds seen, last round.

    Ten floats per cohort metric (``slots``: no per-instance dict); the five sums of the
    warm-up's least-squares line are unused once it is over.

    Examples
    --------
    >>> model = CohortLevel()
    >>> for r in range(60):  # a ramp of 0.5 a round, with a little noise
    ...     value = 10.0 + 0.5 * r + (0.1 if r % 2 else -0.1)
    ...     expected, widen = model.forecast(60.0 * r, 60.0, 0.05)
    ...     model.learn(value, expected, widen, 60.0 * r, 60.0, 0.05, warming=r < 20)
    >>> expected, widen = model.forecast(120 * 60.0, 60.0, 0.05)  # an hour unseen
    >>> round(expected, 1), round(widen, 2)
    (70.1, 1.45)
    """

    level: float = 0.0
    trend_per_s: float = 0.0
    scale: float = 0.0
    rounds: int = 0
    at_s: float = 0.0
    # Running sums of the warm-up's line: means of t and y, and centred (co)variances.
    mean_t: float = 0.0
    mean_y: float = 0.0
    s_tt: float = 0.0
    s_ty: float = 0.0
    s_yy: float = 0.0

    def stale(self, round_s: float, round_len_s: float, alpha: float) -> bool:
        """Whether ``round_s`` is further from the last round than the line remembers rounds.

        A trend learned over ``2/α - 1`` rounds says nothing of where the daily load went in
        more (half a day later it may have turned): the line is then learned anew.
        """
        return self.rounds > 0 and round_s - self.at_s > (2.0 / alpha - 1.0) * round_len_s

    def forecast(self, round_s: float, round_len_s: float, alpha: float) -> tuple[float, float]:
        """The expected median at ``round_s``, and how much wider than one round's its band is.

        The ratio of a least-squares line's prediction variance ``h`` rounds past the last of
        ``n`` to the variance one round past: 1 + 1/n + 12 (h + (n-1)/2)² / (n (n² - 1)).
        """
        elapsed_s = max(round_s - self.at_s, 0.0)
        if self.rounds == 0:
            return self.level, 1.0
        n = min(float(self.rounds), 2.0 / alpha - 1.0)
        horizon = max(elapsed_s / round_len_s, 1.0)

        def variance(h: float) -> float:
            return 1.0 + 1.0 / n + 12.0 * (h + (n - 1.0) / 2.0) ** 2 / max(n * (n * n - 1), 1.0)

        return self.level + self.trend_per_s * elapsed_s, math.sqrt(variance(horizon) / variance(1))

    def learn(
        self,
        median: float,
        expected: float,
        widen: float,
        round_s: float,
        round_len_s: float,
        alpha: float,
        floor: float = 0.0,
        warming: bool = False,
    ) -> None:
        """Move the line toward ``median`` (its forecast was ``expected``, band ``widen``).

        While ``warming``, the line is the least-squares one through every round so far.
        """
        if warming:
            self._fit(median, round_s)
            return
        scale = max(self.scale, floor)
        limit = HUBER * scale * widen
        residual = median - expected
        clipped = max(-limit, min(limit, residual))
        horizon = max((round_s - self.at_s) / round_len_s, 1.0)
        self.level = expected + alpha * clipped
        # A residual after h rounds unseen says less about the slope than one after one.
        self.trend_per_s += alpha * alpha / 4.0 * clipped / (horizon * round_len_s)
        deviation = min(abs(residual) / widen, SCALE_CLIP * scale)
        self.scale += alpha * (deviation - self.scale)
        self.rounds += 1
        self.at_s = round_s

    def _fit(self, y: float, t: float) -> None:
        """Add a round to the warm-up's line (Welford's updates) and read level/trend/scale off."""
        self.rounds += 1
        n = float(self.rounds)
        dt, dy = t - self.mean_t, y - self.mean_y
        self.mean_t += dt / n
        self.mean_y += dy / n
        self.s_tt += dt * (t - self.mean_t)
        self.s_ty += dt * (y - self.mean_y)
        self.s_yy += dy * (y - self.mean_y)
        self.trend_per_s = self.s_ty / self.s_tt if self.s_tt > 0 else 0.0
        self.level = self.mean_y + self.trend_per_s * (t - self.mean_t)
        if n > 2:
            residual_var = max(self.s_yy - self.trend_per_s * self.s_ty, 0.0) / (n - 2.0)
            # The next round's residual is the line's error there too, not only the noise.
            ahead = 1.0 + 1.0 / n + 3.0 * (n + 1.0) ** 2 / (n * (n * n - 1.0))
            self.scale = MEAN_ABS_OF_SIGMA * math.sqrt(residual_var * ahead)
        self.at_s = t
