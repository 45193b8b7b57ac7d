"""Fitting a network to a device: per-layer ``fold`` and ``lanes`` from resource estimates.

The network pass that chooses, for every layer, how many neurons share an accumulator
(``fold``) and how many synapse columns a clock handles (``lanes``) so that the design fits a
device's block RAM and logic cells with the fewest clocks per SC cycle
(:func:`scfpga.hdl.network.schedule`). The estimates mirror the memories and datapaths
:class:`scfpga.hdl.network.Network` instantiates:

* block RAM, exactly as iCE40 EBRs (4 kbit: 256 x 16, 512 x 8, 1024 x 4 or 2048 x 2) hold them:
  per layer and lane a weight ROM of ``parallel * (width + 2)`` bits by ``passes * steps`` rows,
  a state RAM of one word per neuron; per encoder lane a threshold RAM, a source-state RAM and a
  seed/direction ROM;
* logic cells, a linear model per accumulator slot, lane, neuron and layer fitted to the
  out-of-context builds of ``scripts/network_cost.py`` (W = 8; within 6 LC of all 12); an
  estimate, so :func:`fit_layout` keeps a margin.

Conv and pool layers (:mod:`scfpga.model.conv`): the weight ROM holds the kernel once
(``rom_passes * steps`` rows; pools have none); the input map is block RAM (one copy per read
lane: :class:`~.network_layer.WindowInput`, double-buffered after a layer, one bank of
``lanes``-bit rows after the encoder), as is a dense layer's input after a window layer
(:class:`~.network_layer.MapInput`). A layer whose spike vector only feeds such a map keeps no
vector in logic (synthesis drops it), so the per-neuron logic term counts only vectors read by
logic; a window layer adds its window addressing (origin counters, tap table, bounds). Fitted to
the iCEBreaker builds of ``scripts/conv_fit.py`` and ``scripts/conv_board.py`` (IF neurons):
block RAM exact or one over, logic within 0..7 % over. A TAC layer
(:mod:`scfpga.model.conv_tac`) keeps its aggregate words twice (two read ports) and adds its
word-by-weight multipliers (``scripts/conv_tac_cost.py``: ~3.3 LC per slot, weight bit and
word bit beyond the first; 3.5 keeps the digits TAC network's board build under it).
"""
import itertools
from dataclasses import replace

from ..model.conv import ConvLayer, PoolLayer
from ..model.event_layer import EventLayer
from ..model.network import NetworkParams
from ..model.params import ParameterError
from .event_layer import resources as event_resources
from .network import schedule
from ..model.conv_tac import TACConvLayer
from .network_layer import is_window, state_word
from .network_loads import RASTER_BITS, raster_shift, spike_record_words
from .neuron import state_layout
from .recurrent_layer import swept_inputs
from .sources import direction_bits, weight_field_bits

EBR_SHAPES = ((256, 16), (512, 8), (1024, 4), (2048, 2))
# iCE40 devices: (logic cells, EBRs).
CAPACITY = {"up5k": (5280, 30), "up3k": (2800, 20), "u4k": (3520, 20), "hx8k": (7680, 32),
            "hx4k": (3520, 20), "hx1k": (1280, 16), "lp8k": (7680, 32), "lp4k": (3520, 20),
            "lp1k": (1280, 16)}
SPRAM = {"up5k": 4, "up3k": 4}       # the UltraPlus single-port RAMs (256 kbit each)
# A window layer's addressing: origin counters, tap table, bounds and read-address logic
# (the builds of scripts/conv_fit.py and conv_board.py: 190-220 LC a layer; rounded up).
WINDOW_LC = 230
# What a board top adds around the design (UART, protocol engine with its BATCH receive and
# reply FIFOs, PLL, LEDs), measured: synth_ice40 of the iCEBreaker top around a one-neuron
# network minus the network alone (1139 - 128 LUT4, 7 - 4 EBR), rounded up.
BOARD_CORE = {"lc": 1050, "ebr": 3}


