"""A behavioural simulation model of the ECP5 block RAM (``DP16KD``) for gate-level runs.

Yosys's ECP5 cell library declares ``DP16KD`` as a blackbox, so a netlist whose memories
went to block RAM could not run under Icarus. This model covers what ``synth_ecp5`` emits
(``share/lattice/brams_map_16kd.v``): the true dual-port map (``DATA_WIDTH`` 1..18 per port,
``ADx1..0`` as the byte enables of an 18-bit port) and the pseudo-dual-port map (port A a
36-bit write port whose byte enables are ``ADA3..0``, port B a read port whose 36-bit word
leaves on ``DOA`` (low half) and ``DOB`` (high half)).

The memory is Yosys's ``INIT`` view: 1024 rows of 18 bits, ``INITVAL_xx`` holding rows
``16 * xx`` to ``16 * xx + 15`` in 20-bit slots. A 9-, 18- or 36-bit word ``n`` is bits
``[w * n, w * n + w)`` of the flattened rows; a 1-, 2- or 4-bit word sits in the 8 data bits of
a 9-bit unit (the ninth is parity). Reads are synchronous (``NOREG``; ``OUTREG`` adds the
output register enabled by ``OCE``); ``WRITEMODE`` says what a writing port reads (``NORMAL``:
keeps its output, ``WRITETHROUGH``: the new word, ``READBEFOREWRITE``: the old); a read of
a word the other port writes in the same cycle returns the old word (Yosys adds bypass logic
wherever the design needs otherwise). Outputs start at zero; ``RST`` clears them.

This checks everything of a netlist but the DP16KD mapping itself, which the model takes
from Yosys's own conventions rather than from the silicon.
"""

SUPPORTED_WIDTHS = (1, 2, 4, 9, 18, 36)


def _bits(prefix, n):
    return ", ".join(f"{prefix}{i}" for i in reversed(range(n)))


