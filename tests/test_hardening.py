"""Interruptions and child processes (scfpga.sim.processes), host deadlines, and the issue's
named bad inputs end as documented."""
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from scfpga.boards import protocol as P
from scfpga.boards.host import BoardClient
from scfpga.cli import main
from scfpga.sim import processes


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _wait_gone(pid, seconds=5):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_run_puts_the_child_in_its_own_group_and_ends_it_when_interrupted():
    def interrupt(signum, frame):
        raise KeyboardInterrupt
    old = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    t0 = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            processes.run(["sh", "-c", "sleep 30 & sleep 30"])
    finally:
        signal.signal(signal.SIGALRM, old)
    assert time.monotonic() - t0 < 5
    assert processes.running() == []
    # The grandchild (sleep in the background) went with the group.
    out = subprocess.run(["pgrep", "-f", "sleep 30 & sleep 30"], capture_output=True, text=True)
    assert out.stdout.strip() == ""


def test_child_dies_with_scfpga_even_on_sigkill(tmp_path):
    """A parent killed with SIGKILL takes its tool along (parent-death signal)."""
    pid_file = tmp_path / "child.pid"
    code = ("import sys; from scfpga.sim import processes; "
            f"p = processes.popen(['sleep', '60']); open({str(pid_file)!r}, 'w').write(str(p.pid)); "
            "p.wait()")
    parent = subprocess.Popen([sys.executable, "-c", code])
    end = time.monotonic() + 20
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < end
        time.sleep(0.05)
    child = int(pid_file.read_text())
    assert _alive(child) and os.getpgid(child) == child           # its own group
    parent.kill()
    parent.wait()
    assert _wait_gone(child)


def _sleep_in_worker(pid_file):
    p = processes.popen(["sleep", "60"])
    with open(pid_file, "w") as f:
        f.write(f"{os.getpid()} {p.pid}")
    p.wait()


def test_pool_workers_and_their_tools_end_with_the_pool(tmp_path):
    pid_file = tmp_path / "pids"
    pool = ProcessPoolExecutor(1, initializer=processes.worker_init, initargs=(os.getpid(),))
    pool.submit(_sleep_in_worker, str(pid_file))
    end = time.monotonic() + 20
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < end
        time.sleep(0.05)
    worker, tool = map(int, pid_file.read_text().split())
    processes.end_pool(pool)
    assert _wait_gone(worker) and _wait_gone(tool)


def test_ctrl_c_is_one_line_and_exit_130(tmp_path):
    """SIGINT during a long ``scfpga model``: one line on stderr, exit 130."""
    proc = subprocess.Popen([sys.executable, "-m", "scfpga", "model", "lif", "--cycles", "16777216"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.fail("the command finished before the interrupt; make it longer")
    assert proc.returncode == 130 and err.count("\n") == 1 and "interrupted" in err, err


class Chatter:
    """A board that sends noise forever and never a reply."""

    def write(self, data):
        pass

    def read(self, n, timeout=None):
        return bytes([0x13, P.SYNC_REPLY, 0x01, 0x00, 0x00, 0x77] * 4)[:max(n, 1)]

    def close(self):
        pass


def test_line_noise_cannot_hold_the_host():
    client = BoardClient(Chatter(), timeout=0.2)
    t0 = time.monotonic()
    with pytest.raises(P.ProtocolError, match="no complete reply"):
        client.info()
    assert time.monotonic() - t0 < 1


@pytest.mark.parametrize("reply,message", [
    (P.encode_reply(P.Command.READ, 0, b"\x01\x02\x03"), "payload has 3 bytes"),
    (P.encode_reply(P.Command.READ, 0, b""), "payload has 0 bytes"),
    (P.encode_reply(P.Command.READ, 0, bytes(12)), "payload has 12 bytes"),
    (P.encode_reply(P.Command.INFO, 0, P.Info(1, 128, 1, 1, 0, 64, 0, 10).encode()), "clock of 0 Hz"),
    (P.encode_reply(P.Command.INFO, 0, P.Info(2, 128, 1, 1, 0, 64, 10, 10).encode()), "version 2"),
    (P.encode_reply(P.Command.INFO, 0, P.Info(1, 16, 1, 1, 0, 64, 10, 10).encode()), "at most 16"),
])
def test_host_checks_replies(reply, message):
    class Board:
        def write(self, data):
            pass

        def read(self, n, timeout=None):
            nonlocal reply
            chunk, reply = reply[:n], reply[n:]
            return chunk

        def close(self):
            pass
    client = BoardClient(Board(), timeout=0.2)
    with pytest.raises(P.ProtocolError, match=message):
        client.info() if b"\x01" == reply[1:2] else client.read_results(0, 2)


@pytest.mark.parametrize("argv,flag", [
    (["run", "--port", "sim", "examples/board_sng.toml", "--x", "examples/x16.npy", "--timeout", "nan"], "--timeout"),
    (["run", "--port", "sim", "examples/board_sng.toml", "--x", "examples/x16.npy", "--timeout", "0"], "--timeout"),
    (["run", "--port", "sim", "examples/board_sng.toml", "--x", "examples/x16.npy", "--baud", "-1"], "--baud"),
    (["digits", "x.json", "--port", "sim", "--timeout", "-1"], "--timeout"),
    (["sim", "sng", "--cycles", "10", "--name", "../../x"], "--name"),
    (["gen", "sng", "-o", "x.v", "--name", "module"], "--name"),
    (["model", "dense", "--stim-seed", "-1"], "--stim-seed"),
    (["model", "sng", "--cycles", str(2**40)], "--cycles"),
    (["model", "fusion", "--elements", "1024"], "--elements"),
    (["build", "sng", "--board", "icebreaker", "-o", "b", "--pnr-seed", "-1"], "--pnr-seed"),
])
def test_named_bad_values_are_one_line_exit_2(capsys, argv, flag):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and flag in err


def test_run_checks_its_output_before_any_sample(capsys, tmp_path):
    x = tmp_path / "x.npy"
    np.save(x, np.array([0.5]))
    code = main(["run", "--port", "sim", "examples/board_sng.toml", "--x", str(x),
                 "-o", str(tmp_path / "none" / "r.npy")])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "does not exist" in err


def test_sweep_all_failed_is_exit_1_and_resume_needs_the_same_sweep(capsys, tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text('evaluator = "sng"\n[grid]\nlength = [16]\nwidth = [40]\nsource = ["lfsr"]\n'
                    '[options]\nbuild = false\n')
    assert main(["sweep", str(spec), "-o", str(tmp_path / "out"), "--workers", "1"]) == 1
    other = tmp_path / "c.toml"
    other.write_text('evaluator = "sng"\n[grid]\nlength = [16]\nwidth = [8]\nsource = ["lfsr"]\n'
                     '[options]\nbuild = true\n')
    capsys.readouterr()
    assert main(["sweep", str(other), "-o", str(tmp_path / "out")]) == 2
    assert "another sweep" in capsys.readouterr().err
