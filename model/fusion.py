"""Multi-modal MUX fusion layer: parameters, golden model and an ``SCFusionLayer``-style class.

Output element ``j`` fuses element ``j`` of every modality, so all modalities have the same
``dim``. Every input value is a comparator SNG stream (:mod:`.sng`) and per element a MUX
(:mod:`.mux`) passes one modality's bit each cycle, chosen with probability ``w_m / 2**width``;
the fused value is ``ones / length``, an estimate of ``sum_m w_m x_m / 2**width``.

Source sharing and the decorrelation rule (the hardware has exactly these two sources):

* **one data source** ``R`` drives the SNG of every element of every modality. A MUX passes one
  input per cycle, so its output probability ``sum_m P(sel = m) p_m`` only needs the select to be
  independent of the inputs; correlation *between* inputs never matters. Different output
  elements are separate MUXes, so each element's count is unaffected too (the fused streams of
  two elements are correlated with each other: do not AND them downstream).
* **one select source** ``S`` and one select decoder shared by every element's MUX, for the same
  reason.
* ``source = "sobol"``: ``R`` is Sobol dimension ``sobol_dim``, ``S`` dimension ``sobol_dim + 1``.
  ``S`` runs through a permutation of ``0..2**width - 1`` every aligned ``2**width`` cycles, so
  each modality is selected exactly ``w_m`` times per period. The default pair (dimensions 1
  and 2) is a (0, 2)-sequence: each elementary box of area ``2**-width`` holds exactly one
  ``(R, S)`` point per period, so the data values seen under each select are stratified too.
* ``source = "lfsr"``: ``R`` starts at ``seed`` and ``S`` at the state ``period // 2`` steps later
  (:func:`lfsr_jump`): the same m-sequence half a period apart, far from the strongly
  correlated neighbouring phases (``R[k+1] ~ 2 R[k]``). Over a whole period ``S`` is a fixed
  linear function of ``R``; the half-period offset is not optimised per width, and a few widths
  (e.g. 7) give a visibly coarser ``(R, S)`` lattice (errors of 2-3 counts instead of ~1).
  ``seed = None`` takes the top ``width`` bits of the golden-ratio constant ``0x9E3779B9``: a
  dense, non-zero state for every width. A sparse seed such as 1 starts with the values
  1, 2, 4, ... and biases short runs.

  With ``length`` much shorter than the period (``2**width - 1``) an LFSR run is a window of a
  pseudo-random sequence, and its error behaves like a random stream's (about ``1/sqrt(L)``,
  worse than Bernoulli because ``R[k+1] ~ 2 R[k]`` makes neighbouring bits correlated; see
  ``scripts/accuracy_vs_length.py``); with ``length`` close to the period it is nearly exact.

Time convention of a run (see :mod:`scfpga.hdl.fusion` for the run interface): index ``k`` of
:func:`fusion_bits` is the bit during the run's ``k``-th enabled cycle; both sources restart at
element 0 at every run.
"""
from dataclasses import dataclass

import numpy as np

from .lfsr import LFSRParams, lfsr_jump
from .mux import MAX_INPUTS, MuxParams, mux_bits, mux_select, quantize_weights, uniform_weights
from .params import ParameterError, check_choice, check_int
from .sng import SNGParams, quantize_unipolar, sng_bits
from .sobol import MAX_DIM, SobolParams
from .sources import SOURCE_KINDS, source_sequence

MIN_WIDTH, MAX_WIDTH = 3, 24      # LFSR needs >= 3; wider comparators buy nothing at L <= 2**24
MAX_DIM_PER_MODALITY = 256         # as documented for --elements (scfpga.model.ops)
MAX_LENGTH = 1 << 24
DEFAULT_SEED = 0x9E3779B9           # golden-ratio bits: dense, top bit set


