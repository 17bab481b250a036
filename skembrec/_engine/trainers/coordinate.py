"""The coordinate-wise Gibbs sampler of :class:`~skembrec.BayesianMF` (``solver="coordinate"``).

The model, the groups, the priors and the table layout are those of the
blocked sampler (:mod:`.gibbs`, whose groups and draws this path reuses):
in standardised ratings

.. math:: \\hat r_{ui} = b(u) + b(i) + p(u)^\\top q(i), \\qquad
          [b(e), p(e)] = \\sum_g A^g_e \\Theta^g ,

a Normal prior :math:`\\Theta^g_{cf} \\sim N(\\mu_{gf}, \\lambda_{gf}^{-1})` on
every group's rows with a Normal-Gamma hyperprior per factor, and a noise
precision :math:`\\alpha \\sim \\Gamma(1, 1)`. What differs is the blocking
of the sweep: as libFM's and myFM's MCMC, one factor column at a time
(the bias is factor 0), with the residuals :math:`e_r = y_r - \\hat r_r` kept
up to date, so a sweep costs :math:`O(\\mathrm{nnz} \\cdot k)` instead of the
blocked sampler's :math:`O(\\mathrm{nnz} \\cdot k^2)` per-rating Gram terms.

One factor :math:`f` of one side (users, say). The prediction is linear in
an entity's coordinate :math:`t_u = [b(u), p(u)]_f` with coefficient
:math:`h_r = 1` (bias) or :math:`q_f(i_r)`, so the ratings enter the
conditional of anything that moves :math:`t_u` through two sums per entity,

.. math:: d_u = \\sum_{r \\in u} w_r h_r^2, \\qquad s_u = \\sum_{r \\in u} w_r h_r e_r ,

and when :math:`t_u` moves by :math:`\\delta_u`, :math:`e_r \\mathrel{-}= \\delta_u h_r`
and :math:`s_u \\mathrel{-}= d_u \\delta_u`. The side's groups are drawn in
turn for factor :math:`f` from these entity-level sums (no pass over the
ratings between them), and the residuals are updated once, after the last:

* a group in which an entity has at most one column (:math:`a_u` in
  column :math:`c(u)`: the ids, a categorical or numeric feature): its
  columns are independent given the rest, each drawn exactly from

  .. math:: \\Lambda_c = \\lambda_{gf} + \\alpha \\sum_{c(u) = c} a_u^2 d_u, \\qquad
            \\Theta_{cf} \\sim N\\Big(\\Lambda_c^{-1}\\big[\\lambda_{gf}\\mu_{gf}
            + \\alpha \\sum_{c(u) = c} a_u (s_u + d_u a_u \\Theta^{old}_{cf})\\big],
            \\ \\Lambda_c^{-1}\\Big);

* a multi-hot group (the "who rated what" group, a multi-valued feature):
  its column :math:`\\theta = \\Theta_{\\cdot f}` has the joint conditional
  :math:`N(\\Lambda^{-1} b, \\Lambda^{-1})` with
  :math:`\\Lambda = \\lambda_{gf} I + \\alpha A^\\top D A` (:math:`D = \\mathrm{diag}(d)`)
  and :math:`b = \\lambda_{gf}\\mu_{gf} + \\alpha A^\\top (s + D A \\theta^{old})`,
  drawn by perturb-and-MAP (:math:`b` plus noise of covariance
  :math:`\\Lambda`, then :data:`CG_STEPS` conjugate-gradient steps on
  :math:`\\Lambda \\theta = b` warm-started at :math:`\\theta^{old}`, exact at
  convergence), each step two sparse products of :math:`O(\\mathrm{nnz}(A))`.
  libFM draws these columns one by one, a sequential loop that a graph
  cannot run in parallel; drawn jointly, few steps leave the draw short of
  its conditional, hence the steps (see :data:`CG_STEPS`).

* a feature group (a column of ``user_features``/``item_features``) is
  drawn *centred*: given each entity's coordinate :math:`c_u` (the id's
  own term :math:`t^{id}_u` plus its features'), which stays as it is. The
  id prior :math:`t^{id}_u \\sim N(\\mu, \\lambda^{-1})` makes the features
  the regression of :math:`c_u - \\mu` on the entity's feature values with
  noise precision :math:`\\lambda` (the id group's), so the column is
  drawn as a group above observed with weights :math:`\\lambda` and no
  ratings (:func:`centred_draw`), and the id terms give up what it takes;
  the residuals do not move. Drawn given the ratings with the id terms
  fixed instead, an attribute's effect moves out of the ids by about the
  ratio of the prior's precision to the ratings' a sweep (1% for 40
  ratings): after a few hundred sweeps a cold entity's prediction was
  still a lottery.

A date group (``n_time_bins``) adds :math:`b_t + v_t^\\top (p(u) + q(i))`
for the rating's time bin :math:`t`: a user's coefficient of factor
:math:`f` is then :math:`q_f(i) + v_{tf}`, an item's :math:`p_f(u) + v_{tf}`,
and the bins are a third side, drawn after the items as an id group with
coefficient :math:`p_f(u) + q_f(i)` (the ratings sorted by bin; the last
bin, an unseen date, held at the group's prior mean).

After each side, every group's hyperparameters are drawn given its rows
(as the blocked sampler does), and :math:`\\alpha` at the start of each
sweep from :math:`\\sum_r w_r e_r^2`. The residuals are recomputed from
the draw at the start of every sweep, so float32 rounding never
accumulates over sweeps. A sweep is one compiled ``tf.function`` call of
TensorFlow ops (the factors a loop in the graph, so tracing does not grow
with them), and runs on a GPU unchanged.
"""

