"""The CPU-bound part of the job: render a welcome card image with Pillow.

CPU_WORK_MS sets how much CPU time the card costs: the card is re-rendered at
a higher quality until this thread has spent that long on the CPU. With the
default of 0 no card is made and the job is pure I/O.
"""
import io
import time

from PIL import Image, ImageDraw, ImageFilter, ImageFont

CARD_SIZE = (640, 320)


def render_card(name: str) -> bytes:
    card = Image.new("RGB", CARD_SIZE, "#1f6feb")
    draw = ImageDraw.Draw(card)
    draw.text((40, 120), f"Welcome, {name}!", fill="white", font=ImageFont.load_default(36))
    card = card.filter(ImageFilter.GaussianBlur(1)).resize((320, 160), Image.Resampling.LANCZOS)
    png = io.BytesIO()
    card.save(png, format="PNG")
    return png.getvalue()


def render_card_for(name: str, cpu_work_ms: int) -> bytes | None:
    """Render the card until `cpu_work_ms` of this thread's CPU time is spent."""
    if cpu_work_ms <= 0:
        return None
    deadline = time.thread_time() + cpu_work_ms / 1000
    card = render_card(name)
    while time.thread_time() < deadline:
        card = render_card(name)
    return card
