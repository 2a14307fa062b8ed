"""Audio and video derivatives: derive_av's throughput against raw PyAV, and its peak memory, short against long.

Inputs are written by samples/mediafiles/av.py into a temporary directory (no downloads):

- throughput, video: a 20-second 960 × 540, 25 fps H.264/AAC MP4 (a moving colour pattern and a tone);
  audio: a 120-second 44.1 kHz stereo FLAC tone.
- memory: a 10-second and a 20-minute (`WENYUAN_BENCH_AV_LONG_MIN`) 160 × 90, 2 fps H.264/AAC MP4 (the long
  one cheap to make: low resolution and frame rate, but every second of its 44.1 kHz stereo AAC sound decoded
  and re-encoded), and a 10-second and a 20-minute FLAC; for the videos also the peaks of demux alone, demux +
  decode and the raw rendition loop, which say where a peak comes from.

Raw PyAV is the same rendition in one loop and nothing else: demux, decode, scale to the rendition's size
(`VideoFrame.reformat`), encode with the same libx264 and AAC settings, mux with faststart. derive_av does that
and also the keyframes, poster, contact sheet (video) or the waveform (audio). Each run is timed three times,
alternating raw and derive, and the fastest is kept (the machine is shared). Media seconds
processed per wall-clock second are reported, and their ratio derive ÷ raw.

Peak memory is each input's `inspect_av` + `derive_av` in a fresh Python process (its own VmHWM), next to
a process that imports the same modules and does nothing (the floor).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av

from samples.mediafiles import av as files
from services.ingest.media_av import derive_av, inspect_av
from services.ingest.media_kinds import DeriveParams, MediaLimits
from services.settings import Settings
from tests.bench.peaks import in_fresh_process, own_peak_kib

LIMITS = MediaLimits(max_bytes=4 * 2**30, max_pixels=100_000_000, max_duration_s=4 * 3600, max_pages=2000,
                     max_faces=5_000_000)
LONG_S = int(os.environ.get("WENYUAN_BENCH_AV_LONG_MIN", "20")) * 60  # the long inputs' length
SMALL = (160, 90)


def _log(msg: str) -> None:
    print(f"[bench media_av] {msg}", file=sys.stderr, flush=True)


def params_from(settings: Settings | None) -> DeriveParams:
    if settings is None:
        return DeriveParams()
    media = settings.media
    return replace(DeriveParams(), keyframes=media.keyframes, contact_sheet_columns=media.contact_sheet_columns,
                   rendition_height=media.rendition_height, video_bitrate=media.video_bitrate,
                   audio_bitrate=media.audio_bitrate, waveform_size=media.waveform_size)


def raw_rendition(source: Path, target: Path, params: DeriveParams) -> None:
    """The web rendition and nothing else, with PyAV directly: the baseline derive_av is measured against."""
    with av.open(str(source)) as src, av.open(str(target), "w", format="mp4",
                                              options={"movflags": "faststart"}) as out:
        video_in = src.streams.video[0] if src.streams.video else None
        audio_in = src.streams.audio[0] if src.streams.audio else None
        video_out = audio_out = None
        if video_in is not None:
            video_in.thread_type = "AUTO"
            fps = min(Fraction(video_in.average_rate or 25), Fraction(30))
            height = min(params.rendition_height, video_in.codec_context.height)
            width = round(video_in.codec_context.width * height / video_in.codec_context.height) // 2 * 2
            video_out = out.add_stream("libx264", rate=fps)
            video_out.width, video_out.height, video_out.pix_fmt = width, height - height % 2, "yuv420p"
            video_out.bit_rate = params.video_bitrate
            video_out.options = {"preset": "veryfast", "profile": "main", "g": str(2 * round(fps)),
                                 "maxrate": str(params.video_bitrate * 3 // 2),
                                 "bufsize": str(params.video_bitrate * 2)}
        if audio_in is not None:
            audio_out = out.add_stream("aac", rate=audio_in.codec_context.sample_rate, layout="stereo")
            audio_out.bit_rate = params.audio_bitrate
        for packet in src.demux(*[s for s in (video_in, audio_in) if s is not None]):
            for frame in packet.decode():
                if isinstance(frame, av.VideoFrame) and video_out is not None:
                    scaled = frame.reformat(width=video_out.width, height=video_out.height, format="yuv420p")
                    scaled.pts, scaled.time_base = round((frame.time or 0) * fps), 1 / fps
                    out.mux(video_out.encode(scaled))
                elif isinstance(frame, av.AudioFrame) and audio_out is not None:
                    out.mux(audio_out.encode(frame))
        for stream in (video_out, audio_out):
            if stream is not None:
                out.mux(stream.encode(None))


def throughput(folder: Path, params: DeriveParams) -> list[tuple[str, float, float, float]]:
    """(input, media seconds, derive_av media-s per s, raw PyAV media-s per s) for a video and an audio file."""
    rows = []
    _log("writing the throughput inputs")
    inputs = [("video 960×540 25 fps H.264/AAC, 20 s", files.mp4(folder / "t.mp4", 20.0, size=(960, 540), fps=25)),
              ("audio 44.1 kHz stereo FLAC, 120 s", files.flac(folder / "t.flac", 120.0))]
    for label, path in inputs:
        facts = inspect_av(path, LIMITS)
        seconds = float(facts.technical["duration_s"])
        raw_s, derive_s = [], []
        for attempt in range(3):  # alternate, so a busy moment on the shared machine hits both
            started = time.perf_counter()
            raw_rendition(path, folder / f"raw-{attempt}.mp4", params)
            raw_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            derive_av(path, facts, folder / f"derived-{path.suffix[1:]}-{attempt}", params)
            derive_s.append(time.perf_counter() - started)
        rows.append((label, seconds, seconds / min(derive_s), seconds / min(raw_s)))
        _log(f"{label}: derive {min(derive_s):.2f} s, raw {min(raw_s):.2f} s")
    return rows


def _demux(source: Path) -> None:
    with av.open(str(source)) as src:
        for _ in src.demux():
            pass


def _decode(source: Path) -> None:
    with av.open(str(source)) as src:
        for packet in src.demux():
            for _ in packet.decode():
                pass


def _derive(source: Path) -> None:
    facts = inspect_av(source, LIMITS)
    with tempfile.TemporaryDirectory() as out:
        derive_av(source, facts, Path(out), DeriveParams())


def _raw(source: Path) -> None:
    with tempfile.TemporaryDirectory() as out:
        raw_rendition(source, Path(out) / "raw.mp4", DeriveParams())


STAGES = {"derive": _derive, "demux": _demux, "decode": _decode, "raw": _raw}


def _child(arg: str) -> None:
    """In a fresh process: one stage on one file (`stage:path`; `-` alone does nothing), then the peak RSS as JSON."""
    started = time.perf_counter()
    if arg != "-":
        stage, _, path = arg.partition(":")
        STAGES[stage](Path(path))
    print(json.dumps({"peak_mib": own_peak_kib() / 1024, "seconds": time.perf_counter() - started}))


def peak_memory(folder: Path) -> list[tuple[str, float, float]]:
    """(input, peak RSS MiB, seconds) for each input in its own process; the first row is the import floor.
    For the videos also where a peak comes from: demux alone, demux + decode, the raw PyAV rendition loop."""
    _log(f"writing the memory inputs (two of {LONG_S // 60} minutes)")
    videos = [("video 160×90 2 fps, 10 s", files.mp4(folder / "short.mp4", 10.0, size=SMALL, fps=2)),
              (f"video 160×90 2 fps, {LONG_S // 60} min", files.mp4(folder / "long.mp4", LONG_S, size=SMALL, fps=2))]
    inputs = [("imports only (floor)", "-")]
    for label, path in videos:
        inputs += [(label, f"derive:{path}"), (f"{label}: demux only", f"demux:{path}"),
                   (f"{label}: demux + decode", f"decode:{path}"), (f"{label}: raw PyAV rendition", f"raw:{path}")]
    inputs += [("audio FLAC stereo, 10 s", f"derive:{files.flac(folder / 'short.flac', 10.0)}"),
               (f"audio FLAC stereo, {LONG_S // 60} min", f"derive:{files.flac(folder / 'long.flac', LONG_S)}")]
    rows = []
    for label, arg in inputs:
        result = in_fresh_process("tests.bench.media_av", arg)
        rows.append((label, result["peak_mib"], result["seconds"]))
        _log(f"{label}: {result['peak_mib']:.0f} MiB, {result['seconds']:.1f} s")
    return rows


def measure(settings: Settings | None = None, *, speed_too: bool = True) -> str:
    params = params_from(settings)
    with tempfile.TemporaryDirectory(prefix="bench-media-av-") as tmp:
        folder = Path(tmp)
        speed = throughput(folder, params) if speed_too else []
        memory = peak_memory(folder)
    load = os.getloadavg()
    lines = [f"Rendition {params.rendition_height} px at {params.video_bitrate // 1000} kbit/s video, "
             f"{params.audio_bitrate // 1000} kbit/s AAC; {params.keyframes} keyframes. Load average at the end "
             f"{load[0]:.1f} / {load[1]:.1f} on {len(os.sched_getaffinity(0))} cores.", "",
             "| input | media s | derive_av (media s / s) | raw PyAV rendition (media s / s) | derive ÷ raw |",
             "|---|---:|---:|---:|---:|"]
    lines += [f"| {label} | {seconds:.0f} | {ours:.1f} | {raw:.1f} | {ours / raw:.2f} |"
              for label, seconds, ours, raw in speed]
    lines += ["", "| inspect + derive in a fresh process | peak RSS (MiB) | seconds |", "|---|---:|---:|"]
    lines += [f"| {label} | {peak:.0f} | {seconds:.1f} |" for label, peak, seconds in memory]
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child(sys.argv[2])
    else:  # `--memory`: the peaks only (WENYUAN_BENCH_AV_LONG_MIN=60 for an hour of video)
        print(measure(speed_too=sys.argv[1:] != ["--memory"]))