from ..backend import graph_loop, tf
from .gibbs import GibbsSampler, _segment_sum

# conjugate-gradient steps per factor of a multi-hot group's draw, warm-started
# at the current draw: MovieLens-100K u1, ids + implicit, 200 sweeps,
# random_state=0: 1 step 0.8967, 2 steps 0.8932, 4 steps 0.8904 (the blocked
# sampler 0.8899, myFM 0.8901). Neither a Jacobi preconditioner (1, 2, 3 steps:
# 0.8981, 0.8942, 0.8926) nor drawing the group with the id column integrated
# out (2, 4 steps: 0.8994, 0.8930) did better for the same steps.
CG_STEPS = 4


def factor_sums(h, w, e, own, n):
    """``(d, s)``: each entity's :math:`\\sum w h^2` and :math:`\\sum w h e`
    over its ratings (``own`` sorted, ``n`` entities)."""
    wh = w * h
    return _segment_sum(wh * h, own, n), _segment_sum(wh * e, own, n)


def id_conditional(d, s, theta, lam, mu, alpha):
    """:func:`onehot_conditional` of the id group (entity ``u`` owns column
    ``u`` with value 1): no gathers."""
    precision = lam + alpha * d
    return (lam * mu + alpha * (s + d * theta)) / precision, precision


def onehot_conditional(d, s, theta, owner, value, lam, mu, alpha):
    """The conditional ``(mean, precision)`` of each column of a group in
    which entity ``u`` has value ``value[u]`` in column ``owner[u]``
    (``len(theta)`` for none), given the entity sums ``d``, ``s`` and the
    columns' current values ``theta`` (see the module docstring)."""
    tf_ = tf()
    n = tf_.shape(theta)[0]
    current = value * tf_.gather(tf_.pad(theta, [[0, 1]]), owner)
    precision = lam + alpha * tf_.math.unsorted_segment_sum(value * value * d, owner, n + 1)[:-1]
    linear = lam * mu + alpha * tf_.math.unsorted_segment_sum(
        value * (s + d * current), owner, n + 1)[:-1]
    return linear / precision, precision


