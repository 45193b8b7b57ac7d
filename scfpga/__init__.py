"""scfpga: bit-exact stochastic-computing spiking networks from NumPy to iCE40 hardware."""
__version__ = "0.1.0"
