"""Would a Bayesian factorisation model reach the accuracy goals? A Gibbs sampler in TensorFlow ops.

An exploration for issue 15, not a skembrec estimator: myFM (a Bayesian
factorisation machine) scores 0.9053 (ids only) and 0.8825 (ids, "who rated
what" and attributes) on MovieLens-100K ``u1``, ahead of every skembrec
estimator (AutoRec() 0.9088, FunkMF 0.9386). This script samples a two-sided
model with TensorFlow ops, one compiled ``tf.function`` per sweep:

.. math:: \\hat r_{ui} = b(u) + b(i) + p(u)^\\top q(i), \\quad
          [b(u), p(u)] = \\sum_g A^g_u \\Theta^g

where each side's design ``A`` stacks groups of columns: the id (one-hot),
the implicit "who rated what" group (the items the user rated in the
training part, 1/sqrt(count) each; for items, the users who rated it),
and the attributes (ML-100K: gender, occupation, zip's first digit, age for
users; genres and release year for items). Every group has a Normal prior
per column of ``Theta`` with a Normal-Gamma hyperprior (as BPMF and myFM),
the noise precision a Gamma prior. A one-hot group (ids, a categorical or a
numeric column) is sampled exactly, every row at once (one batched Cholesky
of (k+1) x (k+1) systems built from per-entity Gram matrices); a multi-hot
group (implicit, genres) by perturb-and-MAP: its conditional's precision
equation, with Gaussian noise of that precision on the right-hand side,
solved by ``--cg`` conjugate-gradient steps warm-started at the current
sample (approximate: exact only at convergence). There are no interactions
within a side (an SVDFeature-style model, not a full FM). The prediction
is the mean of each sweep's after ``--burn-in`` sweeps.

A fitted model of this form is a FunkMF graph: the samples' factors
stacked side by side (``n_factors * n_samples`` columns, each scaled by
``1/sqrt(n_samples)``) give the posterior-mean prediction as one dot
product, and the stacked feature tokens serve cold start.

Usage::

    python benchmarks/explore_gibbs.py [--folds 1] [--sweeps 200] [--cg 8]

Writes ``benchmarks/results/explore_gibbs.json``.
"""

import argparse
import time

import _common as C
import numpy as np
import pandas as pd
import scipy.sparse as sp
import tensorflow as tf


def load(root, fold):
    cols = ["u", "i", "r", "t"]
    tr = pd.read_csv(root / f"u{fold}.base", sep="\t", names=cols)
    te = pd.read_csv(root / f"u{fold}.test", sep="\t", names=cols)
    users = pd.read_csv(root / "u.user", sep="|", names=["u", "age", "g", "occ", "zip"])
    items = pd.read_csv(root / "u.item", sep="|", header=None, encoding="latin-1")
    return tr, te, users, items


def onehot_group(codes, n_cols, values=None):
    n = len(codes)
    values = np.ones(n) if values is None else values
    ok = codes >= 0
    return sp.csr_matrix((values[ok], (np.arange(n)[ok], codes[ok])), shape=(n, n_cols)), True


def build(tr, users, items, features=True, implicit=True):
    """Each side's groups: (design matrix of entities x columns, one-hot?)."""
    nu, ni = int(users.u.max()) + 1, int(items[0].max()) + 1
    u, i = tr.u.values, tr.i.values
    ug = [onehot_group(np.arange(nu), nu)]
    ig = [onehot_group(np.arange(ni), ni)]
    if implicit:
        # from the training ratings only
        Z = sp.csr_matrix((np.ones(len(u)), (u, i)), shape=(nu, ni))
        for groups, m in ((ug, Z), (ig, Z.T.tocsr())):
            count = np.asarray(m.sum(1)).ravel()
            groups.append(((sp.diags(1 / np.sqrt(np.maximum(count, 1))) @ m).tocsr(), False))
    if features:
        uu = users.set_index("u").reindex(range(nu))
        for col in ["g", "occ"]:
            c = pd.Categorical(uu[col])
            ug.append(onehot_group(c.codes.astype(int), len(c.categories)))
        age = uu.age.fillna(uu.age.mean()).values
        ug.append(onehot_group(np.zeros(nu, int), 1, (age - age.mean()) / age.std()))
        c = pd.Categorical(uu.zip.astype(str).str[0])
        ug.append(onehot_group(c.codes.astype(int), len(c.categories)))
        it = items.set_index(0).reindex(range(ni))
        genres = it.iloc[:, 4:].fillna(0).values
        ig.append((sp.csr_matrix(genres / np.maximum(genres.sum(1, keepdims=True), 1)), False))
        year = pd.to_datetime(it[2], format="%d-%b-%Y", errors="coerce").dt.year
        year = year.fillna(year.median()).values
        ig.append(onehot_group(np.zeros(ni, int), 1, (year - year.mean()) / year.std()))
    return ug, ig


