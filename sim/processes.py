"""Child processes that never outlive scfpga.

Every external tool scfpga starts (yosys, nextpnr, icepack, iverilog/vvp, Verilator, sweep
workers' tools) runs through :func:`run` or :func:`popen`:

* in its **own process group** (a new session), so a terminal's Ctrl-C reaches scfpga only and
  scfpga decides how the child ends, and so the whole group (a simulator and the compiler
  passes it spawned) can be signalled at once;
* **registered** while it runs: when scfpga ends for any reason it can catch (an exception,
  Ctrl-C, SIGTERM, SIGHUP, normal exit through :mod:`atexit`), every registered group gets
  SIGTERM, then SIGKILL after a short grace;
* with a **parent-death signal** (Linux ``PR_SET_PDEATHSIG``): if scfpga itself is killed with
  SIGKILL, the kernel sends the child SIGKILL. The signal follows the *thread* that started
  the child; start children from a thread that lives as long as they should.

:func:`interruptible` turns SIGTERM and SIGHUP into :class:`Interrupted` (a
``KeyboardInterrupt``) for its duration, so ``finally`` blocks run and children are ended;
:func:`worker_init` prepares a pool worker process the same way (it ends when its parent dies).

This module sits in ``sim`` because ``sim`` is the lowest layer that starts processes; ``boards``
and ``scfpga`` import it from here.
"""
import atexit
import contextlib
import ctypes
import os
import signal
import subprocess
import threading
import time

GRACE_S = 2.0                 # SIGTERM, then SIGKILL after this long
_PR_SET_PDEATHSIG = 1

_children = {}                # pid -> Popen, running children (each leads its own group)
_lock = threading.Lock()


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived inside :func:`interruptible` (``signum`` says which)."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:           # not Linux/glibc: no parent-death signal
        return None


_LIBC = _libc()


def set_parent_death_signal(sig=signal.SIGKILL, parent=None):
    """Ask the kernel to send ``sig`` to this process when its parent (thread) dies; exit at
    once if the parent ``parent`` (a pid) is already gone. A no-op where prctl is missing."""
    if _LIBC is not None and hasattr(_LIBC, "prctl"):
        _LIBC.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def _child_setup(parent):
    def setup():              # runs in the child between fork and exec
        set_parent_death_signal(signal.SIGKILL, parent)
    return setup


def popen(cmd, **kwargs):
    """:class:`subprocess.Popen` in a new process group, registered until :func:`reap` or
    :func:`end` removes it. Keywords are Popen's (``start_new_session`` and ``preexec_fn`` are
    set here)."""
    proc = subprocess.Popen(cmd, start_new_session=True, preexec_fn=_child_setup(os.getpid()),
                            **kwargs)
    with _lock:
        _children[proc.pid] = proc
    return proc


def _forget(proc):
    with _lock:
        _children.pop(proc.pid, None)


def end(proc, grace=GRACE_S):
    """End ``proc``'s whole process group: SIGTERM, then SIGKILL after ``grace`` seconds."""
    try:
        if proc.poll() is None:
            _signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(proc, signal.SIGKILL)     # stragglers in the group, if any
        proc.wait(grace)
    except (OSError, subprocess.TimeoutExpired):
        pass
    finally:
        _forget(proc)


def _signal_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def end_all(grace=GRACE_S):
    """End every registered child's group (called at exit and on interruption)."""
    with _lock:
        procs = list(_children.values())
    for proc in procs:
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        _signal_group(proc, signal.SIGKILL)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
        _forget(proc)


def running():
    """Pids of the registered children still running (for tests and diagnostics)."""
    with _lock:
        return [pid for pid, p in _children.items() if p.poll() is None]


def run(cmd, *, check=False, timeout=None, input=None, capture_output=False, **kwargs):
    """:func:`subprocess.run` (same arguments) with the child in its own group; if anything
    interrupts the wait (Ctrl-C, :class:`Interrupted`, a timeout, any exception) the group is
    ended before the exception goes on. Returns a :class:`subprocess.CompletedProcess`."""
    if input is not None:
        kwargs["stdin"] = subprocess.PIPE
    if capture_output:
        kwargs["stdout"] = kwargs["stderr"] = subprocess.PIPE
    proc = popen(cmd, **kwargs)
    try:
        stdout, stderr = proc.communicate(input, timeout=timeout)
    except BaseException:
        end(proc)
        raise
    _forget(proc)
    result = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    if check:
        result.check_returncode()
    return result


def isolate_runner(runner):
    """Make a ``cocotb_tools.runner`` instance start its commands (compiler, simulator)
    through :func:`run`: same commands, same logging, same errors; returns ``runner``."""
    def execute_cmds(cmds, cwd, stdout=None):
        for cmd in cmds:
            stderr = None if stdout is None else subprocess.STDOUT
            result = run(cmd, cwd=cwd, env=runner.env, stdout=stdout, stderr=stderr)
            if result.returncode != 0:
                raise RuntimeError(f"Command failed with return code: {result.returncode}")
    runner._execute_cmds = execute_cmds
    return runner


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


@contextlib.contextmanager
def interruptible(signals=(signal.SIGTERM, signal.SIGHUP)):
    """For the block's duration, ``signals`` raise :class:`Interrupted` in the main thread;
    on leaving (normally or not) every registered child group is ended. Outside the main
    thread only the clean-up applies."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in signals:
            previous[sig] = signal.signal(sig, _raise_interrupted)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        end_all()


def _worker_term(signum, frame):
    end_all(grace=0.5)
    if os.getpgrp() == os.getpid():       # a group of its own: take every descendant along
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.killpg(os.getpid(), signal.SIGKILL)
    os._exit(128 + signum)


def worker_init(parent=None):
    """Initializer of a pool worker process: it leads a process group of its own (tools it
    starts, registered or not, are in it), gets SIGTERM when its parent dies (even by
    SIGKILL), and SIGTERM or SIGHUP end its whole group; Ctrl-C is left to the parent, which
    ends the pool with :func:`end_pool`."""
    try:
        os.setsid()
    except OSError:                       # already a session leader
        pass
    set_parent_death_signal(signal.SIGTERM, parent)
    signal.signal(signal.SIGTERM, _worker_term)
    signal.signal(signal.SIGHUP, _worker_term)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def end_pool(pool, grace=GRACE_S):
    """End a :class:`concurrent.futures.ProcessPoolExecutor` whose workers ran
    :func:`worker_init` now: queued work is cancelled, running work is stopped (SIGTERM to each
    worker, which ends its group; SIGKILL after ``grace``)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    deadline = time.monotonic() + grace
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join(grace)
    pool.shutdown(wait=False, cancel_futures=True)


atexit.register(end_all)
