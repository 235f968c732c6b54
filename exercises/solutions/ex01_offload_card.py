"""Exercise 01, a solution: hand the CPU work to a thread and await it."""
import asyncio

from demo_app.welcome_card import render_card_for


async def render_card_off_the_loop(name: str, cpu_work_ms: int) -> bytes | None:
    # The loop thread only waits for the result; a pool thread does the rendering.
    # (Pillow releases the GIL in most of its C code; pure-Python CPU work would still
    # share the GIL with the loop, and would need a process instead.)
    return await asyncio.to_thread(render_card_for, name, cpu_work_ms)
