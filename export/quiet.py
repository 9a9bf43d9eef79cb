"""Third-party chatter goes to a log file: the terminal shows edgefc's progress display and table only.

llama.cpp writes its per-tensor quantize lines from C (file descriptor 2), optimum and transformers write
warnings and tqdm bars from Python; both kinds are redirected for the length of an export.
"""

from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def chatter_to(log: Path) -> Iterator[None]:
    """Send file descriptors 1 and 2, sys.stdout/sys.stderr and the llama.cpp log to `log` (appending);
    edgefc's progress console keeps writing to the terminal (edgefc.cli.progress draws its bars there)."""
    from edgefc.progress import console

    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    terminal = os.fdopen(os.dup(saved[2]), "w", buffering=1, encoding="utf-8", errors="replace")
    log_file = log.open("a", buffering=1, encoding="utf-8", errors="replace")
    streams = (sys.stdout, sys.stderr)
    llama_logger = logging.getLogger("llama-cpp-python")  # llama-cpp-python prints llama.cpp's log by level
    llama_level = llama_logger.level
    try:
        for fd in (1, 2):
            os.dup2(log_file.fileno(), fd)
        sys.stdout = sys.stderr = log_file
        console.file = terminal
        llama_logger.setLevel(logging.INFO)
        yield
    finally:
        llama_logger.setLevel(llama_level)
        console.file = None  # back to following sys.stderr, as edgefc.progress made it
        sys.stdout, sys.stderr = streams
        log_file.flush()
        for fd in (1, 2):
            os.dup2(saved[fd], fd)
            os.close(saved[fd])
        log_file.close()
        terminal.close()


@contextmanager
def transformers_quiet() -> Iterator[None]:
    """No tqdm bars ("Loading checkpoint shards") and errors only from transformers, restored afterwards."""
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