@dataclass(frozen=True)
class FusionParams:
    """A MUX fusion layer of ``len(modalities)`` inputs per element and ``dim`` elements.

    Parameters
    ----------
    modalities : tuple of str
        Modality names, 2..256, distinct; their order is the MUX input order.
    dim : int
        Elements per modality (the same for all), 1..256.
    weights : tuple of int or None
        Integer MUX weights, one per modality, non-negative, summing to ``2**width``
        (:func:`.mux.quantize_weights` makes them from reals). ``None``: uniform.
    length : int
        Bitstream length L (cycles per run), 1..2**24.
    width : int
        Source and comparator width W, 3..24; thresholds are ``0..2**W``.
    source : str
        ``"sobol"`` or ``"lfsr"`` for both the data and the select source.
    seed : int or None
        LFSR data-source seed, 1..2**W - 1; ``None``: see the module docstring. Ignored for Sobol.
    sobol_dim : int
        Sobol dimension of the data source, 1..1023; the select uses ``sobol_dim + 1``.
    """
    modalities: tuple = ("a", "b")
    dim: int = 4
    weights: tuple | None = None
    length: int = 256
    width: int = 8
    source: str = "sobol"
    seed: int | None = None
    sobol_dim: int = 1

    def __post_init__(self):
        names = tuple(self.modalities) if not isinstance(self.modalities, str) else ()
        if not (2 <= len(names) <= MAX_INPUTS) or len(set(names)) != len(names) or \
                not all(isinstance(n, str) and n for n in names):
            raise ParameterError(
                f"modalities must be 2..{MAX_INPUTS} distinct non-empty names, got {self.modalities!r}")
        object.__setattr__(self, "modalities", names)
        check_int("dim", self.dim, 1, MAX_DIM_PER_MODALITY)
        check_int("length", self.length, 1, MAX_LENGTH)
        check_int("width", self.width, MIN_WIDTH, MAX_WIDTH)
        check_choice("source", self.source, SOURCE_KINDS)
        check_int("sobol_dim", self.sobol_dim, 1, MAX_DIM - 1)
        if self.seed is None:
            object.__setattr__(self, "seed", DEFAULT_SEED >> (32 - self.width))
        check_int("seed", self.seed, 1, (1 << self.width) - 1)
        if self.weights is None:
            object.__setattr__(self, "weights", uniform_weights(len(names), self.width))
        # MuxParams validates weights (count, sign, sum) and width >= log2(modalities).
        object.__setattr__(self, "weights", self.mux.weights)

    @classmethod
    def from_dims(cls, input_dims, fusion_weights=None, **kwargs):
        """Parameters from ``{name: dim}`` and real weights (dict by name or sequence), quantised once.

        All dims must be equal: output element j fuses element j of every modality.
        """
        if not isinstance(input_dims, dict) or not input_dims:
            raise ParameterError("input_dims must be a non-empty dict {modality: dim}")
        dims = set(input_dims.values())
        if len(dims) != 1:
            raise ParameterError(f"input_dims must all be equal (element j fuses element j of every "
                                 f"modality), got {input_dims}")
        names = tuple(input_dims)
        width = kwargs.get("width", cls.width)
        check_int("width", width, MIN_WIDTH, MAX_WIDTH)
        if fusion_weights is None:
            weights = None
        else:
            if isinstance(fusion_weights, dict):
                if set(fusion_weights) != set(names):
                    raise ParameterError(f"fusion_weights must name exactly the modalities {names}, "
                                         f"got {tuple(fusion_weights)}")
                fusion_weights = [fusion_weights[n] for n in names]
            if len(fusion_weights) != len(names):
                raise ParameterError(f"fusion_weights must have {len(names)} entries")
            weights = quantize_weights(fusion_weights, width)
        return cls(modalities=names, dim=dims.pop(), weights=weights, **kwargs)

    @property
    def n_modalities(self):
        return len(self.modalities)

    @property
    def data_source(self):
        """The one source every SNG compares against."""
        if self.source == "sobol":
            return SobolParams(self.width, self.sobol_dim)
        return LFSRParams(self.width, self.seed)

    @property
    def select_source(self):
        """The one source the shared MUX select decoder compares against."""
        if self.source == "sobol":
            return SobolParams(self.width, self.sobol_dim + 1)
        lfsr = LFSRParams(self.width, self.seed)
        return LFSRParams(self.width, lfsr_jump(lfsr, lfsr.period // 2))

    @property
    def mux(self):
        return MuxParams(len(self.modalities), self.select_source, self.weights)

    @property
    def sng(self):
        return SNGParams(self.data_source)

    @property
    def count_width(self):
        """Bits of a per-element count (0..length)."""
        return self.length.bit_length()


def _check_probs(params, probs):
    probs = np.asarray(probs)
    if probs.ndim < 2 or probs.shape[-2:] != (params.n_modalities, params.dim):
        raise ParameterError(f"probs must have shape (..., {params.n_modalities}, {params.dim}), "
                             f"got {probs.shape}")
    if not np.issubdtype(probs.dtype, np.integer) or probs.min() < 0 or probs.max() > (1 << params.width):
        raise ParameterError(f"probs must be integers in 0..{1 << params.width}")
    return probs.astype(np.int64)


def fusion_bits(params: FusionParams, probs) -> np.ndarray:
    """Fused bits of a run, uint8 of shape (..., dim, length).

    ``probs``: integer SNG thresholds of shape (..., n_modalities, dim). This is the primitives
    composed literally: one SNG stream per input value, then one MUX per element.
    """
    probs = _check_probs(params, probs)
    streams = sng_bits(params.sng, params.length, prob=np.swapaxes(probs, -1, -2))
    return mux_bits(params.mux, streams)                    # streams: (..., dim, modality, L)


def fusion_counts(params: FusionParams, probs) -> np.ndarray:
    """Ones per element over the run, int64 of shape (..., dim); equal to ``fusion_bits(...).sum(-1)``.

    Never builds a stream: for each modality m, the ones are the cycles with ``sel = m`` and
    ``R < P_m``, i.e. a ``searchsorted`` of ``P_m`` in the sorted R values of those cycles.
    """
    probs = _check_probs(params, probs)
    r = source_sequence(params.data_source, params.length)
    sel = mux_select(params.mux, params.length)
    counts = np.zeros(probs.shape[:-2] + (params.dim,), np.int64)
    for m in range(params.n_modalities):                    # a loop over modalities, not cycles
        seen = np.sort(r[sel == m])
        counts += np.searchsorted(seen, probs[..., m, :], side="left")
    return counts


class FusionLayer:
    """Stochastic MUX fusion of several modalities, after sc_neurocore's ``SCFusionLayer``.

    Parameters
    ----------
    input_dims : dict of str -> int
        Modality names and dims (all equal).
    fusion_weights : dict of str -> float, sequence or None
        Non-negative real weights (normalised; ``None``: equal), quantised once to integers.
    length, width, source, seed, sobol_dim
        See :class:`FusionParams`.

    Attributes
    ----------
    params : FusionParams
        What the hardware is generated from.
    """

    def __init__(self, input_dims, fusion_weights=None, length=256, width=8, source="sobol",
                 seed=None, sobol_dim=1):
        self.params = FusionParams.from_dims(input_dims, fusion_weights, length=length, width=width,
                                             source=source, seed=seed, sobol_dim=sobol_dim)
        self.input_dims = dict(input_dims)
        self.fusion_weights = dict(zip(self.params.modalities, self._normalised(fusion_weights)))

    def _normalised(self, fusion_weights):
        if fusion_weights is None:
            return [1.0 / self.params.n_modalities] * self.params.n_modalities
        if isinstance(fusion_weights, dict):
            fusion_weights = [fusion_weights[n] for n in self.params.modalities]
        w = np.asarray(fusion_weights, np.float64)
        return list(w / w.sum())

    @property
    def quantized_weights(self):
        """The weights the MUX realises: ``params.weights / 2**width``."""
        return {n: w / (1 << self.params.width)
                for n, w in zip(self.params.modalities, self.params.weights)}

    def thresholds(self, inputs):
        """Integer SNG thresholds, shape (..., n_modalities, dim), from ``{name: values in [0, 1]}``."""
        if not isinstance(inputs, dict) or set(inputs) != set(self.params.modalities):
            raise ParameterError(f"inputs must be a dict with exactly the modalities "
                                 f"{self.params.modalities}")
        arrays = [np.asarray(inputs[n], np.float64) for n in self.params.modalities]
        shape = arrays[0].shape
        if any(a.shape != shape for a in arrays) or not shape or shape[-1] != self.params.dim:
            raise ParameterError(f"every modality must be an array of shape (dim,) or (batch, dim) "
                                 f"with dim = {self.params.dim} and the same shape for all")
        return np.stack([quantize_unipolar(a, self.params.width) for a in arrays], axis=-2)

    def counts(self, inputs):
        """Ones per element over ``length`` cycles, shape (dim,) or (batch, dim)."""
        return fusion_counts(self.params, self.thresholds(inputs))

    def bits(self, inputs):
        """The fused bitstreams, uint8 of shape (..., dim, length)."""
        return fusion_bits(self.params, self.thresholds(inputs))

    def forward(self, inputs):
        """Fused probabilities ``ones / length``, shape (dim,) or (batch, dim)."""
        return self.counts(inputs) / self.params.length

    def exact(self, inputs):
        """The value SC estimates: ``sum_m w_m x_m`` with the normalised real weights, in float."""
        self.thresholds(inputs)                                 # same validation as forward
        return sum(self.fusion_weights[n] * np.asarray(inputs[n], np.float64)
                   for n in self.params.modalities)
