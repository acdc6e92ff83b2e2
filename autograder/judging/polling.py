"""Waiting on a kernel's channels in short slices: the fix of jupyter/nbclient#312.

After a cell that displays an ipywidget, nbclient sometimes does not notice the kernel's
``execute_reply`` until the cell timeout, the kernel idle all along. Waiting on the channels in short
slices instead of one long wait removes it. Every executor of the project (grading, Validate,
``make check``, the test suite) mixes ``PolledReplies`` in. This module imports nothing heavy, so the
validation process a learner waits for does not load torch for it.
"""
from __future__ import annotations

import asyncio
from queue import Empty
from time import monotonic

from jupyter_core.utils import ensure_async
from nbclient.exceptions import CellExecutionComplete, CellTimeoutError
from nbformat.v4 import new_output


class PolledReplies:
    """Mixin for NotebookClient subclasses: wait for replies and outputs in short slices."""

    poll_slice = 0.1  # seconds per wait on a kernel channel

    async def _async_poll_for_reply(self, msg_id, cell, timeout, task_poll_output_msg, task_poll_kernel_alive):
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            # The limit is checked on every message, not only when the channel is quiet: a kernel
            # that keeps sending messages of its own must not outlive it.
            if deadline is not None and monotonic() >= deadline:
                task_poll_kernel_alive.cancel()
                await self._async_check_alive()
                msg = await self._async_handle_timeout(timeout, cell)
                if msg is None:  # interrupted; give the kernel another period to answer
                    deadline = monotonic() + timeout
                    continue
                msg["parent_header"] = {"msg_id": msg_id}
            else:
                try:
                    msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=self.poll_slice))
                except Empty:
                    continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            try:
                await asyncio.wait_for(task_poll_output_msg, self.iopub_timeout)
            except (asyncio.TimeoutError, Empty):
                if self.raise_on_iopub_timeout:
                    task_poll_kernel_alive.cancel()
                    raise CellTimeoutError.error_from_timeout_and_cell(
                        "Timeout waiting for IOPub output", self.iopub_timeout, cell) from None
                self.log.warning("Timeout waiting for IOPub output")
            task_poll_kernel_alive.cancel()
            return msg

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        received = 0
        while True:
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=self.poll_slice))
            except Empty:
                continue
            if msg["parent_header"].get("msg_id") != parent_msg_id:
                continue
            if msg["msg_type"] in OUTPUT_TYPES:
                # Outputs held in memory while a cell runs are capped too (what is kept is capped
                # later, much lower): a kernel printing for its whole time limit cannot exhaust the grader.
                received += _rough_size(msg["content"])
                if received > MAX_CELL_OUTPUT_CHARS:
                    if received - _rough_size(msg["content"]) <= MAX_CELL_OUTPUT_CHARS:
                        cell.setdefault("outputs", []).append(new_output(
                            "stream", name="stderr", text=f"[output past {MAX_CELL_OUTPUT_CHARS:,} characters was not kept]\n"))
                    continue
            try:
                self.process_message(msg, cell, cell_index)
            except CellExecutionComplete:
                return


MAX_CELL_OUTPUT_CHARS = 64 * 2**20  # of output messages one cell may send before the rest is dropped
OUTPUT_TYPES = {"stream", "display_data", "execute_result", "update_display_data", "error"}


def _rough_size(content: dict) -> int:
    """About how many characters an output message holds (its text and data), without serialising it."""
    size = len(str(content.get("text", ""))) + len(str(content.get("evalue", ""))) + len(str(content.get("traceback", "")))
    for value in (content.get("data") or {}).values():
        size += len(value) if isinstance(value, str) else len(str(value))
    return size
