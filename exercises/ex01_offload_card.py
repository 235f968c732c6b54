"""Exercise 01 (lesson 01): take the CPU-bound welcome card off the event loop.

`demo_app.welcome_card.render_card_for(name, cpu_work_ms)` renders a PNG and spends
`cpu_work_ms` milliseconds of CPU doing it. Called from an `async def` handler, it
freezes the event loop for that long, even in `mode=await`.

Write `render_card_off_the_loop` so that it returns the same kind of result (PNG bytes,
or None when cpu_work_ms is 0) while the event loop keeps running other coroutines.
"""
from demo_app.welcome_card import render_card_for  # noqa: F401  (you will need it)


async def render_card_off_the_loop(name: str, cpu_work_ms: int) -> bytes | None:
    raise NotImplementedError("exercise 01: render the card without blocking the event loop")
