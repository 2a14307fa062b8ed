"""Check audio and video recordings and make their web derivatives, with PyAV (ffmpeg's libraries).

`inspect_av` reads the container's header before decoding anything: the format as museums know it (MP4, MOV,
WEBM, MKV, AVI, MP3, WAV, FLAC, OGG, M4A, AAC), the first video and audio stream's codecs, frame size and rate,
sample rate and channels, and the duration, checked against the limits. It then proves the file is whole: the
first video frame and the first audio frame must decode, and the packets must run to the end the header
promises (a cut-off upload keeps its header but loses its tail; one cut before its header does not open).
A cover picture in an MP3 or M4A is a one-frame "video" stream marked attached_pic: such a file is AUDIO.
A phone filming upright stores its frames on their side with a display matrix; width and height are reported
upright, and every derivative is turned upright (the rendition's pixels too: it carries no matrix).

`derive_av` makes what a person can use (services/ingest/media_av_render.py writes them): for a video, one
decoding pass yields the web rendition (H.264/AAC MP4, moov first so a browser starts playing before the
download ends), the keyframes (evenly spaced, the image pipeline's surrogates), the poster and the contact
sheet; for audio, one pass yields the rendition (AAC in .m4a) and the waveform. Nothing holds more than a
few frames: a one-hour recording costs the memory of a one-minute one.

PyAV objects are not thread-safe; each call opens its own containers, so calls may run in parallel threads.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import av
import av.container
import av.error
import av.stream

from schemas.media import MediaType
from services.ingest.errors import ErrorCode
from services.ingest.media import MediaRejected, sha256_file
from services.ingest.media_av_render import Recording, render_audio, render_video
from services.ingest.media_kinds import Derived, DeriveParams, MediaFacts, MediaLimits

__all__ = ["derive_av", "inspect_av"]

logger = logging.getLogger(__name__)

_HEADER_BYTES = 64  # a Matroska file names its DocType (webm or matroska) in its first bytes
_FIRST_PACKETS = 500  # packets read at the start before a stream that yields no frame is called undecodable
_TAIL_S = 3.0  # the tail check starts this far before the promised end
# How far short of the promised end the data may stop: containers round, and an audio track may end a frame early.
_TAIL_SLACK_S, _TAIL_SLACK_FRACTION = 0.5, 0.02

# (format, mime when there is video, mime when there is only sound, the extensions a file of it may carry)
_FORMATS: dict[str, tuple[str, str, frozenset[str]]] = {
    "MP4": ("video/mp4", "audio/mp4", frozenset({".mp4", ".m4v", ".mov", ".m4a"})),
    "MOV": ("video/quicktime", "audio/mp4", frozenset({".mov", ".mp4", ".m4v", ".m4a"})),
    "M4A": ("video/mp4", "audio/mp4", frozenset({".m4a", ".mp4", ".m4v", ".mov", ".aac"})),
    "WEBM": ("video/webm", "audio/webm", frozenset({".webm", ".mkv"})),
    "MKV": ("video/x-matroska", "audio/x-matroska", frozenset({".mkv", ".webm"})),
    "AVI": ("video/x-msvideo", "video/x-msvideo", frozenset({".avi"})),
    "MP3": ("audio/mpeg", "audio/mpeg", frozenset({".mp3"})),
    "WAV": ("audio/wav", "audio/wav", frozenset({".wav"})),
    "FLAC": ("audio/flac", "audio/flac", frozenset({".flac"})),
    "OGG": ("video/ogg", "audio/ogg", frozenset({".ogg", ".oga", ".opus"})),
    "AAC": ("audio/aac", "audio/aac", frozenset({".aac"})),
}
_AV_EXTENSIONS = frozenset().union(*(extensions for _, _, extensions in _FORMATS.values()))


def inspect_av(path: Path, limits: MediaLimits) -> MediaFacts:
    """Accept a recording (or raise `MediaRejected`): its format, codecs, sizes and duration, read from its header."""
    size_bytes = path.stat().st_size
    if size_bytes == 0:
        raise MediaRejected(ErrorCode.EMPTY_FILE, "The file is empty (0 bytes); it may not have finished uploading.")
    if size_bytes > limits.max_bytes:
        raise MediaRejected(ErrorCode.TOO_LARGE, f"The recording is {size_bytes / 2**20:,.1f} MiB, larger than the "
                                                 f"limit of {limits.max_bytes / 2**20:,.0f} MiB per file; "
                                                 "upload a smaller encoding or split it.")
    with _open(path) as container:
        video, audio = _streams(container)
        label = _format(container, path, has_video=video is not None)
        _check_extension(path, label)
        duration = _duration(container)
        if duration > limits.max_duration_s:
            raise MediaRejected(ErrorCode.TOO_LONG, f"The recording lasts {_clock(duration)}, longer than the limit "
                                                    f"of {_clock(limits.max_duration_s)}; split it into parts.")
        technical: dict[str, Any] = {"duration_s": round(duration, 3)}
        if video is not None:
            _check_frame_size(video, limits)
            rate = video.average_rate or video.guessed_rate or video.base_rate
            technical |= {"video_codec": video.codec_context.codec.canonical_name, "width": video.codec_context.width,
                          "height": video.codec_context.height, "frame_rate": round(float(rate), 3) if rate else None}
        if audio is not None:
            technical |= {"audio_codec": audio.codec_context.codec.canonical_name,
                          "sample_rate": audio.codec_context.sample_rate, "channels": audio.codec_context.channels}
        rotation = _check_first_frames(container, [s for s in (video, audio) if s is not None])
        if rotation in (90, 270):  # a phone held upright: the frames are stored on their side
            technical["width"], technical["height"] = technical["height"], technical["width"]
        _check_tail(container, duration)
    video_mime, audio_mime, _ = _FORMATS[label]
    return MediaFacts(
        media_type=MediaType.VIDEO if video is not None else MediaType.AUDIO,
        format=label,
        mime=video_mime if video is not None else audio_mime,
        sha256=sha256_file(path),
        size_bytes=size_bytes,
        technical=technical,
    )


def derive_av(path: Path, facts: MediaFacts, out_dir: Path, params: DeriveParams) -> Derived:
    """The web derivatives of an accepted recording (see the module docstring), written into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rotation, display = 0, None
    if facts.media_type is MediaType.VIDEO:
        with _open(path) as probe:
            picture = _streams(probe)[0]
            assert picture is not None
            rotation = _check_first_frames(probe, [picture])  # the display matrix comes with the decoded frames
            display = _display_size(picture, rotation)
    with _open(path) as container:
        video, audio = _streams(container)
        recording = Recording(container, video, audio, float(facts.technical["duration_s"]),
                              (container.start_time or 0) / av.time_base, display, rotation)
        if video is not None and facts.media_type is MediaType.VIDEO:
            return render_video(recording, out_dir, params)
        return render_audio(recording, out_dir, params)


