"""The ordered-probit likelihood of :class:`~skembrec.BayesianMF` (``output="ordinal"``).

Rating classes :math:`y_r \\in \\{0, \\dots, C - 1\\}` (the sorted rating
levels) are read through a latent rating
:math:`z_r \\sim N(\\eta_r, 1 / w_r)` (:math:`\\eta_r` the factorisation's
prediction, :math:`w_r` the rating's weight) and ordered cut points
:math:`\\gamma_0 < \\dots < \\gamma_{C-2}`: :math:`y_r = c` when
:math:`\\gamma_{c-1} < z_r \\le \\gamma_c` (:math:`\\gamma_{-1} = -\\infty`,
:math:`\\gamma_{C-1} = \\infty`), so
:math:`P(y_r \\le c) = \\Phi(\\sqrt{w_r}(\\gamma_c - \\eta_r))`.

Given the latent ratings the rest of the model is the Gaussian one with
noise precision 1, which the samplers draw as they do for ratings (Albert
and Chib's augmentation). At the start of every sweep, given the previous
sweep's predictions :math:`\\eta`:

* each cut point in turn by a Metropolis-Hastings step on its conditional
  with the latent ratings integrated out (Cowles' remedy for the
  Gibbs step of Albert and Chib, whose uniform draw between the classes'
  neighbouring latent values barely moves with many ratings): the
  proposal is the Laplace approximation at the current value (one Newton
  step, the curvature's variance), and the reverse proposal's density
  from the Laplace approximation at the proposed value; the conditional is
  log-concave, so nearly every proposal is taken;
* each latent rating from its Normal truncated to its class's interval, by
  the inverse CDF on the tail that keeps precision (float64).

A flat prior on the ordered cut points: their common location is held by
the id groups' priors, as the regression model's mean is.
"""

import numpy as np

from ..backend import tf

# the infinite ends of the outer classes, as large finite values (no 0 * inf)
_FAR = 1e10
_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def _normal_pdf(x):
    tf_ = tf()
    return tf_.exp(-0.5 * tf_.square(x) - _LOG_SQRT_2PI)


def _ndtr(x):
    """The standard Normal CDF, precise in the lower tail."""
    tf_ = tf()
    return 0.5 * tf_.math.erfc(-x * np.sqrt(0.5))


def _class_probability(upper, lower):
    """:math:`\\Phi(a) - \\Phi(b)` for ``upper`` :math:`a` > ``lower`` :math:`b`,
    from the tail where it keeps precision."""
    tf_ = tf()
    ndtr = _ndtr
    high = lower > 0
    return tf_.where(high, ndtr(-lower) - ndtr(-upper), ndtr(upper) - ndtr(lower))


