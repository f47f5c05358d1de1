"""How fast photos are processed off the request (issue 20): one 24-megapixel JPEG against
Pillow's own floor, and a school day through the worker pool.

1. Makes a 6000x4000 JPEG (gradients, shapes, sensor-like noise, quality 90, EXIF date).
2. The floor: Pillow opening and decoding it whole, then one resize to the preview's size
   (Pillow's defaults), median of several runs.
3. Ours: ``processing.render`` on the same file (read, verify, decode drafted, upright, the
   2,048 px copy for the card matching, watermarked preview, thumbnail, two JPEG encodes, EXIF
   taken_at), median of several runs; the target is at most twice the floor.
4. A batch of photos (rows and files made like uploads) through ``processing.process_pending``
   with the worker pool (default: 2 workers, as on a 2-core machine), including the database
   writes; extrapolated to a 2,000-photo school day (target: under 30 minutes). Each worker then
   reports its peak memory (``ru_maxrss``).

Prints the figures; asserts nothing.
Usage (from the project root): .venv/bin/python -m bench.photo_processing [--batch 24] [--workers 2]
"""

import contextlib
import dataclasses
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw, ImageFilter  # noqa: E402

from bench.common import bench_app, parse_args  # noqa: E402

SIZE = (6000, 4000)
SCHOOL_DAY = 2000
RUNS = 5


def make_camera_jpeg(path):
    """A 24-megapixel photo that compresses like a real one: smooth gradients, hard edges and
    fine noise (a flat or pure-noise image would flatter or punish the decoder)."""
    width, height = SIZE
    base = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize(SIZE),
            Image.radial_gradient("L").resize(SIZE),
            Image.linear_gradient("L").rotate(90).resize(SIZE),
        ),
    )
    draw = ImageDraw.Draw(base)
    for index in range(40):
        left, top = (index * 977) % width, (index * 613) % height
        colour = ((index * 53) % 256, (index * 97) % 256, (index * 31) % 256)
        draw.ellipse((left, top, left + 400 + index * 10, top + 300 + index * 7), fill=colour)
    base = base.filter(ImageFilter.GaussianBlur(1))
    noise = Image.effect_noise(SIZE, 40).convert("RGB")
    photo = Image.blend(base, noise, 0.2)  # about 8 MB at quality 90, as a camera writes
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2026:05:14 09:31:07"
    photo.save(path, "JPEG", quality=90, exif=exif.tobytes())


def pillow_floor(path, preview_size):
    """Pillow's own decode of the whole file and one resize to the preview's size."""
    with Image.open(path) as image:
        image.load()
        scale = preview_size / max(image.size)
        image.resize((round(image.width * scale), round(image.height * scale))).close()