def multihot_draw(theta, A, AT, lam, mu, weight, target, noise, steps):
    """A multi-hot group's draw by perturb-and-MAP; returns ``(draw, A (draw - theta))``.

    The group's column :math:`\\theta` is observed through the entities,
    :math:`y = A\\theta + \\epsilon`, :math:`\\epsilon_u \\sim N(0, 1/\\omega_u)`
    (``weight`` is :math:`\\omega`, ``target`` is :math:`\\omega \\odot (y - A\\theta)`
    at the current ``theta``), under the prior :math:`N(\\mu, 1/\\lambda)`: the
    conditional is :math:`N(\\Lambda^{-1} b, \\Lambda^{-1})` with
    :math:`\\Lambda = \\lambda I + A^\\top \\Omega A`. ``noise``, standard normal
    draws of shapes ``(n_columns,)`` and ``(n_entities,)``, perturbs :math:`b` by
    :math:`\\sqrt\\lambda \\epsilon_1 + A^\\top \\sqrt\\Omega \\epsilon_2` (covariance
    :math:`\\Lambda`), so that the solution is a draw. It is solved by ``steps``
    conjugate-gradient steps from ``theta``, in the form that needs no product for
    the start (the residual there is :math:`\\lambda(\\mu - \\theta) + A^\\top`
    ``target`` plus the noise) and none for the entities' change (the sum of the
    steps' :math:`a_t A p_t`), and with each step's curvature
    :math:`p_t^\\top \\Lambda p_t = \\lambda |p_t|^2 + (A p_t)^\\top \\Omega (A p_t)`
    from its first product, so that the last step needs one: ``2 * steps``
    sparse products in all, where the shared
    :func:`~skembrec._engine.solvers.conjugate_gradient` would need ``4 + 2 * steps``.
    """
    tf_ = tf()

    def matvec(MT, x):
        # M x, as the adjoint product of M's transpose: TensorFlow's CPU kernel
        # runs it about twice as fast as the plain product (a 943 x 1650 matrix
        # of 80K entries: 145 against 270 us) and sums the same terms in the
        # same order, so the result is the same to the bit
        return tf_.sparse.sparse_dense_matmul(MT, x[:, None], adjoint_a=True)[:, 0]

    residual = (lam * (mu - theta) + tf_.sqrt(lam) * noise[0]
                + matvec(A, target + tf_.sqrt(weight) * noise[1]))
    direction, norm = residual, tf_.reduce_sum(tf_.square(residual))
    draw, moved = theta, 0.0
    for step in range(steps):
        pushed = matvec(AT, direction)
        weighted = weight * pushed
        curvature = (lam * tf_.reduce_sum(tf_.square(direction))
                     + tf_.reduce_sum(weighted * pushed))
        # a solved system (zero residual) stays where it is
        a = tf_.math.divide_no_nan(norm, curvature)
        draw, moved = draw + a * direction, moved + a * pushed
        if step + 1 < steps:
            residual = residual - a * (lam * direction + matvec(A, weighted))
            new_norm = tf_.reduce_sum(tf_.square(residual))
            direction = residual + tf_.math.divide_no_nan(new_norm, norm) * direction
            norm = new_norm
    return draw, moved


def centred_draw(g, theta, lam, mu, id_lam, residual, gen):
    """A feature group's column drawn given the ids' coordinates; returns
    ``(draw, its change of each entity's feature term)``.

    Each id's own term (``residual``: its value less the id group's prior
    mean) is the regression of its coordinate on its features, of noise
    precision ``id_lam`` (the id group's prior precision), so the group's
    conditional is that of a one-hot or multi-hot group observed with
    weight ``id_lam`` and no ratings.
    """
    tf_ = tf()
    weight = id_lam * tf_.ones_like(residual)
    if g["owner"] is not None:
        mean, precision = onehot_conditional(weight, id_lam * residual, theta, g["owner"],
                                             g["value"], lam, mu, 1.0)
        draw = mean + gen.normal([g["n"]]) / tf_.sqrt(precision)
        return draw, g["value"] * tf_.gather(tf_.pad(draw - theta, [[0, 1]]), g["owner"])
    noise = (gen.normal([g["n"]]), gen.normal(tf_.shape(residual)))
    return multihot_draw(theta, g["A"], g["AT"], lam, mu, weight, id_lam * residual, noise,
                         CG_STEPS)


