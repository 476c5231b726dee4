"""Temporal smoothing of latent trajectories and mask sequences.

* :func:`solve_exact` (:mod:`.exact`): exact convex smoothing under limits on castor's d(t);
* :func:`solve_snake` (:mod:`.snake`): castor's gradient-descent solver, the reference;
* :func:`gaussian_smooth` (:mod:`.gaussian`): castor's baseline on one-hot masks;
* :class:`Smoother` (:mod:`.smooth`): masks in, consistent and cleaned masks out (the ``smooth`` command).
"""

from echolatent.temporal.exact import ExactSettings, solve_exact
from echolatent.temporal.gaussian import gaussian_smooth
from echolatent.temporal.snake import SnakeSettings, solve_snake

__all__ = ["ExactSettings", "SnakeSettings", "gaussian_smooth", "solve_exact", "solve_snake"]
