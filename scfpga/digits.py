"""Handwritten digits on one stochastic-computing dense layer (issue #6, model side).

The experiment, end to end:

1. **Data** (:func:`load_split`): scikit-learn's bundled digits (1797 images of 8x8 pixels with
   values 0..16; no download). One fixed split: 70 % train / 30 % test, stratified by class,
   ``random_state = 0`` (1257 / 540 images). Inputs are unipolar ``x = pixel / 16`` in [0, 1]:
   64 inputs. At the default width W = 8 the input threshold is ``P = 16 * pixel`` exactly, so
   the inputs lose nothing to quantisation.
2. **Float network** (:func:`train_float`): a linear 64 -> 10 classifier, multinomial logistic
   regression (L2, ``C = 3``; :func:`select_c` reproduces the choice by 5-fold cross-validation
   on the training split only). A single linear layer is what one SC dense layer with 10
   neurons computes, so nothing is lost in the mapping but precision.
3. **Mapping** (:func:`scaled_weights`, :func:`to_dense_params`): weights and bias are divided by
   one positive scale ``s = max(|W|, |b|)``. ``argmax_j (W x + b)_j`` is unchanged by a positive
   factor, and the largest magnitude becomes exactly 1, so the layer uses its whole [-1, 1]
   range (the SC error of a score is about constant in counts, so the signal should be as
   large as possible). The bias is the layer's constant-1 synapse. Then
   :meth:`DenseParams.from_float` quantises to sign-magnitude W-bit integers.
4. **SC golden model** (:func:`evaluate_model`): the class is ``argmax`` of ``scores``, the exact
   signed count of product bits over L cycles (first class on ties, like ``np.argmax``). The
   LIF spike counts are a coarser (``score / n_terms``) and tie-prone view of the same sum.

What mattered (measured on the test split with C = 3, counter accumulation):

* the bias synapse: without it the same weights reach about 86 % at any L (97.6 % with it);
* the full-range scaling: the same network scaled to max |w| = 0.1 instead of 1 drops to 87 %
  (Sobol) / 67 % (LFSR) at L = 64, at 0.03 to 56 % (Sobol), because the SC error of a score is
  about constant in counts while the signal shrinks with the scale;
* not much else: C from 0.1 to 100 moves the float accuracy (95.0 .. 97.6 %) and the SC layer
  at L >= 256 follows it to within about a point; centring the weights per input (adding a
  per-input constant to every class leaves the argmax unchanged) changed the SC accuracy by
  less than a point; W = 8 quantisation costs nothing measurable (inputs are exact, see 1.).
  Score ties are rare (at most one image of 540 at L >= 64); they go to the lower class.
* the source: Sobol reaches the float accuracy from L = 256; the LFSR stays about a point
  below (95.9 .. 96.9 % over seeds 0..9 at L = 256, still within the 2-point target).
* MUX accumulation scales every score by ``1 / n_terms`` = 1/65 and is far noisier here: 82 %
  at L = 256, 95 % at L = 1024 and 97 % at 4096 (Sobol), where the counter reaches 96 % at
  L = 64. The input-serial hardware spends the same clocks per cycle on both, so the counter
  is the choice.

:func:`rtl_check` is the hook for the RTL stage: it co-simulates the generated dense layer on
test images and asserts the spike counts and predictions equal the golden model's.
"""
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .hdl.dense import Dense, run_schedule
from .hdl.verilog import to_verilog
from .model.dense import DenseParams, SCDenseLayer
from .model.params import ParameterError, check_int
from .sim import cosim
from .sim.dense import INPUT_PORTS, SIGNED_PORTS, DenseCase, run_expectation

TEST_FRACTION = 0.3
SPLIT_SEED = 0
C_DEFAULT = 3.0                     # best 5-fold CV accuracy on the training split (select_c)
C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
WIDTH = 8
LENGTHS = (64, 128, 256, 512, 1024)
SOURCES = ("sobol", "lfsr")
PIXEL_MAX = 16
N_CLASSES = 10