def ebr_count(width, depth):
    """EBRs (4 kbit) a ``width`` x ``depth`` memory takes, in its best aspect ratio."""
    if width <= 0 or depth <= 0:
        return 0
    return min(-(-width // w) * -(-depth // d) for d, w in EBR_SHAPES)


def spram_count(width, depth):
    """UltraPlus SPRAMs (16 bits x 16 384) a ``width`` x ``depth`` memory takes."""
    return -(-width // 16) * -(-depth // 16384)


def estimate(params: NetworkParams):
    """``{"ebr": n, "spram": n, "lc": n}``: the block RAM, SPRAM and (estimated) logic cells of
    the network."""
    sch = schedule(params)
    ebr = lc = spram = 0
    p = params
    state_w = p.width if p.source == "sobol" else p.lfsr_width
    for l, (layer, ls) in enumerate(zip(p.layers, sch.layers)):
        # Only the output layer's score and count are read; synthesis drops them elsewhere.
        word = state_word(layer, p.length).size if l == len(p.layers) - 1 else \
            state_layout(layer.neuron).size
        if isinstance(layer, EventLayer):     # CSR memories, AER FIFO, accumulators
            mems, event_lc = event_resources(layer, word)
            ebr += sum(ebr_count(w, d) for w, d in mems)
            lc += event_lc
            continue
        rom_rows = ls.rom_passes * ls.steps
        if layer_has_weights(layer):
            bits = ls.parallel * weight_field_bits(p.width, p.weight_memory)
            if p.weight_memory == "spram":
                spram += layer.lanes * spram_count(bits, rom_rows)
            else:
                ebr += layer.lanes * ebr_count(bits, rom_rows)
        ebr += ebr_count(word, layer.n_neurons)
        cur_bits = layer.sweep_terms.bit_length() + 1
        if isinstance(layer, TACConvLayer):   # aggregate words, word-by-weight multipliers
            wb = layer.temporal.word_bits
            ebr += 2 * ebr_count(wb, 2 * layer.n_inputs)
            lc += WINDOW_LC + 3.5 * ls.parallel * (p.width + 1) * (wb - 1)
        elif is_window(layer):                # the input map in block RAM, one copy per lane
            words = -(-layer.n_inputs // layer.lanes) if l == 0 else 2 * layer.n_inputs
            ebr += layer.lanes * ebr_count(layer.lanes if l == 0 else 1, words)
            lc += WINDOW_LC
        elif l and is_window(p.layers[l - 1]) and swept_inputs(layer) == layer.n_inputs:
            ebr += layer.lanes * ebr_count(1, 2 * layer.n_inputs)       # MapInput
        # Least squares over the 12 builds of scripts/network_cost.py (residuals <= 6 LC):
        # comparators and sign steering per slot and lane, accumulator and current registers
        # per slot, spike bits per neuron, and per layer its update core and control.
        lc += 2.66 * ls.parallel * layer.lanes * (p.width + 3)
        lc += 0.33 * ls.parallel * 2 * cur_bits
        lc += (2.93 * layer.n_neurons if vector_in_logic(p, l) else 0) + 260
        if l == 0 and p.encoding == "raster":
            ebr += ebr_count(RASTER_BITS, p.length << raster_shift(p.n_inputs))
        elif l == 0:
            rows = ls.encoder_rows if is_window(layer) else ls.steps
            table = rows << direction_bits(p.plan)
            ebr += layer.lanes * (ebr_count(p.width + 1, rows) + ebr_count(state_w, rows)
                                  + ebr_count(state_w, table))
    return {"ebr": ebr, "spram": spram, "lc": int(round(lc + 260))}


def vector_in_logic(params, l):
    """Whether layer ``l``'s spike vector is read by logic: the next layer's
    :class:`~.network_layer.SpikeInput` (or the output's port); not when the next layer reads
    a block-RAM map written by the neuron updates (:class:`~.network_layer.WindowInput`,
    :class:`~.network_layer.MapInput`)."""
    if l == len(params.layers) - 1:
        return True
    layer, nxt = params.layers[l], params.layers[l + 1]
    if is_window(nxt):
        return False
    return not (is_window(layer) and swept_inputs(nxt) == nxt.n_inputs)


def layer_has_weights(layer):
    """Pool layers have no weight ROM (every window synapse is always on)."""
    return not isinstance(layer, PoolLayer)


def with_layout(params, folds, lanes):
    """``params`` with per-layer ``fold`` and ``lanes`` replaced (weights and neurons kept; a
    pool's fold is fixed: one channel per pass)."""
    layers = tuple(layer if isinstance(layer, EventLayer)
                   else replace(layer, lanes=int(n)) if isinstance(layer, PoolLayer)
                   else replace(layer, fold=int(f), lanes=int(n))
                   for layer, f, n in zip(params.layers, folds, lanes))
    return replace(params, layers=layers)


def _layer_folds(layer):
    """Candidate folds of a layer: dense as :func:`_folds`; conv: divisors of out_channels."""
    if isinstance(layer, (PoolLayer, EventLayer)):
        return [layer.fold]
    if isinstance(layer, ConvLayer):
        return [f for f in range(1, layer.out_channels + 1) if layer.out_channels % f == 0]
    return _folds(layer.n_neurons)


def _folds(n):
    """Candidate folds: those giving distinct accumulator counts ceil(n / fold)."""
    seen, out = set(), []
    for fold in range(1, n + 1):
        parallel = -(-n // fold)
        if parallel not in seen:
            seen.add(parallel)
            out.append(fold)
    return out


def fit_layout(params: NetworkParams, device=None, ebr=None, lc=None, board=True, margin=0.85,
               max_lanes=8, spram=None):
    """The layout (folds, lanes per layer) with the fewest clocks per SC cycle whose estimate
    stays within the block RAMs and ``margin`` of the logic cells left for the network.

    ``device`` (a key of :data:`CAPACITY`) sets ``lc`` and ``ebr``; ``board`` leaves room for
    the board top (:data:`BOARD_CORE`). Returns ``(params with that layout, estimate)``; raises
    ParameterError naming the resource when even the most folded layout does not fit.
    """
    if not isinstance(params, NetworkParams):
        raise ParameterError("params must be a NetworkParams")
    if device is not None:
        if device not in CAPACITY:
            raise ParameterError(f"device must be one of {', '.join(CAPACITY)}, got {device!r}")
        lc, ebr = CAPACITY[device]
        spram = SPRAM.get(device, 0)
    else:
        spram = 0 if spram is None else spram
    if lc is None or ebr is None:
        raise ParameterError("give a device or both lc and ebr")
    if board:                 # the board top, and a raster design's output spike record
        lc, ebr = lc - BOARD_CORE["lc"], ebr - BOARD_CORE["ebr"]
        ebr -= ebr_count(32 * spike_record_words(params), params.length)
    options = []
    for layer in params.layers:
        lanes = [1] if isinstance(layer, (EventLayer, TACConvLayer)) else \
            [n for n in (1, 2, 4, 8, 16) if n <= max_lanes and n <= layer.sweep_terms]
        folds = _layer_folds(layer)
        folds = folds[:24] + [f for f in folds[-8:] if f not in folds[:24]]   # and most folded
        options.append([(f, n) for f in folds for n in lanes])
    best, best_key, smallest = None, None, None
    for choice in itertools.product(*options):
        candidate = with_layout(params, [c[0] for c in choice], [c[1] for c in choice])
        est = estimate(candidate)
        key = (schedule(candidate).cycle_clocks, est["lc"], est["ebr"])
        if smallest is None or (est["spram"], est["ebr"], est["lc"]) < smallest[1:]:
            smallest = (candidate, est["spram"], est["ebr"], est["lc"])
        fits = est["ebr"] <= ebr and est["lc"] <= margin * lc and est["spram"] <= spram
        if fits and (best_key is None or key < best_key):
            best, best_key = (candidate, est), key
    if best is None:
        _, s, e, c = smallest
        what = f"SPRAM {s} > {spram}" if s > spram else f"block RAM {e} > {ebr}" if e > ebr \
            else f"logic cells about {c} > {int(margin * lc)}"
        raise ParameterError(f"the network does not fit even fully folded: {what}")
    return best
