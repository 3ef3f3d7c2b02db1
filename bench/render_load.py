"""Renders 9:16 videos back to back until killed, the way a worker's render slot does (ffmpeg
and the render thread at the renderer's CPU priority): load for the web benchmark.

    python -m bench.render_load [--niceness 10]
"""

from __future__ import annotations

import argparse
import io
import tempfile
from pathlib import Path

from PIL import Image

from webapp.render import RenderSpec, ffmpeg, lower_thread_priority, render


def photo(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 1200), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--niceness", type=int, default=ffmpeg.RENDER_NICENESS)
    niceness = parser.parse_args().niceness
    ffmpeg.RENDER_NICENESS = niceness
    lower_thread_priority(niceness)
    with tempfile.TemporaryDirectory() as folder:
        images = []
        for index, colour in enumerate(((200, 80, 60), (60, 120, 200), (90, 160, 90))):
            path = Path(folder) / f"{index}.jpg"
            path.write_bytes(photo(colour))
            images.append(path)
        spec = RenderSpec(recipe="product_showcase", images=tuple(images), title="Load", aspect_ratio="9:16",
                          duration=30.0)
        while True:
            render(spec, Path(folder) / "out.mp4", Path(folder) / "out.jpg")


if __name__ == "__main__":
    main()