# ---------------------------------------------------------------------------- data

@dataclass(frozen=True)
class Split:
    """The fixed train/test split; ``x_*`` are unipolar inputs ``pixel / 16``."""
    x_train: np.ndarray          # (n_train, 64) float64 in [0, 1]
    y_train: np.ndarray          # (n_train,) int
    x_test: np.ndarray
    y_test: np.ndarray
    train_index: np.ndarray      # rows of load_digits() in each part
    test_index: np.ndarray


def load_split(test_fraction=TEST_FRACTION, seed=SPLIT_SEED):
    """The digits data set split into train and test parts, stratified by class.

    Parameters
    ----------
    test_fraction : float
        Share of images in the test part (default 0.3: 540 of 1797).
    seed : int
        ``random_state`` of :func:`sklearn.model_selection.train_test_split` (default 0).

    Returns
    -------
    Split
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    index = np.arange(len(digits.target))
    tr, te = train_test_split(index, test_size=test_fraction, stratify=digits.target,
                              random_state=seed)
    x = digits.data / PIXEL_MAX
    return Split(x[tr], digits.target[tr], x[te], digits.target[te], tr, te)


# ---------------------------------------------------------------------------- float network

@dataclass(frozen=True)
class FloatModel:
    """A linear classifier ``argmax_j (weights @ x + bias)_j``."""
    weights: np.ndarray          # (10, 64)
    bias: np.ndarray             # (10,)
    c: float

    def decision(self, x):
        """Class scores (batch, 10) for inputs ``x`` (batch, 64)."""
        return np.asarray(x) @ self.weights.T + self.bias

    def predict(self, x):
        return np.argmax(self.decision(x), axis=-1)


def _logistic(c):
    from sklearn.linear_model import LogisticRegression
    return LogisticRegression(C=c, max_iter=5000)


def train_float(x, y, c=C_DEFAULT):
    """Multinomial logistic regression (L2 penalty ``1 / c``, lbfgs) on inputs in [0, 1].

    BLAS runs single-threaded: the fit is tiny, and on a busy 2-core machine several BLAS
    threads made it 50 times slower.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        clf = _logistic(c).fit(x, y)
    return FloatModel(clf.coef_.copy(), clf.intercept_.copy(), float(c))