def sparse_tensor(m):
    m = m.tocoo()
    idx = np.stack([m.row, m.col], 1).astype(np.int64)
    order = np.lexsort((idx[:, 1], idx[:, 0]))
    return tf.sparse.SparseTensor(idx[order], m.data[order].astype(np.float32), m.shape)


class Sampler:
    """The model's parameters as variables; ``sweep`` draws all of them once."""

    def __init__(self, ug, ig, u, i, y, k=10, seed=0, cg_steps=8):
        self.k = k
        self.cg_steps = cg_steps
        self.gen = tf.random.Generator.from_seed(seed)
        self.rows = {"user": tf.constant(u, tf.int32), "item": tf.constant(i, tf.int32)}
        self.n = {"user": ug[0][0].shape[0], "item": ig[0][0].shape[0]}
        self.y = tf.constant(y, tf.float32)
        self.groups = {"user": [], "item": []}
        for side, gs in (("user", ug), ("item", ig)):
            for m, onehot in gs:
                g = dict(A=sparse_tensor(m), onehot=onehot, n=m.shape[1])
                if onehot:
                    coo = m.tocoo()
                    owner = np.full(m.shape[0], m.shape[1], np.int64)  # dummy slot
                    owner[coo.row] = coo.col
                    val = np.zeros(m.shape[0], np.float32)
                    val[coo.row] = coo.data
                    g["owner"] = tf.constant(owner, tf.int32)
                    g["val"] = tf.constant(val)
                g["theta"] = tf.Variable(tf.concat(
                    [tf.zeros([m.shape[1], 1]), self.gen.normal([m.shape[1], k]) * 0.1], 1))
                g["mu"] = tf.Variable(tf.zeros([k + 1]))
                g["lam"] = tf.Variable(tf.ones([k + 1]))
                self.groups[side].append(g)
        self.w0 = tf.Variable(float(np.mean(y)))
        self.alpha = tf.Variable(1.0)

    def total(self, side, skip=None):
        t = tf.zeros([self.n[side], self.k + 1])
        for j, g in enumerate(self.groups[side]):
            if j != skip:
                t += tf.sparse.sparse_dense_matmul(g["A"], g["theta"])
        return t

    def predict_rows(self):
        tu = tf.gather(self.total("user"), self.rows["user"])
        ti = tf.gather(self.total("item"), self.rows["item"])
        return self.w0 + tu[:, 0] + ti[:, 0] + tf.reduce_sum(tu[:, 1:] * ti[:, 1:], 1)

    def sample_side(self, side, other):
        k1 = self.k + 1
        to = tf.gather(self.total(other), self.rows[other])
        q = tf.concat([tf.ones_like(to[:, :1]), to[:, 1:]], 1)  # [N, k+1]
        r = self.y - self.w0 - to[:, 0]
        rows = self.rows[side]
        n = self.n[side]
        S = tf.math.unsorted_segment_sum(q[:, :, None] * q[:, None, :], rows, n)
        alpha = self.alpha
        for j, g in enumerate(self.groups[side]):
            rest = self.total(side, skip=j)  # [n, k+1]
            R = tf.math.unsorted_segment_sum(r[:, None] * q, rows, n) - tf.linalg.matvec(S, rest)
            eps = tf.math.unsorted_segment_sum(self.gen.normal(tf.shape(r))[:, None] * q, rows, n)
            lam, mu = g["lam"], g["mu"]
            A = g["A"]
            AT = tf.sparse.transpose(A)
            rhs = (lam * mu + tf.sqrt(lam) * self.gen.normal([g["n"], k1])
                   + tf.sparse.sparse_dense_matmul(AT, alpha * R + tf.sqrt(alpha) * eps))
            if g["onehot"]:
                owner, val = g["owner"], g["val"]
                # an entity with no active column sits in a dummy last slot
                P = tf.math.unsorted_segment_sum((val ** 2)[:, None, None] * S, owner,
                                                 g["n"] + 1)[:-1]
                P = alpha * P + tf.linalg.diag(tf.broadcast_to(lam, [g["n"], k1]))
                L = tf.linalg.cholesky(P)
                theta = tf.linalg.cholesky_solve(L, rhs[:, :, None])[:, :, 0]
            else:
                def M(th, A=A, AT=AT, lam=lam, S=S):
                    t = tf.linalg.matvec(S, tf.sparse.sparse_dense_matmul(A, th))
                    return lam * th + alpha * tf.sparse.sparse_dense_matmul(AT, t)
                x = g["theta"]
                res = rhs - M(x)
                p = res
                rs = tf.reduce_sum(res * res)
                for _ in range(self.cg_steps):
                    Mp = M(p)
                    a = rs / tf.reduce_sum(p * Mp)
                    x = x + a * p
                    res = res - a * Mp
                    rs_new = tf.reduce_sum(res * res)
                    p = res + rs_new / rs * p
                    rs = rs_new
                theta = x
            g["theta"].assign(theta)
            self.sample_hyper(g)

    def sample_hyper(self, g):
        th = g["theta"]
        n = tf.cast(g["n"], tf.float32)
        lam = g["lam"]
        mean = tf.reduce_sum(th, 0) / (n + 1)
        mu = mean + self.gen.normal(mean.shape) / tf.sqrt((n + 1) * lam)
        sq = tf.reduce_sum((th - mu) ** 2, 0) + mu ** 2
        a = 1.0 + (n + 1) / 2
        b = 1.0 + sq / 2
        seed = self.gen.uniform_full_int([2], tf.int32)
        lam = tf.random.stateless_gamma(tf.shape(b), seed, a) / b
        g["mu"].assign(mu)
        g["lam"].assign(lam)

    @tf.function(autograph=False, reduce_retracing=True)
    def sweep(self):
        e = self.y - self.predict_rows()
        N = tf.cast(tf.size(self.y), tf.float32)
        seed = self.gen.uniform_full_int([2], tf.int32)
        self.alpha.assign(tf.random.stateless_gamma([], seed, 1.0 + N / 2)
                          / (1.0 + tf.reduce_sum(e * e) / 2))
        self.w0.assign(self.w0 + tf.reduce_mean(e) + self.gen.normal([]) / tf.sqrt(self.alpha * N))
        self.sample_side("user", "item")
        self.sample_side("item", "user")
        return tf.sqrt(tf.reduce_mean((self.y - self.predict_rows()) ** 2))

    @tf.function(autograph=False, reduce_retracing=True)
    def predict(self, u, i):
        tu = tf.gather(self.total("user"), u)
        ti = tf.gather(self.total("item"), i)
        return self.w0 + tu[:, 0] + ti[:, 0] + tf.reduce_sum(tu[:, 1:] * ti[:, 1:], 1)




