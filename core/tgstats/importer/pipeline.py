"""Run the reading half of an import in a process of its own (the second core).

Parsing and converting cost about as much CPU as writing, so on two cores a
reader process (:func:`tgstats.importer.produce.produce`) and the importing
process (the writer, which holds the one transaction per chat) overlap.
They talk through a pipe, which is the bound on memory: the reader blocks in
``send`` until the writer takes the batch, so at most one batch is being
built, one is in the pipe and one is being written, whatever the file size.

The guarantees of a single-process import hold:

* errors travel as events (``("error", text, in_chat)``): the writer raises
  the same ExportFormatError and rolls the chat back;
* Ctrl-C reaches the writer only (the reader ignores SIGINT): its transaction
  rolls back, then the reader is terminated and joined;
* if the writer dies without cleaning up (SIGTERM, SIGKILL), the reader gets
  SIGTERM from the kernel (Linux's parent-death signal) or a broken pipe at
  its next batch, and exits; no process is left behind;
* an unexpected failure in the reader is re-raised in the writer.

The reader is forked when the process has a single thread (cheap, nothing to
re-import) and spawned otherwise (forking a threaded process can deadlock).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Generator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tgstats.errors import TgstatsError
from tgstats.importer.produce import Event, produce

__all__ = ["MIN_PIPELINE_BYTES", "ReaderProcessError", "produce_in_child"]

# Below this size a second process saves less than it costs to start (a spawn
# re-imports the package: ~0.5 s); about 15,000 messages.
MIN_PIPELINE_BYTES = 4 << 20

_PR_SET_PDEATHSIG = 1


class ReaderProcessError(TgstatsError):
    """The reader process failed in an unexpected way (its traceback is in the message)."""


def produce_in_child(
    path: Path, *, chat_id: int | None, tz: ZoneInfo, batch_size: int
) -> Generator[Event, None, None]:
    """:func:`produce`'s events, computed in a reader process.

    Close the iterator (``contextlib.closing``) if it is not read to the end:
    that stops the reader.
    """
    single = threading.active_count() == 1
    context: Any = multiprocessing.get_context(
        "fork" if single and "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child,
        args=(sender, os.getpid(), path, chat_id, tz, batch_size),
        name="tgstats-import-reader",
        daemon=True,
    )
    # The reader starts with SIGINT ignored (a fork or spawn inherits that), so a
    # Ctrl-C that reaches the whole process group only interrupts the writer.
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        process.start()
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)
        sender.close()
    try:
        while True:
            try:
                event = receiver.recv()
            except EOFError:
                process.join()
                raise ReaderProcessError(
                    f"{path}: the import's reader process ended unexpectedly "
                    f"(exit code {process.exitcode})"
                ) from None
            if event[0] == "crash":
                raise _unpickled(event[1])
            yield event
            if event[0] in ("done", "error"):
                break
    finally:
        receiver.close()
        if process.is_alive():
            process.terminate()
        process.join()


def _child(
    sender: multiprocessing.connection.Connection,
    parent: int,
    path: Path,
    chat_id: int | None,
    tz: ZoneInfo,
    batch_size: int,
) -> None:
    _die_with_parent(parent)
    try:
        for event in produce(path, chat_id=chat_id, tz=tz, batch_size=batch_size):
            sender.send(event)
    except (BrokenPipeError, ConnectionResetError):
        return  # the writer is gone (interrupted or killed): nothing left to do
    except BaseException as error:
        with contextlib.suppress(OSError):
            sender.send(("crash", _portable(error)))
    finally:
        sender.close()


def _portable(error: BaseException) -> bytes:
    """The exception pickled, or a ReaderProcessError with its traceback if it won't pickle."""
    if isinstance(error, (TgstatsError, OSError)):
        try:
            return pickle.dumps(error)
        except Exception:
            pass
    text = "".join(traceback.format_exception(error)).rstrip()
    return pickle.dumps(ReaderProcessError(f"the import's reader process failed:\n{text}"))


def _unpickled(data: bytes) -> BaseException:
    error = pickle.loads(data)
    return error if isinstance(error, BaseException) else ReaderProcessError(repr(error))


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGTERM this process when the writer dies (elsewhere: the broken pipe)."""
    # SIGTERM's default action ends the process without Python cleanup: the
    # reader holds nothing that needs one.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the writer died before the request was made
        os._exit(0)
