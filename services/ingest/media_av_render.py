"""What is made of a recording, in one decoding pass: the web rendition, keyframes, poster, contact sheet, waveform.

Every decoded frame goes straight on to the encoder and is dropped; only the few frames the pictures need are
kept (as small RGB images), and the waveform keeps two numbers per pixel column. So memory does not grow with
the length of the recording, and the pictures cost almost nothing beyond the rendition: the pass that
re-encodes the video also meets every moment a keyframe is wanted (no seeking, no second decode).

The rendition is what a browser plays everywhere: H.264 (yuv420p, main-profile-compatible) and AAC in an MP4 whose
moov atom comes first (`movflags=faststart`), so playback starts before the download ends. Audio alone goes to
AAC in an .m4a rather than MP3: at the same 96 kbit/s AAC sounds clearly better, every current browser plays
it, and the same faststart MP4 layout lets a player seek without reading the whole file. Frames are never
upscaled and never faster than 30 per second; anamorphic video (DV's non-square pixels) is shown at its
display aspect.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.error
import av.filter
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from schemas.access import Tier
from services.ingest.media import derivative_size
from services.ingest.media_kinds import Derived, DerivedFile, DeriveParams, Surrogate

__all__ = ["Recording", "render_audio", "render_video"]

logger = logging.getLogger(__name__)

_MAX_FPS = Fraction(30)
_AAC_RATES = frozenset({8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000})
_JPEG_QUALITY = 85
_POSTER_AT = 0.10  # of the duration: past fades and title cards, usually
_DARK_MEAN = 20  # mean luminance (0-255) under which a frame counts as (nearly) black
_SHEET_CELL_PX = 320
_SHEET_GAP, _SHEET_LABEL = 6, 22
# counterclockwise quarter turns: Pillow's transposition, ffmpeg's filters
_TURNS = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}
_TURN_FILTERS: dict[int, list[tuple[str, str | None]]] = {
    90: [("transpose", "cclock")], 180: [("hflip", None), ("vflip", None)], 270: [("transpose", "clock")]}
_WAVE_BACKGROUND, _WAVE_COLOUR, _WAVE_AXIS = (250, 248, 244), (46, 93, 120), (200, 196, 188)


@dataclass
class Recording:
    """An opened input: its streams (from media_av._streams), duration and start (seconds), and for a video its
    display size and how far its frames turn counterclockwise to stand upright (0, 90, 180, 270)."""

    container: av.container.InputContainer
    video: av.VideoStream | None
    audio: av.AudioStream | None
    duration_s: float
    start_s: float
    display: tuple[int, int] | None = None
    rotation: int = 0


def render_video(rec: Recording, out_dir: Path, params: DeriveParams) -> Derived:
    assert rec.video is not None and rec.display is not None
    times = [rec.duration_s * (i + 0.5) / params.keyframes for i in range(params.keyframes)]
    wanted = sorted([*times, _POSTER_AT * rec.duration_s])
    shots: dict[float, tuple[float, Image.Image]] = {}
    shot_size = derivative_size(rec.display, params.preview_px)  # an 8K frame kept whole would be 100 MB of RGB
    last: tuple[float, av.VideoFrame] | None = None
    target = out_dir / "rendition.mp4"
    with _Rendition(target, rec, params) as rendition:
        for frame in _frames(rec):
            at = (frame.time or 0.0) - rec.start_s
            if isinstance(frame, av.VideoFrame):
                while wanted and at >= wanted[0] - 0.5 / rendition.fps:
                    shots[wanted.pop(0)] = at, _picture(frame, shot_size, rec.rotation)
                last = at, frame
                rendition.add_video(frame, at)
            else:
                rendition.add_audio(frame, at)
    for moment in wanted:  # the header promised more than the stream held: the last frame stands in
        if last is not None:
            shots[moment] = last[0], _picture(last[1], shot_size, rec.rotation)
    keyframes = [shots[t] for t in times if t in shots]
    surrogates = []
    for index, (at, image) in enumerate(keyframes):
        path = _save_jpeg(image, out_dir / f"keyframe-{index + 1:02d}.jpg", params.preview_px)
        surrogates.append(Surrogate(path=path, time_s=round(at, 3)))
    files = []
    poster_at = _POSTER_AT * rec.duration_s
    if poster_at in shots or keyframes:
        poster = _poster(shots.get(poster_at), keyframes)
        path = _save_jpeg(poster, out_dir / "poster.jpg", params.preview_px)
        files.append(_picture_file("poster", path, Tier.THUMBNAIL))
    if keyframes:
        sheet = _contact_sheet(keyframes, params.contact_sheet_columns)
        path = out_dir / "contact-sheet.jpg"
        sheet.save(path, "JPEG", quality=_JPEG_QUALITY, optimize=True)
        files.append(_picture_file("contact-sheet", path, Tier.PREVIEW))
    files.append(DerivedFile("rendition", target, "video/mp4", Tier.PREVIEW, *rendition.size))
    return Derived(files=files, surrogates=surrogates)


def render_audio(rec: Recording, out_dir: Path, params: DeriveParams) -> Derived:
    assert rec.audio is not None
    rate = rec.audio.codec_context.sample_rate
    envelope = _Envelope(params.waveform_size[0], max(1, round(rec.duration_s * rate)))
    mono = av.AudioResampler(format="flt", layout="mono", rate=rate)
    target = out_dir / "rendition.m4a"
    with _Rendition(target, rec, params) as rendition:
        for frame in _frames(rec):
            if isinstance(frame, av.AudioFrame):
                for samples in mono.resample(frame):
                    envelope.add(samples.to_ndarray()[0])
                rendition.add_audio(frame, (frame.time or 0.0) - rec.start_s)
    waveform = out_dir / "waveform.png"
    envelope.draw(params.waveform_size[1]).save(waveform, "PNG")
    width, height = params.waveform_size
    return Derived(files=[DerivedFile("waveform", waveform, "image/png", Tier.THUMBNAIL, width, height),
                          DerivedFile("rendition", target, "audio/mp4", Tier.PREVIEW)])


def _frames(rec: Recording) -> Iterator[av.VideoFrame | av.AudioFrame]:
    """Every decoded frame of the chosen streams, in file order; a damaged packet mid-file is skipped, not fatal."""
    streams = [s for s in (rec.video, rec.audio) if s is not None]
    if rec.video is not None:
        rec.video.thread_type = "AUTO"  # frame threads: decoding is most of the work
    skipped = 0
    for packet in rec.container.demux(*streams):
        try:
            yield from packet.decode()  # type: ignore[misc]
        except av.error.InvalidDataError:
            skipped += 1
    if skipped:
        logger.warning("skipped undecodable packets", extra={"packets": skipped, "file": rec.container.name})


class _Rendition:
    """The web rendition being written: H.264 + AAC (video) or AAC alone, frames re-timed from zero."""

    def __init__(self, path: Path, rec: Recording, params: DeriveParams) -> None:
        display = rec.display if rec.video is not None else None
        self.out = av.open(str(path), "w", format="mp4" if display else "ipod", options={"movflags": "faststart"})
        self.rotation = rec.rotation
        self.graph: av.filter.Graph | None = None
        self.video_out: av.VideoStream | None = None
        self.audio_out: av.AudioStream | None = None
        self.size: tuple[int | None, int | None] = (None, None)
        self.fps = _MAX_FPS
        self.last_index = -1
        self.next_sample: int | None = None
        if display is not None and rec.video is not None:
            rate = rec.video.average_rate or rec.video.guessed_rate
            self.fps = min(Fraction(rate), _MAX_FPS) if rate else Fraction(25)
            height = min(params.rendition_height, display[1])
            width = round(display[0] * height / display[1])
            self.size = (max(2, width - width % 2), max(2, height - height % 2))  # yuv420p needs even sides
            self.video_out = self.out.add_stream("libx264", rate=self.fps)
            self.video_out.width, self.video_out.height = self.size
            self.video_out.pix_fmt = "yuv420p"
            self.video_out.bit_rate = params.video_bitrate
            self.video_out.options = {"preset": "veryfast", "profile": "main", "g": str(math.ceil(2 * self.fps)),
                                      "maxrate": str(params.video_bitrate * 3 // 2),
                                      "bufsize": str(params.video_bitrate * 2)}
        if rec.audio is not None:
            source = rec.audio.codec_context
            sample_rate = source.sample_rate if source.sample_rate in _AAC_RATES else 48_000
            layout = "mono" if source.layout.nb_channels == 1 else "stereo"
            audio_out = self.out.add_stream("aac", rate=sample_rate, layout=layout)
            assert isinstance(audio_out, av.AudioStream)
            audio_out.bit_rate = params.audio_bitrate
            self.audio_out = audio_out

    def __enter__(self) -> _Rendition:
        return self

    def add_video(self, frame: av.VideoFrame, at: float) -> None:
        index = round(at * self.fps)
        if self.video_out is None or index <= self.last_index:
            return  # a frame beyond the 30 fps cap, or a duplicate timestamp
        self.last_index = index
        if self.rotation:
            scaled = self._turned(frame)
        else:
            scaled = frame.reformat(width=self.size[0], height=self.size[1], format="yuv420p")
        scaled.pts, scaled.time_base = index, 1 / self.fps
        self.out.mux(self.video_out.encode(scaled))

    def _turned(self, frame: av.VideoFrame) -> av.VideoFrame:
        """Upright and scaled by ffmpeg's filters: the MP4 carries no display matrix, so the pixels must turn."""
        if self.graph is None:
            self.graph = av.filter.Graph()
            chain = [self.graph.add_buffer(width=frame.width, height=frame.height, format=frame.format,
                                           time_base=frame.time_base or Fraction(1, 1000))]
            for name, argument in [*_TURN_FILTERS[self.rotation], ("scale", f"{self.size[0]}:{self.size[1]}"),
                                   ("format", "yuv420p"), ("buffersink", None)]:
                chain.append(self.graph.add(name, argument))
                chain[-2].link_to(chain[-1])
            self.graph.configure()
        self.graph.push(frame)
        turned = self.graph.pull()
        assert isinstance(turned, av.VideoFrame)
        return turned

    def add_audio(self, frame: av.AudioFrame, at: float) -> None:
        if self.audio_out is None or at + frame.samples / frame.sample_rate <= 0:
            return
        if self.next_sample is None:  # audio starts where the first frame sits, then runs on without gaps
            self.next_sample = max(0, round(at * frame.sample_rate))
        frame.pts, frame.time_base = self.next_sample, Fraction(1, frame.sample_rate)
        self.next_sample += frame.samples
        self.out.mux(self.audio_out.encode(frame))

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                for stream in (self.video_out, self.audio_out):
                    if stream is not None:
                        self.out.mux(stream.encode(None))
        finally:
            self.out.close()