def run(root, fold, variant, sweeps, burn_in, k, cg):
    tr, te, users, items = load(root, fold)
    ug, ig = build(tr, users, items, features=variant == "full",
                   implicit=variant != "ids only")
    start = time.perf_counter()
    s = Sampler(ug, ig, tr.u.values, tr.i.values, tr.r.values.astype(np.float32), k=k,
                cg_steps=cg)
    tu, ti = tf.constant(te.u.values, tf.int32), tf.constant(te.i.values, tf.int32)
    total = np.zeros(len(te))
    curve = {}
    for sweep in range(sweeps):
        s.sweep()
        if sweep >= burn_in:
            total += s.predict(tu, ti).numpy()
            if (sweep + 1) % 50 == 0 or sweep + 1 == sweeps:
                pred = np.clip(total / (sweep - burn_in + 1), tr.r.min(), tr.r.max())
                curve[sweep + 1] = C.rmse(te.r.values, pred)
                print(f"  u{fold} {variant}: sweep {sweep + 1}, RMSE {curve[sweep + 1]:.4f}, "
                      f"{time.perf_counter() - start:.1f} s", flush=True)
    return {"fold": f"u{fold}", "variant": variant, "rmse": curve[sweeps],
            "mae": C.mae(te.r.values, pred), "fit_s": time.perf_counter() - start,
            "rmse_by_sweep": curve}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, nargs="+", default=[1])
    parser.add_argument("--variants", nargs="+", default=["ids only", "ids + implicit", "full"])
    parser.add_argument("--sweeps", type=int, default=200)
    parser.add_argument("--burn-in", type=int, default=20)
    parser.add_argument("--factors", type=int, default=10)
    parser.add_argument("--cg", type=int, default=8)
    parser.add_argument("--output")
    args = parser.parse_args(argv)
    path = C.locate("ml-100k")
    if path is None:
        print("ml-100k: not found, nothing to do")
        return
    root = path.parent
    rows = [run(root, fold, variant, args.sweeps, args.burn_in, args.factors, args.cg)
            for fold in args.folds for variant in args.variants]
    C.print_table(rows, [("fold", "fold", ""), ("variant", "model", ""),
                         ("rmse", "RMSE", ".4f"), ("mae", "MAE", ".4f"),
                         ("fit_s", "fit s", ".1f")],
                  title=f"Gibbs-sampled factorisation, rank {args.factors}, "
                        f"{args.sweeps} sweeps ({args.burn_in} burn-in), {args.cg} CG steps")
    C.write_results("explore_gibbs", {"machine": C.machine_info(), "package": C.package_info(),
                                      "config": vars(args), "results": rows}, args.output)


if __name__ == "__main__":
    main()
