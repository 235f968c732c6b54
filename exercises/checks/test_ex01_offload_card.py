"""Check for exercise 01: the card is rendered while the event loop keeps ticking."""
import asyncio
import inspect

import pytest

pytestmark = pytest.mark.exercise
CPU_WORK_MS = 300
TICK_SECONDS = 0.005


@pytest.fixture
def ex(exercise):
    return exercise("ex01_offload_card")


async def count_ticks_while(awaitable):
    """Await `awaitable` while a second coroutine ticks; return its result and the tick count."""
    ticks = 0
    done = asyncio.Event()

    async def ticker():
        nonlocal ticks
        while not done.is_set():
            await asyncio.sleep(TICK_SECONDS)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0)  # let the ticker start
    result = await awaitable
    done.set()
    await ticking
    return result, ticks


def test_the_loop_keeps_running_while_the_card_renders(ex):
    assert inspect.iscoroutinefunction(ex.render_card_off_the_loop), "write it as `async def`"
    card, ticks = asyncio.run(count_ticks_while(ex.render_card_off_the_loop("Zoë", CPU_WORK_MS)))
    assert card[:8] == b"\x89PNG\r\n\x1a\n", "expected the PNG bytes of the card"
    # A blocked loop ticks once or twice in 300 ms; a free one about 60 times.
    assert ticks >= 10, f"the event loop ticked only {ticks} times while the card rendered: it was blocked"


def test_no_cpu_work_means_no_card(ex):
    assert asyncio.run(ex.render_card_off_the_loop("Zoë", 0)) is None