class _Envelope:
    """The min/max of the samples under each pixel column of the waveform, gathered as the audio streams past."""

    def __init__(self, columns: int, total_samples: int) -> None:
        self.columns, self.total = columns, total_samples
        self.low = np.zeros(columns, dtype=np.float32)
        self.high = np.zeros(columns, dtype=np.float32)
        self.seen = 0

    def add(self, samples: np.ndarray) -> None:
        count = samples.size
        if not count:
            return
        first = min(self.seen * self.columns // self.total, self.columns - 1)
        last = min((self.seen + count - 1) * self.columns // self.total, self.columns - 1)
        columns = np.arange(first, last + 1)
        # sample s falls in column floor(s * columns / total): column c starts at ceil(c * total / columns)
        starts = np.clip(-(-columns * self.total // self.columns) - self.seen, 0, count - 1)
        starts[0] = 0
        keep = np.flatnonzero(np.diff(starts, append=count))  # fewer samples than columns: a sample's is the last
        columns, starts = columns[keep], starts[keep]
        self.seen += count
        self.low[columns] = np.minimum(self.low[columns], np.minimum.reduceat(samples, starts))
        self.high[columns] = np.maximum(self.high[columns], np.maximum.reduceat(samples, starts))

    def draw(self, height: int) -> Image.Image:
        """A bar per column from its lowest to its highest sample, scaled to the loudest peak (silence: a line)."""
        peak = float(max(-self.low.min(), self.high.max(), 1e-6))
        middle = (height - 1) / 2
        top = np.floor(middle - np.clip(self.high / peak, 0, 1) * middle * 0.95)
        bottom = np.ceil(middle - np.clip(self.low / peak, -1, 0) * middle * 0.95)
        rows = np.arange(height)[:, None]
        mask = (rows >= top[None, :]) & (rows <= bottom[None, :])
        pixels = np.empty((height, self.columns, 3), dtype=np.uint8)
        pixels[:] = _WAVE_BACKGROUND
        pixels[round(middle)] = _WAVE_AXIS
        pixels[mask] = _WAVE_COLOUR
        return Image.fromarray(pixels)


def _picture(frame: av.VideoFrame, size: tuple[int, int], rotation: int) -> Image.Image:
    """The frame as upright RGB at its display size, scaled by swscale (area-averaging) while converting."""
    stored = (size[1], size[0]) if rotation in (90, 270) else size
    rgb = frame.reformat(width=stored[0], height=stored[1], format="rgb24", interpolation="AREA")
    image: Image.Image = rgb.to_image()  # type: ignore[no-untyped-call]
    return image.transpose(_TURNS[rotation]) if rotation else image


def _poster(at_tenth: tuple[float, Image.Image] | None, keyframes: list[tuple[float, Image.Image]]) -> Image.Image:
    """The frame at a tenth of the duration, or else the first keyframe that is not (nearly) black."""
    candidates = ([at_tenth] if at_tenth else []) + keyframes
    for _, image in candidates:
        if float(np.asarray(image.convert("L").reduce(4)).mean()) >= _DARK_MEAN:
            return image
    return candidates[0][1]


def _contact_sheet(keyframes: list[tuple[float, Image.Image]], columns: int) -> Image.Image:
    """The keyframes in a grid, each over its timestamp (h:mm:ss), on a dark ground."""
    first = keyframes[0][1]
    cell = derivative_size(first.size, _SHEET_CELL_PX)
    columns = max(1, min(columns, len(keyframes)))
    rows = math.ceil(len(keyframes) / columns)
    sheet = Image.new("RGB", (_SHEET_GAP + columns * (cell[0] + _SHEET_GAP),
                              _SHEET_GAP + rows * (cell[1] + _SHEET_LABEL + _SHEET_GAP)), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=14)
    for index, (at, image) in enumerate(keyframes):
        x = _SHEET_GAP + (index % columns) * (cell[0] + _SHEET_GAP)
        y = _SHEET_GAP + (index // columns) * (cell[1] + _SHEET_LABEL + _SHEET_GAP)
        sheet.paste(image.resize(cell, Image.Resampling.LANCZOS, reducing_gap=3), (x, y))
        draw.text((x + 2, y + cell[1] + 3), _timestamp(at), fill=(230, 230, 230), font=font)
    return sheet


def _timestamp(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _save_jpeg(image: Image.Image, path: Path, bound: int) -> Path:
    size = derivative_size(image.size, bound)
    resized = image if size == image.size else image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3)
    resized.save(path, "JPEG", quality=_JPEG_QUALITY, optimize=True)
    return path


def _picture_file(name: str, path: Path, tier: Tier) -> DerivedFile:
    with Image.open(path) as im:
        return DerivedFile(name, path, "image/jpeg", tier, im.width, im.height)
