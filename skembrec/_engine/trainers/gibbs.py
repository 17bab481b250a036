"""The Gibbs-sampling training path of :class:`~skembrec.BayesianMF`.

A peer of the per-rating :class:`~skembrec._engine.training.Trainer` and of the
item-batch :class:`~skembrec._engine.trainers.items.ItemTrainer`, with their
constructor and entry points (``prepare``, ``run_epoch``, ``configure``,
the optimizer state, of which it has none). An epoch is one Gibbs sweep,
one compiled ``tf.function`` call that draws every parameter once from its
conditional posterior.

The model (in standardised ratings, the target encoder's mean and scale
around it) is two-sided:

.. math:: \\hat r_{ui} = b(u) + b(i) + p(u)^\\top q(i), \\qquad
          [b(e), p(e)] = \\sum_g a^g_e \\Theta^g

where each side's design stacks groups of columns: the id (one-hot), the
"who rated what" group (``implicit``: the items the user rated in fit,
``1/sqrt(count)`` each; for an item, the users who rated it) and one group
per side-feature column (its tokens, with the values of
:mod:`._features`: the bag of each id's last rating in fit). Every group's
rows of :math:`\\Theta` have a Normal prior with a Normal-Gamma hyperprior
per factor (as BPMF and Bayesian factorisation machines), the noise
precision a Gamma(1, 1) prior, and each rating's weight multiplies its
precision.

A group in which every entity has at most one active column (the ids, a
categorical or a numeric feature) is drawn exactly, every column at once:
one batched Cholesky factorisation of ``(k + 1) x (k + 1)`` precision
matrices built from per-entity Gram matrices. A multi-hot group (the
implicit group, a multi-valued feature) is drawn by perturb-and-MAP: its
conditional's precision equation, with Gaussian noise of that precision on
the right-hand side, solved by :data:`CG_STEPS` conjugate-gradient steps
warm-started at the current draw (exact at convergence).

A feature group is drawn given the ids' coordinates (each id's own term
plus its features'), as the regression of the ids' own terms on the
features (:meth:`GibbsSampler._centred_draw`), and an unknown id's row
holds the id group's prior mean.

After each kept sweep the draw is written into the Keras model's tables,
sample ``s`` in columns ``s*k .. (s+1)*k`` of the factor tables (scaled by
``1/sqrt(S)``, so one dot product is the mean over the samples of
:math:`p_s^\\top q_s`) and column ``s`` of the bias tables. The id and
implicit groups are folded into the id's rows (an id's implicit vector is
fixed by the fit); the feature groups fill the feature tables, which serve
cold start.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..backend import compiled, tf
from ..solvers import conjugate_gradient
from ..training import check_peer_trainer
from .base import TrainingPath
from .probit import OrderedProbit

# conjugate-gradient steps per draw of a multi-hot group (warm-started at the
# current draw): MovieLens-100K u1, full model, 200 sweeps: 8 steps 0.8866,
# 16 steps 0.8859 (benchmarks/explore_gibbs.py)
CG_STEPS = 16


@dataclass(eq=False)
class Chain:
    """One fit's Markov chain: the ratings and groups it samples, laid out
    by :meth:`GibbsSampler.prepare`, and the chain's state (each group's
    ``theta``, ``mu`` and ``lam`` variables, the noise precision, the last
    squared error, the random generator, seeded at the first sweep).

    ``ratings[side]`` holds each rating's ``own`` and ``other`` codes, its
    target ``y`` and weight ``w``, sorted by ``side``'s entity;
    ``to_items[j]`` is the users'-order position of the items' rating
    ``j``; with a date group, each side's ratings have their ``date`` bin,
    ``ratings["date"]`` the ratings in bin order (their ``own`` bin,
    ``user``, ``item`` and ``w``) and ``to_dates[j]`` is the items'-order
    position of the bins' rating ``j``; ``groups[side]`` the side's groups, the id group first;
    ``latent`` the ordered probit's cut points (``output="ordinal"``).
    """

    n: dict = None
    ratings: dict = None
    to_items: object = None
    to_dates: object = None
    total_weight: object = None
    groups: dict = None
    alpha: object = None
    squares: object = None
    latent: object = None
    generator: object = None


class GibbsSampler(TrainingPath):
    """Draw a two-sided factorisation model's parameters by Gibbs sampling.

    Parameters
    ----------
    model : keras.Model
        The graph of :class:`~skembrec.BayesianMF` (stacked sample tables).
    tables : list of Table
        Its tables (their unknown rows stay zero).
    loss : {"squared_error"}
        Only the squared error (a Gaussian likelihood).
    n_factors : int
        Factors per sample.
    kept : sequence of int
        The sweeps (0-based) whose draws are kept, one table slot each.
    implicit : bool
        Whether each side has the "who rated what" group.
    init_std : float
        Standard deviation of the initial factors.
    n_time_bins : int, default=0
        With more than 0, a date group: each rating's time bin (of the
        fit's time input) has a bias and factors that interact with both
        sides (:mod:`.coordinate`; the blocked sweep has none).
    **settings
        The per-rating trainers' settings (``optimizer``, ``learning_rate``,
        ...), which sampling does not have: ignored.
    """

    #: whether the sweep draws a date group (``n_time_bins``)
    draws_dates = False

    def __init__(self, model, tables, *, loss, n_factors, kept, implicit, init_std,
                 n_time_bins=0, **settings):
        check_peer_trainer(loss, "the Gibbs sampler", "BayesianMF",
                           losses=("squared_error", "ordered_probit"))
        # ordered probit: each rating's latent value is drawn every sweep
        # (:mod:`.probit`) and the sweep fits it with noise precision 1
        self.ordinal = loss == "ordered_probit"
        self.model = model
        self.tables = tables
        self.loss = loss
        self.k = int(n_factors)
        self.slots = {int(sweep): slot for slot, sweep in enumerate(sorted(kept))}
        self.n_samples = len(self.slots)
        self.implicit = bool(implicit)
        self.init_std = float(init_std)
        self.n_time_bins = int(n_time_bins)
        if self.n_time_bins and not self.draws_dates:
            raise ValueError(f"{type(self).__name__} draws no date group: n_time_bins "
                             "needs the coordinate-wise sampler")
        self._sweep = compiled(self._sweep_fn)
        # a kept draw's write into the tables, one graph call (eager, its
        # two dozen ops cost about 9 ms a draw: 0.5 s of a MovieLens-100K fit)
        self._store_draw = compiled(self._store)

    # -- the data ------------------------------------------------------------
    def prepare(self, data):
        """Each side's groups and the ratings, as tensors; returns ``(chain, None)``,
        the :class:`Chain` the sweeps run on.

        ``data`` is the fit's :class:`~skembrec._engine.trainers.base.FitData`
        (standardised targets). Ratings of weight 0 are left out.
        """
        if data.held_out is not None:
            raise ValueError("BayesianMF samples without a validation split")
        tf_ = tf()
        state = data.state
        users, items, target, weight = data.users, data.items, data.target, data.weight
        keep = np.asarray(weight) > 0
        if not keep.any():
            raise ValueError("sample_weight must give some rating a positive weight")
        users, items = users[keep].astype(np.int64), items[keep].astype(np.int64)
        target = np.asarray(target, np.float32)[keep]
        weight = np.asarray(weight, np.float32)[keep]
        dates = None
        if self.n_time_bins:
            from ..._input.time import time_bins

            # the time input's position column, binned as the graph bins it
            # (bin n_time_bins: at the fit's last instant, an unseen date)
            dates = time_bins(data.extra[0][:, 1], self.n_time_bins, unseen=True)[keep]
        chain = Chain()
        if self.ordinal:
            # the class codes and weights in the users' order (as below)
            by_user = np.argsort(users, kind="stable")
            chain.latent = OrderedProbit(target[by_user].astype(np.int64), weight[by_user],
                                        state.target.n_classes)
            target = np.zeros_like(target)
        n = {"user": len(state.user_vocab), "item": len(state.item_vocab)}
        codes = {"user": users, "item": items}
        chain.n = n
        chain.total_weight = tf_.constant(float(weight.sum()), tf_.float32)
        # each side's draw reads the ratings sorted by its entity: sorted
        # segment sums are about twice as fast as unsorted ones
        chain.ratings = {}
        for side, other in (("user", "item"), ("item", "user")):
            order = np.argsort(codes[side], kind="stable")
            chain.ratings[side] = {
                "own": tf_.constant(codes[side][order], tf_.int32),
                "other": tf_.constant(codes[other][order], tf_.int32),
                "y": tf_.constant(target[order]), "w": tf_.constant(weight[order])}
        # rating j of the items' order is rating to_items[j] of the users'
        by_user = np.argsort(codes["user"], kind="stable")
        position = np.empty_like(by_user)
        position[by_user] = np.arange(len(by_user))
        by_item = np.argsort(codes["item"], kind="stable")
        chain.to_items = tf_.constant(position[by_item], tf_.int32)
        if dates is not None:
            # each side's ratings know their date's bin; the date group's
            # draw reads the ratings sorted by bin, and rating j of that order
            # is rating to_dates[j] of the items' order
            for side in ("user", "item"):
                order = np.argsort(codes[side], kind="stable")
                chain.ratings[side]["date"] = tf_.constant(dates[order], tf_.int32)
            by_date = np.argsort(dates, kind="stable")
            chain.ratings["date"] = {
                "own": tf_.constant(dates[by_date], tf_.int32),
                "user": tf_.constant(users[by_date], tf_.int32),
                "item": tf_.constant(items[by_date], tf_.int32),
                "w": tf_.constant(weight[by_date])}
            position[by_item] = np.arange(len(by_item))
            chain.to_dates = tf_.constant(position[by_date], tf_.int32)
            n["date"] = self.n_time_bins + 1
        if self.ordinal:
            # the latent ratings, drawn at the start of every sweep
            for side in ("user", "item"):
                chain.ratings[side]["y"] = tf_.Variable(chain.ratings[side]["y"],
                                                       trainable=False)
        chain.groups = {}
        for side, other in (("user", "item"), ("item", "user")):
            groups = [_onehot(np.arange(n[side]), np.ones(n[side]), n[side], "id")]
            if self.implicit:
                # who rated what, from the fit's ratings: each entity's row
                # of the rated pairs, 1/sqrt(its count) each
                pairs = sp.csr_matrix((np.ones(len(users)), (codes[side], codes[other])),
                                      shape=(n[side], n[other]))
                pairs.data[:] = 1.0  # a pair rated twice counts once
                count = np.diff(pairs.indptr)
                pairs = sp.diags(1 / np.sqrt(np.maximum(count, 1))) @ pairs
                groups.append(_multihot(pairs, "implicit"))
            features = (state.features or {}).get(side)
            if features is not None:
                groups += _feature_groups(features, n[side])
            chain.groups[side] = groups
        if dates is not None:
            # the last bin (an unseen date) is pinned to the group's prior mean
            n_bins = self.n_time_bins + 1
            chain.groups["date"] = [_onehot(np.arange(n_bins), np.ones(n_bins), n_bins, "id")]
            chain.groups["date"][0]["pinned"] = self.n_time_bins
        for groups in chain.groups.values():
            for g in groups:
                g["theta"] = tf_.Variable(tf_.zeros([g["n"], self.k + 1]), trainable=False)
                g["mu"] = tf_.Variable(tf_.zeros([self.k + 1]), trainable=False)
                g["lam"] = tf_.Variable(tf_.ones([self.k + 1]), trainable=False)
        chain.alpha = tf_.Variable(1.0, trainable=False)
        return chain, None

    # -- the graph -------------------------------------------------------------
    def _total(self, chain, side):
        """Each entity's ``[b, p]`` of side ``side``: the sum of its groups."""
        tf_ = tf()
        return tf_.add_n([tf_.sparse.sparse_dense_matmul(g["A"], g["theta"])
                          for g in chain.groups[side]])

    def _pairs(self, chain, totals=None):
        """Each rating's ``(user [b, p], item [b, p])`` by the current draw,
        in the users' order."""
        tf_ = tf()
        totals = totals or {side: self._total(chain, side) for side in ("user", "item")}
        data = chain.ratings["user"]
        return tf_.gather(totals["user"], data["own"]), tf_.gather(totals["item"], data["other"])

    def _date_term(self, chain, tu, ti):
        """With a date group, each rating's date term (users' order): its
        bin's bias and its factors' product with both sides'; else None."""
        tf_ = tf()
        if "date" not in chain.groups:
            return None
        td = tf_.gather(chain.groups["date"][0]["theta"], chain.ratings["user"]["date"])
        return td[:, 0] + tf_.reduce_sum(td[:, 1:] * (tu[:, 1:] + ti[:, 1:]), axis=1)

    def _prediction(self, chain, totals=None):
        """The current draw's prediction of each rating, in the users' order:
        :math:`b(u) + b(i) + p(u)^\\top q(i)`, plus the date term."""
        tf_ = tf()
        tu, ti = self._pairs(chain, totals)
        prediction = tu[:, 0] + ti[:, 0] + tf_.reduce_sum(tu[:, 1:] * ti[:, 1:], axis=1)
        date = self._date_term(chain, tu, ti)
        return prediction if date is None else prediction + date

    def _residuals(self, chain, totals=None):
        """``y - prediction`` of the current draw, in the users' order."""
        tf_ = tf()
        tu, ti = self._pairs(chain, totals)
        residuals = (chain.ratings["user"]["y"] - tu[:, 0] - ti[:, 0]
                     - tf_.reduce_sum(tu[:, 1:] * ti[:, 1:], axis=1))
        date = self._date_term(chain, tu, ti)
        return residuals if date is None else residuals - date

    def _squared_error(self, chain):
        """The weighted sum of squared errors of the current draw."""
        tf_ = tf()
        return tf_.reduce_sum(chain.ratings["user"]["w"] * tf_.square(self._residuals(chain)))

    def _likelihood_step(self, chain):
        """The start of a sweep: the noise precision given the previous
        sweep's draw, or (ordered probit) the cut points and the latent
        ratings given its predictions."""
        tf_ = tf()
        if not self.ordinal:
            chain.alpha.assign(self._gamma(chain, [], 1.0 + chain.total_weight / 2)
                              / (1.0 + chain.squares / 2))
            return
        latent = chain.latent.draw(self._prediction(chain), chain.generator)
        chain.ratings["user"]["y"].assign(latent)
        chain.ratings["item"]["y"].assign(tf_.gather(latent, chain.to_items))

    def _gamma(self, chain, shape, concentration):
        tf_ = tf()
        seed = chain.generator.uniform_full_int([2], tf_.int32)
        return tf_.random.stateless_gamma(shape, seed, concentration)

    def _sample_side(self, chain, side, other):
        tf_ = tf()
        gen = chain.generator
        k1 = self.k + 1
        data, n = chain.ratings[side], chain.n[side]
        rows, w = data["own"], data["w"]
        to = tf_.gather(self._total(chain, other), data["other"])
        # the coefficients of [b, p] in each rating, and what is left of it
        q = tf_.concat([tf_.ones_like(to[:, :1]), to[:, 1:]], axis=1)
        r = data["y"] - to[:, 0]
        wq = w[:, None] * q
        gram = _segment_sum(tf_.einsum("ri,rj->rij", wq, q), rows, n)
        linear = _segment_sum(r[:, None] * wq, rows, n)
        alpha = chain.alpha
        total = self._total(chain, side)
        ids = chain.groups[side][0]
        for g in chain.groups[side]:
            if g["dest"] == "features":
                self._centred_draw(chain, g, ids)
                continue
            # the other groups' share: the running total less this group's
            rest = total - tf_.sparse.sparse_dense_matmul(g["A"], g["theta"])
            residual = linear - tf_.linalg.matvec(gram, rest)
            noise = _segment_sum((tf_.sqrt(w) * gen.normal(tf_.shape(w)))[:, None] * q, rows, n)
            lam, mu = g["lam"], g["mu"]
            rhs = (lam * mu + tf_.sqrt(lam) * gen.normal([g["n"], k1])
                   + tf_.sparse.sparse_dense_matmul(
                       g["AT"], alpha * residual + tf_.sqrt(alpha) * noise))
            if g["owner"] is not None:
                # at most one column per entity: the precision is block
                # diagonal, one (k+1) x (k+1) block per column
                precision = tf_.math.unsorted_segment_sum(
                    tf_.square(g["value"])[:, None, None] * gram, g["owner"],
                    g["n"] + 1)[:-1]
                precision = alpha * precision + tf_.linalg.diag(
                    tf_.broadcast_to(lam, [g["n"], k1]))
                chol = tf_.linalg.cholesky(precision)
                theta = tf_.linalg.cholesky_solve(chol, rhs[:, :, None])[:, :, 0]
            else:
                theta = conjugate_gradient(
                    lambda x, g=g, lam=lam: lam * x + alpha * tf_.sparse.sparse_dense_matmul(
                        g["AT"], tf_.linalg.matvec(
                            gram, tf_.sparse.sparse_dense_matmul(g["A"], x))),
                    rhs, g["theta"], CG_STEPS, batched=False)
            g["theta"].assign(theta)
            total = rest + tf_.sparse.sparse_dense_matmul(g["A"], theta)
            self._sample_hyper(chain, g)

    def _centred_draw(self, chain, g, ids):
        """Draw feature group ``g`` given the ids' coordinates (their own
        terms ``ids`` plus the features'), which stay as they are.

        The features are the regression of each id's own term on its
        features (the id prior, precision ``lam`` per factor): drawn so,
        an attribute's effect moves between the ids and the features in
        one draw, where drawn given the ratings with the ids fixed it moves
        by about the ratio of the prior's precision to the ratings' a sweep.
        The ratings' residuals do not change.
        """
        tf_ = tf()
        gen = chain.generator
        k1 = self.k + 1
        weight, residual = ids["lam"], ids["theta"] - ids["mu"]
        lam, mu, theta = g["lam"], g["mu"], g["theta"]
        current = tf_.sparse.sparse_dense_matmul(g["A"], theta)
        if g["owner"] is not None:
            # one column per entity: a diagonal precision per column
            value = g["value"][:, None]
            precision = lam + weight * tf_.math.unsorted_segment_sum(
                tf_.square(value) * tf_.ones([1, k1]), g["owner"], g["n"] + 1)[:-1]
            linear = lam * mu + weight * tf_.math.unsorted_segment_sum(
                value * (residual + current), g["owner"], g["n"] + 1)[:-1]
            draw = linear / precision + gen.normal([g["n"], k1]) / tf_.sqrt(precision)
        else:
            rhs = (lam * mu + tf_.sqrt(lam) * gen.normal([g["n"], k1])
                   + tf_.sparse.sparse_dense_matmul(
                       g["AT"], weight * (residual + current)
                       + tf_.sqrt(weight) * gen.normal(tf_.shape(residual))))
            draw = conjugate_gradient(
                lambda x: lam * x + tf_.sparse.sparse_dense_matmul(
                    g["AT"], weight * tf_.sparse.sparse_dense_matmul(g["A"], x)),
                rhs, theta, CG_STEPS, batched=False)
        g["theta"].assign(draw)
        ids["theta"].assign(ids["theta"] - tf_.sparse.sparse_dense_matmul(g["A"], draw)
                            + current)
        self._sample_hyper(chain, g)

    def _sample_hyper(self, chain, g):
        """The group's Normal-Gamma hyperparameters given its rows."""
        tf_ = tf()
        theta, lam = g["theta"], g["lam"]
        if g["pinned"] is not None:
            theta = theta[:g["pinned"]]
        count = tf_.cast(tf_.shape(theta)[0], tf_.float32) + 1.0
        mean = tf_.reduce_sum(theta, axis=0) / count
        mu = mean + chain.generator.normal(tf_.shape(mean)) / tf_.sqrt(count * lam)
        spread = tf_.reduce_sum(tf_.square(theta - mu), axis=0) + tf_.square(mu)
        g["mu"].assign(mu)
        g["lam"].assign(self._gamma(chain, tf_.shape(spread), 1.0 + count / 2)
                        / (1.0 + spread / 2))

    def _sweep_fn(self, chain):
        self._likelihood_step(chain)
        self._sample_side(chain, "user", "item")
        self._sample_side(chain, "item", "user")
        chain.squares.assign(self._squared_error(chain))
        return chain.squares / chain.total_weight

    # -- Python entry points, called once per sweep -----------------------------
    def run_epoch(self, chain, epoch):
        """One sweep; keeps its draw if the sweep is a kept one. Returns the
        weighted mean squared error of the draw on the training ratings."""
        tf_ = tf()
        if chain.generator is None:
            chain.generator = tf_.random.Generator.from_seed(int(epoch.seed))
            for groups in chain.groups.values():
                for g in groups:
                    start = chain.generator.normal([g["n"], self.k]) * self.init_std
                    g["theta"].assign(tf_.concat([tf_.zeros([g["n"], 1]), start], 1))
            if self.ordinal:
                latent = chain.latent.initial()
                chain.ratings["user"]["y"].assign(latent)
                chain.ratings["item"]["y"].assign(tf_.gather(latent, chain.to_items))
            chain.squares = tf_.Variable(self._squared_error(chain), trainable=False)
        loss = float(self._sweep(chain))
        slot = self.slots.get(int(epoch.number))
        if slot is not None:
            self._store_draw(chain, tf_.constant(slot, tf_.int32))
        return loss

    def _store(self, chain, slot):
        """Write the current draw into the model's tables as sample ``slot``
        (a scalar int32 tensor)."""
        tf_ = tf()
        k, scale = self.k, 1.0 / np.sqrt(self.n_samples)
        columns = slice(slot * k, (slot + 1) * k)
        for side, groups in chain.groups.items():
            ids = tf_.add_n([tf_.sparse.sparse_dense_matmul(g["A"], g["theta"])
                             for g in groups if g["dest"] != "features"])
            tokens = [g for g in groups if g["dest"] == "features"]
            if tokens:
                # an unknown id: the id group's prior mean, the level its
                # features' effects are measured from (they are drawn as
                # the regression of the ids' own terms on the features)
                ids = tf_.concat([ids, groups[0]["mu"][None]], 0)
            self._write(f"{side}_embedding", f"{side}_bias", ids, columns, slot, scale)
            if self.ordinal:
                self.model.get_layer("cutpoints").cutpoints.value[slot].assign(
                    tf_.cast(chain.latent.cutpoints, tf_.float32))
            if tokens:
                # the columns' tokens in the table's order (by offset)
                theta = tf_.concat([g["theta"] for g in sorted(tokens,
                                                             key=lambda g: g["offset"])], 0)
                self._write(f"{side}_feature_embedding", f"{side}_feature_bias", theta,
                            columns, slot, scale)

    def _write(self, factors, biases, values, columns, slot, scale):
        n = int(values.shape[0])
        self.model.get_layer(factors).embeddings.value[:n, columns].assign(
            values[:, 1:] * scale)
        self.model.get_layer(biases).embeddings.value[:n, slot].assign(values[:, 0])


