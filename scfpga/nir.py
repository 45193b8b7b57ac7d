"""NIR in and out: ``from_nir(graph_or_path, dt=1e-4)`` -> a
:class:`scfpga.model.network.NetworkParams`, ``to_nir(network)`` -> a :class:`nir.NIRGraph`.

The conversion, its semantics and the traps it handles are documented in
:mod:`scfpga.model.nir` (where the op table reads it); this module is the user-facing API::

    from scfpga.nir import from_nir, to_nir
    net = from_nir("examples/digits_lif.nir", dt=1e-4)       # NetworkParams
    net, report = from_nir("examples/digits_lif.nir", report=True)
"""
from .model.nir import (DEFAULT_CLIP, DEFAULT_DT, NodeQuantisation, fidelity, graph_chain,
                        load_graph, predictions, reference_run, report_json, to_hwc, to_nir,
                        write_nir)
from .model.nir import from_nir as _from_nir


def from_nir(graph_or_path, dt=DEFAULT_DT, report=False, **options):
    """A :class:`~scfpga.model.network.NetworkParams` from a NIR graph or ``.nir`` file.

    ``dt``: Euler step of the continuous-time nodes (default 1e-4, snnTorch's export).
    ``options``: ``width`` (SC weights, default 8), ``length`` (SC cycles per run, 256),
    ``state_width`` (neuron state bits, 16), ``encoding`` (``"rate"`` or ``"raster"``: the
    hardware is fed spike rasters), ``clip`` (fraction of weights kept inside the SC range,
    default ``DEFAULT_CLIP``), ``source``, ``seed``, ``lfsr_width``, ``lanes``, ``fold``.
    With ``report=True`` returns ``(network, [NodeQuantisation, ...])``.
    """
    net, rep = _from_nir(graph_or_path, dt=dt, **options)
    return (net, rep) if report else net


__all__ = ["DEFAULT_CLIP", "DEFAULT_DT", "from_nir", "to_nir", "to_hwc", "write_nir",
           "reference_run", "fidelity", "predictions", "load_graph", "graph_chain",
           "NodeQuantisation", "report_json"]
