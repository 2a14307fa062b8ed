"""Documents: `derive_document`'s pages per second against the raw PDFium loop, and its peak memory by length.

The raw loop does the same work with pypdfium2 alone, in one loop without our lock or checks: open, and per
page render at the same scale (page_px on the longest side, at most 300 dpi), save the same JPEG, read the
text layer, close. Ours adds the module lock, the bitmap copy that lets the JPEG be encoded outside the lock,
the text file and the surrogates. The raw loop frees each page's picture as soon as it is saved, before the next
bitmap is allocated; ours keeps it until the next page replaces it, which saves the allocator handing the
memory back and faulting it in again (the main reason ours can be the faster of the two).

Each run is a fresh child process (`--child`), after a 2-page warm-up, so its peak resident memory (VmHWM) is
its own: flat memory means a 500-page PDF peaks where a 50-page one does. Pages/s is the best of `--repeat`
runs, ours and raw taking turns (the machine is shared). The PDFs are written by samples/mediafiles/documents.py:
text pages (a Chinese and English text layer) and scanned pages (a JPEG picture per page, no text layer).

    python -m tests.bench.media_documents [--pages 50,500] [--page-px 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from samples.mediafiles.documents import pdf_with_text, scanned_pdf
from services.settings import Settings, get_settings
from tests.bench.peaks import in_fresh_process, own_peak_kib

_JPEG_QUALITY = 90  # as services/ingest/media_document.py
_MAX_DPI = 300
_LINES = ["文渊阁本《四库全书》经部 易类 周易正义 卷{n}",
          "Wenyuan Pavilion copy of the Siku Quanshu, Classics, Book of Changes, juan {n}",
          "乾隆四十七年（1782）抄成 纸本 墨书 每半叶八行 行二十一字",
          "Manuscript, ink on paper, 8 columns of 21 characters per half folio; page {n}"]


def page_texts(count: int) -> list[str]:
    return ["\n".join(line.format(n=n) for line in _LINES * 6) for n in range(1, count + 1)]


def run_ours(path: Path, out_dir: Path, page_px: int) -> int:
    from services.ingest.media_document import derive_document, inspect_document
    from services.ingest.media_kinds import DeriveParams, MediaLimits

    limits = MediaLimits(max_bytes=1 << 32, max_pixels=1 << 30, max_duration_s=0, max_pages=2000, max_faces=0)
    facts = inspect_document(path, limits)
    return len(derive_document(path, facts, out_dir, DeriveParams(page_px=page_px)).surrogates)


def run_raw(path: Path, out_dir: Path, page_px: int) -> int:
    import pypdfium2 as pdfium

    out_dir.mkdir(parents=True, exist_ok=True)
    pdf = pdfium.PdfDocument(path)
    count = len(pdf)
    with (out_dir / "text.txt").open("w", encoding="utf-8") as text_out:
        for index in range(count):
            page = pdf[index]
            bitmap = page.render(scale=min(page_px / max(page.get_size()), _MAX_DPI / 72))
            bitmap.to_pil().save(out_dir / f"page-{index + 1:05d}.jpg", "JPEG", quality=_JPEG_QUALITY, optimize=True)
            textpage = page.get_textpage()
            text_out.write(textpage.get_text_bounded() + "\f")
            textpage.close()
            bitmap.close()
            page.close()
    pdf.close()
    return count


RUNNERS: dict[str, Callable[[Path, Path, int], int]] = {"ours": run_ours, "raw": run_raw}
_BUILDERS: dict[str, Callable[[Path, list[str]], Path]] = {"text": pdf_with_text, "scanned": scanned_pdf}


def child(runner: str, kind: str, path: Path, page_px: int) -> None:
    """One measured run in this process: prints seconds, pages, resident memory before and at peak (KiB)."""
    with tempfile.TemporaryDirectory() as out:
        # warm-up on a 2-page PDF of the same kind: imports, PDFium's font lookup, the JPEG encoder
        warm = Path(out) / "warm"
        RUNNERS[runner](_BUILDERS[kind](Path(out) / "warm.pdf", page_texts(2)), warm, page_px)
        before = own_peak_kib("VmRSS")
        started, cpu_started = time.perf_counter(), time.process_time()
        pages = RUNNERS[runner](path, Path(out) / "pages", page_px)
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    print(json.dumps({"seconds": seconds, "cpu_s": cpu_s, "pages": pages, "rss_before_kib": before,
                      "peak_kib": own_peak_kib("VmHWM")}))


@dataclass(frozen=True)
class Run:
    kind: str  # text or scanned
    pages: int
    runner: str  # ours or raw
    file_kib: int
    tries: int
    seconds: float  # the best try
    cpu_s: float  # the least CPU time (user + system) of the tries: steadier than wall time on a shared machine
    rss_before_kib: int
    peak_kib: int

    @property
    def rate(self) -> float:
        return self.pages / self.seconds


def measure_runs(page_counts: list[int], page_px: int, repeat: int = 1) -> list[Run]:
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, build in _BUILDERS.items():
            for count in page_counts:
                path = build(Path(tmp) / f"{kind}-{count}.pdf", page_texts(count))
                results: dict[str, list[dict[str, float]]] = {runner: [] for runner in RUNNERS}
                for _ in range(repeat):
                    for runner in RUNNERS:
                        results[runner].append(_spawn(runner, kind, path, page_px))
                for runner, tries in results.items():
                    runs.append(Run(kind, count, runner, path.stat().st_size // 1024, len(tries),
                                    seconds=min(t["seconds"] for t in tries), cpu_s=min(t["cpu_s"] for t in tries),
                                    rss_before_kib=int(max(t["rss_before_kib"] for t in tries)),
                                    peak_kib=int(max(t["peak_kib"] for t in tries))))
    return runs


def table(runs: list[Run], page_px: int) -> str:
    raw = {(r.kind, r.pages): r for r in runs if r.runner == "raw"}
    lines = [f"page_px {page_px}, JPEG q{_JPEG_QUALITY}; load average {os.getloadavg()[0]:.1f} at the end; "
             "each run a fresh process.", "",
             "| PDF | pages | file | runner | tries | best s | pages/s | ours ÷ raw | CPU ms/page | ours ÷ raw CPU "
             "| RSS before | peak RSS |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        mine = r.runner == "ours"
        ratio = f"{r.rate / raw[(r.kind, r.pages)].rate:.2f}" if mine else ""
        cpu_ratio = f"{r.cpu_s / raw[(r.kind, r.pages)].cpu_s:.2f}" if mine else ""
        lines.append(f"| {r.kind} | {r.pages} | {r.file_kib:,} KiB | {r.runner} | {r.tries} | {r.seconds:.1f} | "
                     f"{r.rate:.2f} | {ratio} | {1000 * r.cpu_s / r.pages:.0f} | {cpu_ratio} | "
                     f"{r.rss_before_kib // 1024} MiB | {r.peak_kib // 1024} MiB |")
    return "\n".join(lines)


def measure(settings: Settings) -> str:
    """`make bench` entry point (not registered in tests/bench/__main__.py yet)."""
    page_counts = [int(n) for n in os.environ.get("WENYUAN_BENCH_DOCUMENT_PAGES", "50,500").split(",")]
    return table(measure_runs(page_counts, settings.media.page_px, repeat=3), settings.media.page_px)


def _spawn(runner: str, kind: str, path: Path, page_px: int) -> dict[str, float]:
    return in_fresh_process("tests.bench.media_documents", runner, kind, str(path), str(page_px))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default="50,500", help="page counts, comma-separated")
    parser.add_argument("--page-px", type=int, default=get_settings().media.page_px)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each, best kept")
    parser.add_argument("--child", nargs=4, metavar=("RUNNER", "KIND", "PDF", "PAGE_PX"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        runner, kind, path, page_px = args.child
        child(runner, kind, Path(path), int(page_px))
        return
    runs = measure_runs([int(n) for n in args.pages.split(",")], args.page_px, args.repeat)
    print(table(runs, args.page_px))


if __name__ == "__main__":
    main()