def _segment_sum(values, ids, n):
    """``unsorted_segment_sum(values, ids, n)`` for sorted ``ids``."""
    tf_ = tf()
    total = tf_.math.segment_sum(values, ids)
    # the entities after the last one with a rating have none
    missing = n - tf_.shape(total)[0]
    return tf_.pad(total, [[0, missing]] + [[0, 0]] * (len(values.shape) - 1))


def _sparse(matrix):
    tf_ = tf()
    coo = matrix.tocoo()
    order = np.lexsort((coo.col, coo.row))
    indices = np.stack([coo.row[order], coo.col[order]], axis=1).astype(np.int64)
    return tf_.sparse.SparseTensor(indices, coo.data[order].astype(np.float32), coo.shape)


def _group(matrix, dest, owner=None, value=None, offset=0):
    tf_ = tf()
    matrix = sp.csr_matrix(matrix)
    group = {"A": _sparse(matrix), "AT": _sparse(matrix.T), "n": matrix.shape[1],
             "dest": dest, "offset": offset, "owner": None, "value": None,
             # a column held at the group's prior mean, not drawn (the
             # date group's unseen date), or None
             "pinned": None}
    if owner is not None:
        group["owner"] = tf_.constant(owner, tf_.int32)
        group["value"] = tf_.constant(value, tf_.float32)
    return group