class OrderedProbit:
    """The latent ratings and the cut points of one fit (see the module docstring).

    Parameters
    ----------
    codes : ndarray of int
        Each rating's class, in the sampler's (users') order.
    weight : ndarray of float
        Each rating's weight, in the same order.
    n_classes : int
        The number of rating levels.
    """

    def __init__(self, codes, weight, n_classes):
        tf_ = tf()
        self.n_classes = int(n_classes)
        counts = np.bincount(codes, minlength=self.n_classes).astype(np.float64)
        # start where a prediction of 0 gives the classes their frequencies
        cumulative = np.clip(np.cumsum(counts)[:-1] / counts.sum(), 1e-3, 1 - 1e-3)
        start = _ndtri(cumulative)
        start = np.maximum.accumulate(start + 1e-3 * np.arange(len(start)))
        self.cutpoints = tf_.Variable(start, dtype=tf_.float64, trainable=False)
        self.codes = tf_.constant(codes, tf_.int32)
        self.root_weight = tf_.constant(np.sqrt(weight), tf_.float64)
        # each class's ratings, for the cut points' steps
        self.members = [tf_.constant(np.flatnonzero(codes == c), tf_.int32)
                        for c in range(self.n_classes)]

    def initial(self):
        """Latent ratings to start from: inside each class's interval."""
        tf_ = tf()
        cut = self.cutpoints.read_value()
        inner = tf_.concat([cut[:1] - 0.5, (cut[1:] + cut[:-1]) / 2, cut[-1:] + 0.5], 0)
        return tf_.cast(tf_.gather(inner, self.codes), tf_.float32)

    def _bounds(self):
        tf_ = tf()
        cut = self.cutpoints.read_value()
        return tf_.concat([[-_FAR], cut, [_FAR]], 0)

    def _terms(self, k, value, eta):
        """The log-likelihood of cut point ``k`` at ``value`` and its first
        two derivatives, from the ratings of classes ``k`` and ``k + 1``."""
        tf_ = tf()
        bounds = self._bounds()
        loglik, grad, curvature = 0.0, 0.0, 0.0
        # class k: the cut point is the upper bound; class k + 1: the lower
        for c, upper_is_k in ((k, True), (k + 1, False)):
            rows = self.members[c]
            root = tf_.gather(self.root_weight, rows)
            centre = tf_.gather(eta, rows)
            moving = root * (value - centre)
            if upper_is_k:
                upper, lower = moving, root * (bounds[c] - centre)
            else:
                upper, lower = root * (bounds[c + 1] - centre), moving
            p = tf_.maximum(_class_probability(upper, lower), 1e-300)
            density = _normal_pdf(moving) / p
            sign = 1.0 if upper_is_k else -1.0
            loglik += tf_.reduce_sum(tf_.math.log(p))
            grad += tf_.reduce_sum(sign * root * density)
            curvature += tf_.reduce_sum(tf_.square(root) * (
                -sign * moving * density - tf_.square(density)))
        return loglik, grad, curvature

    def _laplace(self, k, value, eta):
        """``(loglik, proposal mean, proposal sd)`` at ``value``."""
        tf_ = tf()
        loglik, grad, curvature = self._terms(k, value, eta)
        concave = curvature < 0
        safe = tf_.where(concave, curvature, -1.0)
        mean = tf_.where(concave, value - grad / safe, value)
        sd = tf_.where(concave, tf_.math.rsqrt(-safe), tf_.constant(0.01, tf_.float64))
        return loglik, mean, sd

    def draw(self, prediction, generator):
        """Draw the cut points, then the latent ratings, given the
        predictions (float32, the sampler's order); returns the latent
        ratings (float32)."""
        tf_ = tf()
        eta = tf_.cast(prediction, tf_.float64)
        for k in range(self.n_classes - 1):
            bounds = self._bounds()
            current = bounds[k + 1]
            loglik, mean, sd = self._laplace(k, current, eta)
            proposal = mean + sd * generator.normal([], dtype=tf_.float64)
            ordered = (proposal > bounds[k]) & (proposal < bounds[k + 2])
            # outside the order, the conditional is 0: evaluate at the
            # current value instead and reject below
            at = tf_.where(ordered, proposal, current)
            new_loglik, new_mean, new_sd = self._laplace(k, at, eta)
            log_ratio = (new_loglik - loglik
                         + _log_normal(current, new_mean, new_sd)
                         - _log_normal(at, mean, sd))
            accept = ordered & (tf_.math.log(generator.uniform([], dtype=tf_.float64))
                                < log_ratio)
            self.cutpoints.assign(tf_.tensor_scatter_nd_update(
                self.cutpoints, [[k]], tf_.where(accept, at, current)[None]))
        # the latent ratings: each a Normal truncated to its class's interval
        bounds = self._bounds()
        root = self.root_weight
        lower = root * (tf_.gather(bounds, self.codes) - eta)
        upper = root * (tf_.gather(bounds, self.codes + 1) - eta)
        # draw on the side where the interval is in the lower tail
        flip = lower > 0
        low, high = tf_.where(flip, -upper, lower), tf_.where(flip, -lower, upper)
        p_low, p_high = _ndtr(low), _ndtr(high)
        u = p_low + generator.uniform(tf_.shape(eta), dtype=tf_.float64) * (p_high - p_low)
        t = tf_.clip_by_value(tf_.math.ndtri(u), low, high)
        t = tf_.where(flip, -t, t)
        return tf_.cast(eta + t / root, tf_.float32)


def _log_normal(x, mean, sd):
    tf_ = tf()
    return -0.5 * tf_.square((x - mean) / sd) - tf_.math.log(sd)


def _ndtri(p):
    """The standard Normal quantile (NumPy, for the starting cut points)."""
    from scipy.special import ndtri

    return ndtri(p)