class _open:
    """av.open as a context manager whose failures are rejections a museum user can act on."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> av.container.InputContainer:
        try:
            self.container = av.open(str(self.path), "r", metadata_errors="replace")
        except av.error.FFmpegError as error:
            raise MediaRejected(ErrorCode.TRUNCATED, f"The recording could not be opened ({error.strerror}): it is "
                                                     "damaged, cut off before its header (an interrupted copy or "
                                                     "upload), or not audio or video. Upload it again.") from error
        return self.container

    def __exit__(self, *exc: object) -> None:
        self.container.close()


def _streams(container: av.container.InputContainer) -> tuple[av.VideoStream | None, av.AudioStream | None]:
    """The first real video stream (not a cover picture) and the first audio stream."""
    pictures = [s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
    video = pictures[0] if pictures else None
    audio = container.streams.audio[0] if container.streams.audio else None
    if video is None and audio is None:
        kinds: list[str] = sorted({s.type for s in container.streams}) or ["nothing"]
        cover = " (only a cover picture)" if container.streams.video else ""
        raise MediaRejected(ErrorCode.UNSUPPORTED_FORMAT,
                            f"The file holds no sound and no moving picture{cover}; it contains "
                            f"{', '.join(kinds)}. Upload the recording itself.")
    return video, audio


def _format(container: av.container.InputContainer, path: Path, *, has_video: bool) -> str:
    names = set(container.format.name.split(","))
    if "mp4" in names or "mov" in names:
        brand = str(container.metadata.get("major_brand", "")).strip().lower()
        if brand == "qt":
            return "MOV"
        return "M4A" if brand in ("m4a", "m4b") or not has_video else "MP4"
    if "matroska" in names:
        with path.open("rb") as stream:
            return "WEBM" if b"webm" in stream.read(_HEADER_BYTES) else "MKV"
    for name, label in (("avi", "AVI"), ("mp3", "MP3"), ("wav", "WAV"), ("flac", "FLAC"), ("ogg", "OGG"),
                        ("aac", "AAC")):
        if name in names:
            return label
    raise MediaRejected(ErrorCode.UNSUPPORTED_FORMAT,
                        f"{container.format.long_name} recordings are not accepted; accepted formats: "
                        f"{', '.join(_FORMATS)}. Convert it to MP4 (video) or WAV/FLAC/MP3 (audio).")


def _check_extension(path: Path, label: str) -> None:
    """A name like song.mp3 on a FLAC file: said early, since players and people trust the extension."""
    suffix = path.suffix.lower()
    if suffix in _AV_EXTENSIONS and suffix not in _FORMATS[label][2]:
        raise MediaRejected(ErrorCode.EXTENSION_MISMATCH,
                            f"'{path.name}' is named as {suffix[1:].upper()} but it is a {label} file; rename it "
                            f"to .{label.lower()} or upload the right file.")


def _check_frame_size(video: av.VideoStream, limits: MediaLimits) -> None:
    """A frame over the pixel limit is refused from the header: decoding even one would take that memory."""
    width, height = video.codec_context.width, video.codec_context.height
    if width * height > limits.max_pixels:
        raise MediaRejected(ErrorCode.DECOMPRESSION_BOMB,
                            f"The video's frames are {width:,} × {height:,} = {width * height:,} pixels, more than "
                            f"the limit of {limits.max_pixels:,}; export it at a lower resolution.")
    if width <= 0 or height <= 0:
        raise _damaged("its video stream has no frame size")


def _duration(container: av.container.InputContainer) -> float:
    seconds = [container.duration / av.time_base] if container.duration else []
    seconds += [float(s.duration * s.time_base) for s in container.streams
                if s.type in ("audio", "video") and s.duration and s.time_base]
    duration = max(seconds, default=0.0)
    if duration <= 0:
        raise MediaRejected(ErrorCode.ZERO_DURATION, "The recording has no playable time (its duration is zero or "
                                                     "unknown): it may have stopped at once or not been finalised. "
                                                     "Export it again.")
    return duration


def _check_first_frames(container: av.container.InputContainer, streams: list[Any]) -> int:
    """The first frame of each stream must decode: a header with undecodable data behind it is refused here.

    Returns how far the first video frame is to be turned counterclockwise for display (0, 90, 180 or 270).
    """
    waiting = {s.index: s for s in streams}
    rotation = 0
    try:
        for count, packet in enumerate(container.demux(*streams)):
            frames = packet.decode() if packet.stream.index in waiting and packet.size else []
            if frames:
                del waiting[packet.stream.index]
                if isinstance(frames[0], av.VideoFrame):
                    rotation = round(frames[0].rotation / 90) % 4 * 90
            if not waiting or count >= _FIRST_PACKETS:
                break
    except av.error.FFmpegError as error:
        raise _damaged(f"its first frames do not decode ({error.strerror})") from error
    if waiting:
        kinds = " and ".join(sorted(s.type for s in waiting.values()))
        raise _damaged(f"its {kinds} data does not decode")
    return rotation


def _display_size(stream: av.VideoStream, rotation: int) -> tuple[int, int]:
    """Width and height as a viewer shows the video: non-square pixels (DV) stretched, a phone's frames upright."""
    width, height = stream.codec_context.width, stream.codec_context.height
    aspect = stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio
    if aspect and aspect > 0 and aspect != 1:
        width = max(1, round(width * aspect))
    return (height, width) if rotation in (90, 270) else (width, height)


def _check_tail(container: av.container.InputContainer, duration: float) -> None:
    """The packets must reach the end the header promises; an upload cut off keeps its header and loses its end."""
    streams = [s for s in container.streams if s.type in ("audio", "video")]
    start = (container.start_time or 0) / av.time_base
    end = 0.0
    try:
        container.seek(int((start + max(0.0, duration - _TAIL_S)) * av.time_base), backward=True)
        for packet in container.demux(*streams):
            if packet.pts is not None and packet.time_base is not None:
                end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base) - start)
    except av.error.FFmpegError as error:
        raise _damaged(f"reading its end failed ({error.strerror})") from error
    if end < duration - max(_TAIL_SLACK_S, _TAIL_SLACK_FRACTION * duration):
        raise _damaged(f"its header says it lasts {_clock(duration)} but its data stops at {_clock(end)}")


def _damaged(what: str) -> MediaRejected:
    return MediaRejected(ErrorCode.TRUNCATED, f"The recording is incomplete or damaged: {what}. The upload or copy "
                                              "may have been cut off; upload it again.")


def _clock(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d} ({seconds:.1f} s)"