def dp16kd_model():
    """Verilog text of ``module DP16KD`` (the blackbox's ports and parameters)."""
    ports = []
    for p in "AB":
        ports += [f"  input {_bits('DI' + p, 18)},", f"  input {_bits('AD' + p, 14)},",
                  f"  input CE{p}, OCE{p}, CLK{p}, WE{p}, RST{p},", f"  input {_bits('CS' + p, 3)},",
                  f"  output {_bits('DO' + p, 18)}" + ("," if p == "A" else "")]
    initvals = "\n".join(f'  parameter INITVAL_{i:02X} = 320\'h0;' for i in range(64))
    load = "\n".join(f"    for (j = 0; j < 16; j = j + 1) row[{16 * i} + j] = INITVAL_{i:02X}[j * 20 +: 18];"
                     for i in range(64))
    return f"""
module DP16KD(
{chr(10).join(ports)}
);
  parameter DATA_WIDTH_A = 18;
  parameter DATA_WIDTH_B = 18;
  parameter REGMODE_A = "NOREG";
  parameter REGMODE_B = "NOREG";
  parameter RESETMODE = "SYNC";
  parameter ASYNC_RESET_RELEASE = "SYNC";
  parameter CSDECODE_A = "0b000";
  parameter CSDECODE_B = "0b000";
  parameter WRITEMODE_A = "NORMAL";
  parameter WRITEMODE_B = "NORMAL";
  parameter CLKAMUX = "CLKA";
  parameter CLKBMUX = "CLKB";
  parameter GSR = "ENABLED";
{initvals}

  wire [17:0] dia = {{{_bits('DIA', 18)}}};
  wire [17:0] dib = {{{_bits('DIB', 18)}}};
  wire [13:0] ada = {{{_bits('ADA', 14)}}};
  wire [13:0] adb = {{{_bits('ADB', 14)}}};
  // Port A of the pseudo-dual-port map writes 36 bits: DIB is the high half.
  wire [35:0] wdata_a = {{dib, dia}};
  wire [35:0] wdata_b = {{18'b0, dib}};
  wire clk_a = (CLKAMUX == "INV") ? ~CLKA : CLKA;
  wire clk_b = (CLKBMUX == "INV") ? ~CLKB : CLKB;
  // CSDECODE "0bXYZ": the chip selects the port answers to (CS2 = X).
  wire sel_a = {{CSA2, CSA1, CSA0}} == {{CSDECODE_A[23:16] == "1", CSDECODE_A[15:8] == "1", CSDECODE_A[7:0] == "1"}};
  wire sel_b = {{CSB2, CSB1, CSB0}} == {{CSDECODE_B[23:16] == "1", CSDECODE_B[15:8] == "1", CSDECODE_B[7:0] == "1"}};

  reg [17:0] row [0:1023];
  reg mem [0:18431];
  integer i, j, k;
  initial begin
{load}
    for (i = 0; i < 1024; i = i + 1)
      for (k = 0; k < 18; k = k + 1) mem[18 * i + k] = row[i][k];
  end

  // Bit k of the word a port of width w addresses with ad.
  function integer pos(input integer w, input [13:0] ad, input integer k);
    begin
      case (w)
        36: pos = ad[13:5] * 36 + k;
        18: pos = ad[13:4] * 18 + k;
        9: pos = ad[13:3] * 9 + k;
        4: pos = (ad[13:2] >> 1) * 9 + ad[2] * 4 + k;
        2: pos = (ad[13:1] >> 2) * 9 + ad[2:1] * 2 + k;
        default: pos = (ad >> 3) * 9 + ad[2:0];
      endcase
    end
  endfunction

  // Byte enable of bit k: ADx1..0 on an 18-bit port, ADA3..0 on the 36-bit write port.
  function enabled(input integer w, input [13:0] ad, input integer k);
    enabled = (w == 36) ? ad[k / 9] : (w == 18) ? ad[k / 9] : 1'b1;
  endfunction

  reg [35:0] old_a, old_b, rd_a, rd_b;
  reg [17:0] doa_r = 18'b0, dob_r = 18'b0, doa_o = 18'b0, dob_o = 18'b0, dob_r_low = 18'b0;
  wire [17:0] doa = (REGMODE_A == "OUTREG") ? doa_o : doa_r;
  wire [17:0] dob = (REGMODE_B == "OUTREG") ? dob_o : dob_r;
  assign {{{_bits('DOA', 18)}}} = (DATA_WIDTH_B == 36) ? dob_r_low : doa;
  assign {{{_bits('DOB', 18)}}} = dob;

  always @(posedge clk_a) begin
    if (CEA && sel_a) begin
      for (k = 0; k < 36; k = k + 1) old_a[k] = (k < DATA_WIDTH_A) ? mem[pos(DATA_WIDTH_A, ada, k)] : 1'b0;
      if (WEA)
        for (k = 0; k < DATA_WIDTH_A; k = k + 1)
          if (enabled(DATA_WIDTH_A, ada, k)) mem[pos(DATA_WIDTH_A, ada, k)] <= wdata_a[k];
      rd_a = (WEA && WRITEMODE_A == "WRITETHROUGH") ? wdata_a : old_a;
      if (RSTA) doa_r <= 18'b0;
      else if (DATA_WIDTH_A != 36 && !(WEA && WRITEMODE_A == "NORMAL")) doa_r <= rd_a[17:0];
    end
    if (OCEA) doa_o <= RSTA ? 18'b0 : doa_r;
  end

  always @(posedge clk_b) begin
    if (CEB && sel_b) begin
      for (k = 0; k < 36; k = k + 1) old_b[k] = (k < DATA_WIDTH_B) ? mem[pos(DATA_WIDTH_B, adb, k)] : 1'b0;
      if (WEB && DATA_WIDTH_B <= 18)
        for (k = 0; k < DATA_WIDTH_B; k = k + 1)
          if (enabled(DATA_WIDTH_B, adb, k)) mem[pos(DATA_WIDTH_B, adb, k)] <= wdata_b[k];
      rd_b = (WEB && WRITEMODE_B == "WRITETHROUGH") ? wdata_b : old_b;
      if (RSTB) begin
        dob_r <= 18'b0;
        dob_r_low <= 18'b0;
      end else if (!(WEB && WRITEMODE_B == "NORMAL")) begin
        // A 36-bit read port: low half on DOA, high half on DOB.
        dob_r <= (DATA_WIDTH_B == 36) ? rd_b[35:18] : rd_b[17:0];
        dob_r_low <= rd_b[17:0];
      end
    end
    if (OCEB) dob_o <= RSTB ? 18'b0 : dob_r;
  end

  always @(posedge RSTA) if (RESETMODE == "ASYNC") doa_r <= 18'b0;
  always @(posedge RSTB) if (RESETMODE == "ASYNC") begin dob_r <= 18'b0; dob_r_low <= 18'b0; end
endmodule
"""