def _onehot(columns, values, n_columns, dest, offset=0):
    """A group where entity ``e`` has value ``values[e]`` in column
    ``columns[e]`` (a column of ``-1``: none)."""
    n = len(columns)
    active = columns >= 0
    matrix = sp.csr_matrix((values[active], (np.arange(n)[active], columns[active])),
                           shape=(n, n_columns))
    # an entity without a column sits in a dummy last slot
    owner = np.where(active, columns, n_columns)
    return _group(matrix, dest, owner, np.where(active, values, 0.0), offset)


def _multihot(matrix, dest, offset=0):
    return _group(matrix, dest, offset=offset)


def _feature_groups(features, n_ids):
    """One group per feature column: each id's bag (of its last rating in
    fit) restricted to the column's tokens."""
    index, value = features.rows
    index, value = index[:n_ids], value[:n_ids]
    groups = []
    offset = 0
    for column in features.columns:
        n_tokens = column.n_tokens
        inside = (index >= offset) & (index < offset + n_tokens) & (value != 0)
        entity = np.nonzero(inside)[0]
        token = index[inside] - offset
        weights = value[inside]
        if np.bincount(entity, minlength=n_ids).max(initial=0) <= 1:
            columns = np.full(n_ids, -1, np.int64)
            values = np.zeros(n_ids)
            columns[entity], values[entity] = token, weights
            groups.append(_onehot(columns, values, n_tokens, "features", offset))
        else:
            matrix = sp.csr_matrix((weights, (entity, token)), shape=(n_ids, n_tokens))
            groups.append(_multihot(matrix, "features", offset))
        offset += n_tokens
    return groups
