"""Peak memory of the image pipeline for very large photos: a 10000x10000 (100-megapixel) JPEG
and PNG (RGB and RGBA; WebP on request) generated with Pillow, each processed by ``images.prepare_photo`` in a
fresh subprocess that reports its peak RSS (``ru_maxrss``) before and after. Pillow allocates
pixel memory outside tracemalloc, so the operating system's figure is the honest one.
Prints the figures; asserts nothing (tests/test_images.py asserts the JPEG bound).
Usage (from the project root): .venv/bin/python -m bench.photo_memory [--side 10000]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("jpeg", "progressive", "rgb", "rgba", "webp")

# Run in the child: the app's imports first (the baseline), then one photo through the pipeline.
CHILD = """
import json, resource, sys, tempfile, time
from app import create_app
from app.galleries import images

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

path, max_pixels, budget = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": "sqlite://"},
                 instance_path=tempfile.mkdtemp(prefix="proofsheet-bench-"))
limits = images.Limits(max_bytes=200 * 1024 * 1024, max_pixels=max_pixels, thumbnail_size=480,
                       preview_size=1600)
if hasattr(limits, "max_decoded_bytes"):
    limits.max_decoded_bytes = budget
with app.app_context(), open(path, "rb") as handle:
    data = handle.read()
    before = peak_mb()
    started = time.perf_counter()
    try:
        prepared = images.prepare_photo(data, path, "Northlight Studio", limits)
        outcome = f"ok {prepared.width}x{prepared.height}"
    except images.PhotoRejected as refused:
        outcome = "refused: " + refused.message
    seconds = time.perf_counter() - started
print(json.dumps({"before_mb": before, "peak_mb": peak_mb(), "seconds": seconds,
                  "outcome": outcome}))
"""


def make_sample(folder, kind, side):
    """A side x side photo-like image (gradient and noise, so it compresses like a photo)."""
    extension = {"jpeg": "jpg", "progressive": "jpg", "webp": "webp"}.get(kind, "png")
    path = folder / f"sample-{side}-{kind}.{extension}"
    image_format = {"jpeg": "JPEG", "progressive": "JPEG", "webp": "WEBP"}.get(kind, "PNG")
    if path.exists():
        return path
    script = f"""
from PIL import Image
side = {side}
base = Image.linear_gradient("L").resize((side, side))
noise = Image.effect_noise((side // 4, side // 4), 40).resize((side, side))
if {kind!r} == "webp":  # libwebp's first partition overflows on that much noise at this size
    noise = base.transpose(Image.Transpose.ROTATE_180)
image = Image.merge("RGB", (base, noise, base.transpose(Image.Transpose.ROTATE_90)))
if {kind!r} == "rgba":
    image.putalpha(base.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
image.save({str(path)!r}, {image_format!r}, quality=90, compress_level=1, method=0,
           progressive={kind == "progressive"})
"""
    subprocess.run([sys.executable, "-c", script], check=True)
    return path


def measure(path, max_pixels, budget):
    """The child's figures for one file (a fresh process each: peak RSS only ever grows)."""
    answer = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(max_pixels), str(budget)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=10_000)
    parser.add_argument(
        "--budget-mb",
        type=int,
        default=256,
        help="MAX_PHOTO_DECODE_BYTES for the run, in MB (where the code has it)",
    )
    parser.add_argument(
        "--kinds",
        default="jpeg,progressive,rgb,rgba",
        help="jpeg, progressive (JPEG), rgb (PNG), rgba (PNG), webp: comma-separated",
    )
    parser.add_argument("--folder", default=str(Path(tempfile.gettempdir()) / "proofsheet-bench"))
    args = parser.parse_args()
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    pixels = args.side * args.side
    print(f"{args.side}x{args.side} ({pixels / 1e6:g} MP); peak RSS of a fresh process, MB")
    print(f"{'file':<10}{'size MB':>9}{'baseline':>10}{'peak':>8}{'delta':>8}{'seconds':>9}  outcome")
    for kind in args.kinds.split(","):
        if kind not in KINDS:
            parser.error(f"unknown kind {kind!r}: choose from {', '.join(KINDS)}")
        started = time.perf_counter()
        path = make_sample(folder, kind, args.side)
        if time.perf_counter() - started > 1:
            print(f"  (generated {path.name} in {time.perf_counter() - started:.1f} s)")
        figures = measure(path, max(pixels, 100_000_000), args.budget_mb * 1024 * 1024)
        print(
            f"{kind:<10}{path.stat().st_size / 1e6:>9.1f}{figures['before_mb']:>10.0f}"
            f"{figures['peak_mb']:>8.0f}{figures['peak_mb'] - figures['before_mb']:>8.0f}"
            f"{figures['seconds']:>9.2f}  {figures['outcome'][:110]}"
        )


if __name__ == "__main__":
    main()
