"""vLLM's OpenAI-compatible server on CPU, on loopback, for the tests that call it as a user's server would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# A small KV cache keeps the engine within a CI runner's memory; no hub, ever.
CPU_ENV = {"VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
ENGINE_TIMEOUT_S = 900


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def vllm_server(model: Path, log_path: Path, max_model_len: int) -> Iterator[str]:
    """vLLM's OpenAI-compatible server on a free loopback port, stopped (its whole group) on exit.

    This is the server `vllm serve` runs; the module is started directly because the `vllm`
    script of vllm-cpu 0.32 asks importlib.metadata for a distribution named "vllm" and dies.
    """
    port = free_port()
    command = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model),
               "--host", "127.0.0.1", "--port", str(port), "--max-model-len", str(max_model_len)]
    with log_path.open("w") as log:
        server = subprocess.Popen(command, env={**os.environ, **CPU_ENV}, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + ENGINE_TIMEOUT_S
        while True:
            assert server.poll() is None, f"vLLM server exited: {log_path.read_text()[-3000:]}"
            assert time.monotonic() < deadline, "vLLM server did not come up"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as health:
                    if health.status == 200:
                        break
            except OSError:
                time.sleep(2)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
