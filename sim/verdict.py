"""How a cocotb bench hands its verdict back to the runner: JSON at ``$SCFPGA_RESULT``."""
import json
import os


def write_verdict(result):
    """Write ``result`` (a JSON-able dict with at least ``ok``) where the runner reads it."""
    with open(os.environ["SCFPGA_RESULT"], "w") as f:
        json.dump(result, f)
