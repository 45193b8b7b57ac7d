"""Maximal-length LFSR feedback taps, one entry per register width 3..32.

Source: P. Alfke, "Efficient Shift Registers, LFSR Counters, and Long Pseudo-Random Sequence
Generators", Xilinx application note XAPP052 (1996), Table 3. Tap ``t`` names register stage
``t`` counting from 1, which is bit ``t - 1`` of the state in scfpga's convention (see
:mod:`scfpga.model.lfsr`). XAPP052 uses XNOR feedback; the same taps are maximal with XOR,
which scfpga uses so that the all-zero state is the excluded one. ``tests/test_lfsr.py`` proves
every entry primitive over GF(2), so a typo here cannot pass CI.

This table is the only copy: the golden model and the Amaranth generator both import it.
"""

MAXIMAL_TAPS = {
    3: (3, 2),
    4: (4, 3),
    5: (5, 3),
    6: (6, 5),
    7: (7, 6),
    8: (8, 6, 5, 4),
    9: (9, 5),
    10: (10, 7),
    11: (11, 9),
    12: (12, 6, 4, 1),
    13: (13, 4, 3, 1),
    14: (14, 5, 3, 1),
    15: (15, 14),
    16: (16, 15, 13, 4),
    17: (17, 14),
    18: (18, 11),
    19: (19, 6, 2, 1),
    20: (20, 17),
    21: (21, 19),
    22: (22, 21),
    23: (23, 18),
    24: (24, 23, 22, 17),
    25: (25, 22),
    26: (26, 6, 2, 1),
    27: (27, 5, 2, 1),
    28: (28, 25),
    29: (29, 27),
    30: (30, 6, 4, 1),
    31: (31, 28),
    32: (32, 22, 2, 1),
}

MIN_WIDTH = min(MAXIMAL_TAPS)
MAX_WIDTH = max(MAXIMAL_TAPS)
