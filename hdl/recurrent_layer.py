"""A recurrent layer in a network design (semantics: :mod:`scfpga.model.recurrent_layer`).

The layer is a :class:`~.network_layer.DenseLayerCore` whose swept input vector is the previous
layer's committed spikes followed by its *own* committed spikes: both hold still for the whole
SC cycle ``k`` (they are the spikes of cycle ``k``), and the layer's own new spikes only show at
the commit, so the recurrent edge has the model's one-cycle delay with no extra register.
"""
from amaranth.hdl import Cat

from ..model.params import ParameterError
from ..model.recurrent_layer import RecurrentLayer


def swept_inputs(layer):
    """Input columns the layer's sweep reads (a recurrent layer adds its own neurons)."""
    return layer.n_inputs + (layer.n_neurons if isinstance(layer, RecurrentLayer) else 0)


def input_vector(layer, prev, core):
    """The spike vector a layer (not the first) sweeps: ``prev``'s spikes, then its own."""
    if isinstance(layer, RecurrentLayer):
        return Cat(prev.spikes, core.spikes)
    return prev.spikes


def check_position(layer, index):
    """A recurrent layer needs a layer before it in hardware (the encoder's fetch port serves
    only the network inputs)."""
    if isinstance(layer, RecurrentLayer) and index == 0:
        raise ParameterError("layer 1: a recurrent layer must follow another layer in hardware "
                             "(put a dense layer before it)")
