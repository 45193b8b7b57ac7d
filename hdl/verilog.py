"""From a parameter object or a component to Verilog text."""
from amaranth.back import verilog

from .ops import component as make_component


def to_verilog(params_or_component, name, **kw):
    """Verilog text whose top module is ``name``; ports keep the signature's member names.

    A parameter object is first lowered by :func:`scfpga.hdl.ops.component` (``kw``: its
    lowering options, e.g. dense ``lanes``).
    """
    component = params_or_component
    if not hasattr(component, "signature"):
        component = make_component(params_or_component, **kw)
    return verilog.convert(component, name=name, emit_src=False)