def add_processing_photos(gallery, original, count, now):
    """``count`` photo rows "processing", each with its original on disk, as uploads leave them."""
    from app.extensions import db
    from app.galleries import storage
    from app.galleries.models import Photo, PhotoState

    for index in range(count):
        photo = Photo(
            gallery_id=gallery.id,
            storage_key=uuid.uuid4().hex,
            original_filename=f"IMG_{index:04d}.jpg",
            content_type="image/jpeg",
            width=0,
            height=0,
            byte_size=original.stat().st_size,
            position=index,
            created_at=now,
            processing_state=PhotoState.PROCESSING,
        )
        path = storage.photo_file(photo, "original", studio_id=gallery.studio_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.link(original, path)
        db.session.add(photo)
    db.session.commit()


def worker_figures(_index):
    """Run in a worker: its pid, peak resident memory (MB) by ``ru_maxrss`` and by the kernel's
    VmHWM, and the CPU seconds it has used. Sleeps so that every worker answers at least once.

    Linux carries ``ru_maxrss`` over from the parent a worker was forked from (before it ran
    Python afresh), so a worker of a large parent reports at least the parent's peak; VmHWM
    belongs to the worker's own memory only."""
    time.sleep(0.3)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    hwm = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    return os.getpid(), (usage.ru_maxrss / 1024, hwm, usage.ru_utime + usage.ru_stime)


def interleaved_medians(first, second, runs=RUNS):
    """Median (wall, CPU) seconds of two functions run alternately: a shared machine's load hits
    both alike, and CPU time (all of it single-threaded work) hardly depends on that load."""
    timings = ([], [], [], [])
    for _ in range(runs):
        for function, wall, cpu in ((first, timings[0], timings[1]), (second, timings[2], timings[3])):
            started, started_cpu = time.perf_counter(), time.process_time()
            function()
            wall.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
    return [statistics.median(series) for series in timings]


def main():
    args = parse_args(
        __doc__.splitlines()[0],
        batch=(int, 24, "photos processed through the worker pool"),
        workers=(int, 2, "worker processes (the target machine has 2 cores)"),
    )
    with tempfile.TemporaryDirectory(prefix="proofsheet-bench-photo-") as folder:
        run(args, Path(folder) / "camera.jpg")


def run(args, original):
    from app import timeutil
    from app.extensions import db
    from app.galleries import images, processing
    from app.galleries.cards import create_cards
    from tests import factories

    make_camera_jpeg(original)
    print(f"Photo: {SIZE[0]}x{SIZE[1]} JPEG, quality 90, {original.stat().st_size / 1e6:.1f} MB")

    with bench_app(args.db) as app:
        limits = images.Limits.from_config()
        job = processing.RenderJob(0, str(original), "camera.jpg", "Northlight Studio", "en", limits)
        floor, floor_cpu, ours, ours_cpu = interleaved_medians(
            lambda: pillow_floor(original, limits.preview_size), lambda: processing.render(job)
        )
        rendered = processing.render(job)
        assert rendered.error is None, rendered.error
        print(
            f"Pillow's floor (decode whole + one resize to {limits.preview_size} px): "
            f"{floor_cpu * 1000:.0f} ms CPU ({floor * 1000:.0f} ms wall)"
        )
        print(
            f"Our processing of the same file: {ours_cpu * 1000:.0f} ms CPU ({ours * 1000:.0f} ms wall) "
            f"= {ours_cpu / floor_cpu:.2f} x the floor in CPU time, {ours / floor:.2f} x in wall time "
            "(target <= 2.00)"
        )
        print(
            f"  preview {len(rendered.preview) // 1024} KB, thumbnail {len(rendered.thumb) // 1024} KB, "
            f"taken_at {rendered.taken_at}"
        )
        # A school day's gallery is a QR gallery: each photo's card codes are read too.
        qr_job = dataclasses.replace(job, read_codes=True)
        _floor, floor_cpu, _ours, qr_cpu = interleaved_medians(
            lambda: pillow_floor(original, limits.preview_size), lambda: processing.render(qr_job)
        )
        print(
            f"The same in a QR gallery (a 2,048 px copy decoded and its QR codes read): "
            f"{qr_cpu * 1000:.0f} ms CPU = {qr_cpu / floor_cpu:.2f} x the floor"
        )

        owner = factories.make_owner()
        gallery = factories.make_gallery(owner.studio, title="School day", is_qr=True)
        create_cards(gallery, ["Emma"], timeutil.now())
        add_processing_photos(gallery, original, args.batch, timeutil.now())
        started = time.perf_counter()
        pool = processing.make_worker_pool(app, workers=args.workers)
        before = dict(pool.map(worker_figures, range(args.workers * 4)))  # the workers are up
        startup = time.perf_counter() - started
        started = time.perf_counter()
        ready = 0
        while True:
            result = processing.process_pending(timeutil.now(), executor=pool, limit=4 * args.workers)
            ready += result.ready
            if not (result.ready or result.failed or result.lost):
                break
        batch_seconds = time.perf_counter() - started
        after = dict(pool.map(worker_figures, range(args.workers * 4)))
        pool.shutdown()
        db.session.remove()
        shutil.rmtree(app.instance_path, ignore_errors=True)  # its database and photos

    per_photo = batch_seconds / max(ready, 1)
    day_minutes = per_photo * SCHOOL_DAY / 60 + startup / 60
    cpu = sum(after[pid][2] - before.get(pid, (0, 0, 0))[2] for pid in after)
    cpu_per_photo = cpu / max(ready, 1)
    print(f"Worker pool: {args.workers} workers started in {startup:.1f} s")
    print(
        f"Batch: {ready} of {args.batch} photos ready in {batch_seconds:.1f} s "
        f"({per_photo * 1000:.0f} ms a photo overall, {ready / batch_seconds:.2f} photos/s), "
        "database included"
    )
    print(f"School day of {SCHOOL_DAY:,} photos, extrapolated: {day_minutes:.1f} minutes (target < 30)")
    print(
        f"Workers' CPU time: {cpu_per_photo * 1000:.0f} ms a photo; on {args.workers} cores of their own "
        f"a school day takes {cpu_per_photo * SCHOOL_DAY / args.workers / 60:.1f} minutes of worker time "
        f"(load average now {os.getloadavg()[0]:.1f}: the machine is shared)"
    )
    for pid, (maxrss, hwm, _cpu) in sorted(after.items()):
        start_hwm = before.get(pid, (0, None, 0))[1]
        own = f", VmHWM {hwm:.0f} MB (its own; {start_hwm:.0f} MB once started)" if hwm and start_hwm else ""
        print(f"Peak memory of worker {pid}: ru_maxrss {maxrss:.0f} MB{own}")
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Peak memory of this (scheduler) process, which made the 24-megapixel test photo: {parent:.0f} MB")


if __name__ == "__main__":
    main()