class CoordinateSampler(GibbsSampler):
    """Draw BayesianMF's parameters one factor column at a time.

    The blocked sampler's constructor, groups, hyperparameter draws and
    table writes (:class:`~skembrec._engine.trainers.gibbs.GibbsSampler`);
    the sweep of the module docstring.
    """

    draws_dates = True

    def prepare(self, data):
        """The blocked sampler's chain, with each side's (entity, rating)
        positions ``spread``, the indices of the sparse matrix that spreads an
        entity's change over its ratings (see :meth:`_draw_side`)."""
        tf_ = tf()
        chain, state = super().prepare(data)
        for ratings in chain.ratings.values():
            own = tf_.cast(ratings["own"], tf_.int64)
            ratings["spread"] = tf_.stack(
                [own, tf_.range(tf_.size(own, out_type=tf_.int64))], axis=1)
        return chain, state

    def _draw_side(self, chain, side, e, partner):
        """Draw every factor of ``side``'s groups (a loop in the graph);
        returns the residuals (in ``side``'s order) and the change of the
        side's totals ``(n, k + 1)``.

        ``partner`` is each rating's coefficient of the side's factors
        ``(n_ratings, k)``, in ``side``'s order: the other side's factors
        (the date's added, with a date group).
        """
        tf_ = tf()
        gen, alpha = chain.generator, chain.alpha.read_value()
        data, n = chain.ratings[side], chain.n[side]
        own, w = data["own"], data["w"]
        groups = chain.groups[side]
        # each rating's coefficient of factor f of this side: 1 for the
        # bias, the partner's factor f (gathered by rows, then transposed: a
        # gather along the second axis is several times slower)
        coefficients = tf_.concat([tf_.ones_like(w)[None], tf_.transpose(partner)], 0)
        lam = [g["lam"].read_value() for g in groups]
        mu = [g["mu"].read_value() for g in groups]

        # a factor reads and writes only its own column of each group, so its
        # draws go to TensorArrays: tensor_scatter_nd_update copied the whole
        # [k + 1, n] tensor per draw (about 1 ms of a 45 ms sweep)
        start = [tf_.transpose(g["theta"]) for g in groups]

        def factor(f, e, change, *drawn):
            h = coefficients[f]
            d, s = factor_sums(h, w, e, own, n)
            moved = tf_.zeros([n])
            columns = [theta[f] for theta in start]
            for j, g in enumerate(groups):
                theta, lam_f, mu_f = columns[j], lam[j][f], mu[j][f]
                if g["dest"] == "features":
                    # centred: given each id's coordinate (its own term plus
                    # its features') as it is, so neither the ratings nor the
                    # residuals enter; the id term gives up what the
                    # features take (see the module docstring)
                    id_term = columns[0]
                    draw, delta = centred_draw(g, theta, lam_f, mu_f, lam[0][f],
                                               id_term - mu[0][f], gen)
                    columns[j], columns[0] = draw, id_term - delta
                    continue
                if g["dest"] == "id":
                    mean, precision = id_conditional(d, s, theta, lam_f, mu_f, alpha)
                    draw = mean + gen.normal([n]) / tf_.sqrt(precision)
                    if g["pinned"] is not None:
                        # the unseen date: the group's prior mean
                        draw = tf_.tensor_scatter_nd_update(draw, [[g["pinned"]]], [mu_f])
                    delta = draw - theta
                elif g["owner"] is not None:
                    mean, precision = onehot_conditional(d, s, theta, g["owner"], g["value"],
                                                         lam_f, mu_f, alpha)
                    draw = mean + gen.normal([g["n"]]) / tf_.sqrt(precision)
                    delta = g["value"] * tf_.gather(tf_.pad(draw - theta, [[0, 1]]),
                                                    g["owner"])
                else:
                    noise = (gen.normal([g["n"]]), gen.normal([n]))
                    draw, delta = multihot_draw(theta, g["A"], g["AT"], lam_f, mu_f,
                                                alpha * d, alpha * s, noise, CG_STEPS)
                columns[j] = draw
                # the later groups see the residuals this draw leaves
                s = s - d * delta
                moved = moved + delta
            # e -= h moved[own], as the adjoint product of the (entity x rating)
            # matrix of the h: TensorFlow's CPU gather of single floats is
            # slower (MovieLens-100K: 480 against 180 us); the same to the bit
            spread = tf_.SparseTensor(data["spread"], h, [n, tf_.size(h, out_type=tf_.int64)])
            e = e - tf_.sparse.sparse_dense_matmul(spread, moved[:, None], adjoint_a=True)[:, 0]
            return (e, change.write(f, moved),
                    *[array.write(f, column) for array, column in zip(drawn, columns)])

        k1 = self.k + 1
        e, change, *drawn = graph_loop(
            tf_.constant(k1, tf_.int32), factor, e, tf_.TensorArray(tf_.float32, k1),
            *[tf_.TensorArray(tf_.float32, k1) for _ in groups])
        for g, array in zip(groups, drawn):
            g["theta"].assign(tf_.transpose(array.stack()))
            self._sample_hyper(chain, g)
        return e, tf_.transpose(change.stack())

    def _sweep_fn(self, chain):
        tf_ = tf()
        self._likelihood_step(chain)
        totals = {side: self._total(chain, side) for side in ("user", "item")}
        e = self._residuals(chain, totals)
        dates = chain.groups.get("date")
        date = None if dates is None else dates[0]["theta"].read_value()[:, 1:]

        def partner(side, other):
            # the factors a rating of ``side`` multiplies, in its order
            data = chain.ratings[side]
            factors = tf_.gather(totals[other][:, 1:], data["other"])
            return factors if date is None else factors + tf_.gather(date, data["date"])

        e, change = self._draw_side(chain, "user", e, partner("user", "item"))
        totals["user"] = totals["user"] + change
        e = tf_.gather(e, chain.to_items)
        e, change = self._draw_side(chain, "item", e, partner("item", "user"))
        last = "item"
        if dates is not None:
            # the date group, given both sides: its coefficient is the sum
            # of the rating's user and item factors
            totals["item"] = totals["item"] + change
            data = chain.ratings["date"]
            e = tf_.gather(e, chain.to_dates)
            e, _ = self._draw_side(chain, "date", e, tf_.gather(
                totals["user"][:, 1:], data["user"]) + tf_.gather(
                totals["item"][:, 1:], data["item"]))
            last = "date"
        chain.squares.assign(tf_.reduce_sum(chain.ratings[last]["w"] * tf_.square(e)))
        return chain.squares / chain.total_weight