def select_c(x, y, grid=C_GRID, folds=5):
    """Regularisation by stratified ``folds``-fold cross-validation (training data only).

    Returns the ``c`` of ``grid`` with the best mean validation accuracy (the smallest, i.e.
    the most regularised, on ties) and the mean accuracy of each. About 5 s.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        cv = [cross_val_score(_logistic(c), x, y, cv=StratifiedKFold(folds)).mean()
              for c in grid]
    return float(grid[int(np.argmax(cv))]), dict(zip(map(float, grid), map(float, cv)))


# ---------------------------------------------------------------------------- mapping

def scaled_weights(model):
    """Weights and bias divided by ``s = max(|W|, |b|)``: in [-1, 1], largest magnitude 1.

    Returns
    -------
    weights, bias, s
        The scaled (10, 64) weights, (10,) bias and the positive scale. ``argmax`` of the
        scaled decision equals the float model's (``s > 0``).
    """
    s = float(max(np.abs(model.weights).max(), np.abs(model.bias).max()))
    if not s > 0:
        raise ParameterError("model weights and bias must not all be zero")
    # Clip guards the one rounding case where w / s lands a ulp above 1.
    return (np.clip(model.weights / s, -1, 1), np.clip(model.bias / s, -1, 1), s)


def to_dense_params(model, length=256, source="sobol", width=WIDTH, bias=True, **kwargs):
    """The :class:`DenseParams` of the mapped network.

    Parameters
    ----------
    model : FloatModel
    length, source, width
        Cycles per image, ``"sobol"``/``"lfsr"``, comparator width.
    bias : bool
        Map the bias to the constant-1 synapse (False drops it: only for the ablation).
    **kwargs
        Further :class:`DenseParams` fields (``seed``, ``accumulation``, ``lif``...).
    """
    w, b, _ = scaled_weights(model)
    return DenseParams.from_float(w, b if bias else None, width, length=length, source=source,
                                  **kwargs)


# ---------------------------------------------------------------------------- evaluation

@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    predictions: np.ndarray      # (n,) argmax of scores, first class on ties
    scores: np.ndarray           # (n, 10) int64
    ties: int                    # images whose top score is shared by two classes


def _evaluation(scores, y):
    pred = np.argmax(scores, axis=-1)
    top2 = np.sort(scores, axis=-1)[:, -2:]
    return Evaluation(float(np.mean(pred == y)), pred, scores,
                      int(np.sum(top2[:, 0] == top2[:, 1])))


def evaluate_model(params, x, y, layer=None):
    """SC golden-model accuracy: ``argmax`` of the integer ``scores`` of every image.

    One vectorised call over the whole batch (packed popcounts for counter accumulation).
    """
    layer = layer or SCDenseLayer(params)
    return _evaluation(layer.scores(x), np.asarray(y))


def quantised_accuracy(params, x, y):
    """Accuracy of the exact dot products of the quantised weights and inputs (no SC noise)."""
    return float(np.mean(np.argmax(SCDenseLayer(params).exact(x), axis=-1) == y))


def accuracy_vs_length(model, x, y, lengths=LENGTHS, sources=SOURCES,
                       accumulations=("counter",), seed=0, width=WIDTH):
    """SC accuracy for every (accumulation, source, length).

    Returns
    -------
    list of dict
        One row per configuration: ``accumulation``, ``source``, ``length``, ``accuracy``,
        ``ties``.
    """
    rows = []
    for acc in accumulations:
        for source in sources:
            for length in lengths:
                params = to_dense_params(model, length, source, width, seed=seed,
                                         accumulation=acc)
                ev = evaluate_model(params, x, y)
                rows.append({"accumulation": acc, "source": source, "length": int(length),
                             "accuracy": ev.accuracy, "ties": ev.ties})
    return rows


def seed_spread(model, x, y, length=256, source="lfsr", seeds=range(10), width=WIDTH):
    """Accuracy for several ``seed`` values (LFSR phase, Sobol weight dimension): how much of
    a result is the particular stream assignment."""
    return [evaluate_model(to_dense_params(model, length, source, width, seed=s), x, y).accuracy
            for s in seeds]


# ---------------------------------------------------------------------------- figures

def plot_accuracy_vs_length(table, png, float_accuracy=None, quantised_accuracy=None):
    """Test accuracy against L, one line per (source, accumulation), float references dashed."""
    from matplotlib.figure import Figure   # no pyplot: no GUI backend, no global state

    fig = Figure(figsize=(6.4, 4.2), tight_layout=True)
    ax = fig.add_subplot()
    keys = sorted({(r["source"], r["accumulation"]) for r in table})
    for source, acc in keys:
        rows = sorted((r for r in table if (r["source"], r["accumulation"]) == (source, acc)),
                      key=lambda r: r["length"])
        ax.plot([r["length"] for r in rows], [100 * r["accuracy"] for r in rows],
                "o-" if acc == "counter" else "s-.",
                color="C0" if source == "sobol" else "C1",
                label=f"SC {source}" + ("" if acc == "counter" else f" ({acc})"))
    if float_accuracy is not None:
        ax.axhline(100 * float_accuracy, color="k", ls="--", lw=1, label="float")
    if quantised_accuracy is not None:
        ax.axhline(100 * quantised_accuracy, color="gray", ls=":", lw=1.5,
                   label=f"quantised W={WIDTH}")
    if float_accuracy is not None:                    # issue #6: >= 94 % and float - 2 points
        ax.axhline(max(94, 100 * float_accuracy - 2), color="C3", ls="-", lw=0.8,
                   label="target at L = 256")
    low = min(100 * r["accuracy"] for r in table)
    ax.set_ylim(min(90, 5 * np.floor(low / 5)), 100)   # a fixed floor: no magnified wiggles
    ax.set_xscale("log", base=2)
    ax.set_xlabel("bitstream length L (cycles per image)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("digits 8x8, one SC dense layer 64->10")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
    fig.savefig(png, dpi=120)


def confusion_matrix(y_true, y_pred, n_classes=N_CLASSES):
    """(n_classes, n_classes) counts: row = true class, column = predicted class."""
    m = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(m, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return m


def plot_confusion(y_true, y_pred, png, title="SC golden model"):
    """Confusion matrix heat map with the count in every non-empty cell."""
    from matplotlib.figure import Figure

    m = confusion_matrix(y_true, y_pred)
    fig = Figure(figsize=(5.2, 4.6), tight_layout=True)
    ax = fig.add_subplot()
    im = ax.imshow(m, cmap="Blues")
    for (i, j), v in np.ndenumerate(m):
        if v:
            ax.text(j, i, str(v), ha="center", va="center", fontsize=8,
                    color="white" if v > m.max() / 2 else "black")
    ax.set_xticks(range(N_CLASSES))
    ax.set_yticks(range(N_CLASSES))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(f"{title}: {np.trace(m) / m.sum():.1%} of {m.sum()}")
    fig.colorbar(im, ax=ax, shrink=0.8)
    fig.savefig(png, dpi=120)


# ---------------------------------------------------------------------------- RTL hook

# 65 terms in 5 clocks per SC cycle: 1357 clocks per image at L = 256. Icarus time per image
# was about constant from 4 to 16 lanes (fewer clocks, more logic per clock), 1.4x at 32 and
# far worse at 64, so 16 is the fastest proof; the check is valid for any lane count.
RTL_LANES = 16


@dataclass(frozen=True)
class RTLResult:
    """A passed :func:`rtl_check`: the RTL matched the golden model on every clock."""
    images: int
    clocks: int
    lanes: int
    seconds: float
    predictions: np.ndarray      # (images,) golden = RTL argmax of the final scores
    counts: np.ndarray           # (images, n_neurons) spike counts
    scores: np.ndarray           # (images, n_neurons)

    def describe(self):
        return (f"RTL bit-exact on {self.images} images ({self.clocks} clocks, {self.lanes} "
                f"lanes) in {self.seconds:.1f} s")


_OUTS = ("busy", "done", "spike", "spike_valid")


def _load_segment(p, last, n_neurons, image):
    """Clocks that load thresholds ``p`` and start the run; the outputs hold the ``last`` run's
    final values (the reset values before the first run)."""
    n = len(p) + 1
    seg = {"load": np.r_[np.ones(n - 1), 0], "addr": np.r_[np.arange(n - 1), 0],
           "data": np.r_[p, 0], "start": np.r_[np.zeros(n - 1), 1], "en": np.zeros(n),
           "_run": np.full(n, image - 1)}
    if last is None:
        last = {k: np.zeros((n_neurons, 1) if k in ("_score", "_count") else 1)
                for k in (*_OUTS, "_score", "_count", "_cycle")}
    seg.update({k: np.full(n, 0 if k == "done" else last[k][-1]) for k in _OUTS})
    seg.update({k: np.repeat(last[k][..., -1:], n, -1) for k in ("_score", "_count", "_cycle")})
    return seg


def _run_segment(layer, lanes, p, image):
    """A run without stalls plus ``n_neurons`` idle clocks (:mod:`scfpga.sim.dense` schedule)."""
    params = layer.params
    clocks = run_schedule(params, lanes).busy_clocks + params.n_neurons
    seg = dict(run_expectation(layer, lanes, np.asarray(p), np.ones(clocks, np.int64)))
    seg.update({k: np.zeros(clocks) for k in ("load", "addr", "data", "start")})
    seg.update({"en": np.ones(clocks), "_run": np.full(clocks, image)})
    return seg


def _rtl_case(params, thresholds, lanes):
    """One stimulus running every image back to back, with the expected output of every clock.

    Per image: ``n_inputs`` clocks load its thresholds, one clock starts the run, the run goes
    without stalls, then ``n_neurons`` idle clocks. ``sel`` walks over the neurons every clock,
    so the idle clocks show every neuron's final score and spike count (the prediction is the
    argmax of those scores). The per-run expectation is :mod:`scfpga.sim.dense`'s, so the
    pipeline schedule is stated once.

    Returns
    -------
    case : scfpga.sim.dense.DenseCase
    scores, counts : (images, n_neurons) arrays
        The final values every run's expectation ends with.
    """
    layer = SCDenseLayer(params)
    n_neur = params.n_neurons
    segs, finals, last = [], [], None
    for image, p in enumerate(thresholds):
        run = _run_segment(layer, lanes, p, image)
        segs += [_load_segment(p, last, n_neur, image), run]
        finals.append((run["_score"][:, -1], run["_count"][:, -1]))
        last = run
    cat = {k: np.concatenate([s[k] for s in segs], -1).astype(np.int64) for k in segs[0]}
    clocks = cat["en"].size
    stim = {k: cat[k] for k in INPUT_PORTS if k != "sel"}
    stim["sel"] = np.arange(clocks) % n_neur
    expected = {k: cat[k] for k in _OUTS}
    for port in ("score", "count"):
        expected[port] = cat[f"_{port}"][stim["sel"], np.arange(clocks)]
    case = DenseCase(params, lanes, stim, expected, [], cat["_run"], cat["_cycle"])
    return case, np.array([f[0] for f in finals]), np.array([f[1] for f in finals])


def rtl_check(params, x, n_images, lanes=RTL_LANES, simulator=None, verilog_path=None):
    """Co-simulate the generated dense layer on ``x[:n_images]`` in ONE cocotb run.

    Every clock's ``busy``, ``done``, ``spike``, ``spike_valid``, ``score`` and ``count`` (of the
    neuron ``sel`` walks to) is compared with the golden model; the final score and spike count
    of every neuron of every image are among them, so the RTL's prediction (argmax of the
    scores) is the golden model's.

    Parameters
    ----------
    params : DenseParams
    x : array (n, n_inputs)
        Inputs in [0, 1]; the first ``n_images`` are run.
    lanes : int
        Synapse columns per clock of :class:`scfpga.hdl.dense.Dense` (a power of two); the run
        of one image takes :attr:`~scfpga.hdl.dense.RunSchedule.busy_clocks` clocks.
    simulator : str or None
        Passed to :func:`scfpga.sim.cosim` when given (``"icarus"`` is the default there).
    verilog_path : path or None
        Also write the generated Verilog here.

    Returns
    -------
    RTLResult

    Raises
    ------
    AssertionError
        At the first clock where the RTL differs: image, neuron, SC cycle, port, values.
    """
    t0 = time.time()
    layer = SCDenseLayer(params)
    p = layer.thresholds(np.asarray(x)[:check_int("n_images", n_images, 1, len(x))])
    case, scores, counts = _rtl_case(params, p, lanes)
    golden = layer.evaluate_thresholds(p)
    # The per-clock expectation and the batch golden model must tell the same story.
    assert np.array_equal(scores, golden.scores) and np.array_equal(counts, golden.counts)
    verilog = to_verilog(Dense(params, lanes), "dense")
    if verilog_path is not None:
        Path(verilog_path).write_text(verilog)
    kw = {} if simulator is None else {"simulator": simulator}
    result = cosim(verilog, "dense", case.stimulus, case.expected, SIGNED_PORTS, **kw)
    if not result.ok:
        raise AssertionError(f"RTL differs from the golden model: {case.explain(result)} "
                             f"(the run index is the image index)")
    return RTLResult(len(p), result.cycles, lanes, time.time() - t0,
                     np.argmax(scores, axis=-1), counts, scores)
