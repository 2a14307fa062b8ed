"""Real audio and video files written with PyAV, for tests, sample batches and benches (no downloads).

Each builder writes one file at the path it is given and returns that path. The pictures are a moving colour
pattern (a gradient whose hue drifts, a bright square travelling across), so keyframes differ from one another
and encoders have real work; the sound is a sine tone. Defaults are small (a 2-second 320 × 180 MP4 is ~60 KB).

- `mp4` H.264/AAC (`black_s` seconds of black first, to test the poster's choice), `webm` VP9/Opus,
  `mov`, `mkv` and `avi` containers, `silent_mp4` (video only), `upright_phone_mp4` (frames stored on their
  side with a display matrix saying "turn 90° clockwise");
- `wav`, `flac`, `mp3`, `m4a`, `ogg` tones; `mp3_with_cover` (an ID3 cover picture, an attached picture stream);
- broken files: `zero_duration` (a WAV with no samples), `truncated_mp4` (the moov header is there, most of
  the data is not), `no_moov_mp4` (cut before its header: the common half-uploaded phone video),
  `data_only` (a container with no audio or video stream).
"""

from __future__ import annotations

import io
import struct
import wave
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

__all__ = [
    "avi", "data_only", "flac", "m4a", "mkv", "mov", "mp3", "mp3_with_cover", "mp4", "no_moov_mp4", "ogg",
    "silent_mp4", "truncated_mp4", "upright_phone_mp4", "wav", "webm", "zero_duration",
]  # fmt: skip

_SAMPLE_RATE = 44_100
_TONE_HZ = 440.0


def mp4(path: Path, seconds: float = 2.0, *, size: tuple[int, int] = (320, 180), fps: int = 24,
        black_s: float = 0.0, faststart: bool = True, pixel_aspect: Fraction | None = None) -> Path:
    """H.264 video + AAC stereo tone in an MP4 (moov first unless faststart is False).

    pixel_aspect: the shape of a stored pixel (DV's 16:15, 64:45 …), for anamorphic video; square if None.
    """
    options = {"movflags": "faststart"} if faststart else {}
    return _write(path, "mp4", ("libx264", "aac"), seconds, size, fps, black_s=black_s, options=options,
                  pixel_aspect=pixel_aspect)


def webm(path: Path, seconds: float = 2.0, *, size: tuple[int, int] = (320, 180), fps: int = 24) -> Path:
    """VP9 video + Opus tone in a WebM."""
    return _write(path, "webm", ("libvpx-vp9", "libopus"), seconds, size, fps)


def mov(path: Path, seconds: float = 2.0, *, size: tuple[int, int] = (320, 180), fps: int = 24) -> Path:
    """H.264 + AAC in a QuickTime MOV (what cameras and iPhones write)."""
    return _write(path, "mov", ("libx264", "aac"), seconds, size, fps)


def mkv(path: Path, seconds: float = 2.0, *, size: tuple[int, int] = (320, 180), fps: int = 24) -> Path:
    """H.264 + FLAC in a Matroska file."""
    return _write(path, "matroska", ("libx264", "flac"), seconds, size, fps)


def avi(path: Path, seconds: float = 2.0, *, size: tuple[int, int] = (320, 180), fps: int = 24) -> Path:
    """MJPEG + 16-bit PCM in an AVI (old digitisation stations)."""
    return _write(path, "avi", ("mjpeg", "pcm_s16le"), seconds, size, fps)


def upright_phone_mp4(path: Path, seconds: float = 1.0, *, size: tuple[int, int] = (320, 180)) -> Path:
    """An MP4 stored landscape whose track header says "turn 90° clockwise", as a phone filming upright writes it."""
    mp4(path, seconds, size=size)
    data = bytearray(path.read_bytes())
    box = data.index(b"tkhd")  # the first track's header: the video's
    assert data[box + 4] == 0, "a version-0 track header"
    # the 3 × 3 matrix follows flags, times, track id, duration, layer, group and volume (40 bytes in)
    struct.pack_into(">9i", data, box + 44, 0, 1 << 16, 0, -(1 << 16), 0, 0, size[1] << 16, 0, 1 << 30)
    path.write_bytes(bytes(data))
    return path


def silent_mp4(path: Path, seconds: float = 2.0, *, size: tuple[int, int] = (320, 180), fps: int = 24) -> Path:
    """H.264 video with no sound track."""
    return _write(path, "mp4", ("libx264", None), seconds, size, fps, options={"movflags": "faststart"})


def wav(path: Path, seconds: float = 2.0, *, channels: int = 2, rate: int = _SAMPLE_RATE) -> Path:
    return _write(path, "wav", (None, "pcm_s16le"), seconds, channels=channels, rate=rate)


def flac(path: Path, seconds: float = 2.0, *, channels: int = 2, rate: int = _SAMPLE_RATE) -> Path:
    return _write(path, "flac", (None, "flac"), seconds, channels=channels, rate=rate)


def mp3(path: Path, seconds: float = 2.0, *, channels: int = 2, rate: int = _SAMPLE_RATE) -> Path:
    return _write(path, "mp3", (None, "libmp3lame"), seconds, channels=channels, rate=rate)


def m4a(path: Path, seconds: float = 2.0, *, channels: int = 2, rate: int = _SAMPLE_RATE) -> Path:
    """AAC in an MP4 audio file (brand M4A)."""
    return _write(path, "ipod", (None, "aac"), seconds, channels=channels, rate=rate,
                  options={"movflags": "faststart"})


def ogg(path: Path, seconds: float = 2.0, *, channels: int = 2, rate: int = 48_000) -> Path:
    """Opus in an Ogg file."""
    return _write(path, "ogg", (None, "libopus"), seconds, channels=channels, rate=rate)


def mp3_with_cover(path: Path, seconds: float = 2.0) -> Path:
    """An MP3 whose ID3 tag carries a cover picture: ffmpeg shows it as a one-frame video stream (attached_pic)."""
    tone = io.BytesIO()
    _write_to(tone, "mp3", (None, "libmp3lame"), seconds)
    cover = io.BytesIO()
    Image.new("RGB", (64, 64), (180, 40, 40)).save(cover, "JPEG")
    with av.open(io.BytesIO(tone.getvalue()), "r") as src, av.open(str(path), "w", format="mp3") as out:
        audio_in = src.streams.audio[0]
        audio_out = out.add_stream_from_template(audio_in)
        picture = out.add_stream("mjpeg")
        assert isinstance(picture, av.VideoStream)
        picture.width, picture.height, picture.pix_fmt = 64, 64, "yuvj420p"
        picture.disposition = av.stream.Disposition.attached_pic.value  # type: ignore[assignment]
        packet = av.Packet(cover.getvalue())
        packet.stream, packet.pts, packet.dts = picture, 0, 0
        out.mux(packet)
        for packet in src.demux(audio_in):
            if packet.dts is not None:
                packet.stream = audio_out
                out.mux(packet)
    return path


def zero_duration(path: Path) -> Path:
    """A WAV with a header and no samples: a recording that stopped at once."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(_SAMPLE_RATE)
    return path


def truncated_mp4(path: Path, seconds: float = 2.0, keep: float = 0.5) -> Path:
    """An MP4 whose header (moov, written first) promises `seconds` but whose data stops at `keep` of the file."""
    mp4(path, seconds)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def no_moov_mp4(path: Path, seconds: float = 2.0, keep: float = 0.8) -> Path:
    """An MP4 written header-last and cut before its header: the usual interrupted upload from a phone."""
    mp4(path, seconds, faststart=False)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def data_only(path: Path) -> Path:
    """A Matroska file that holds only a subtitle track: a container, but nothing to hear or see."""
    captions = b"1\n00:00:00,000 --> 00:00:02,000\nA caption with no picture or sound.\n\n"
    with av.open(io.BytesIO(captions), "r", format="srt") as src, av.open(str(path), "w", format="matroska") as out:
        source = src.streams[0]
        target = out.add_stream_from_template(source)
        for packet in src.demux(source):
            if packet.dts is not None:
                packet.stream = target
                out.mux(packet)
    return path


def _write(path: Path, container_format: str, codecs: tuple[str | None, str | None], seconds: float,
           size: tuple[int, int] = (320, 180), fps: int = 24, *, black_s: float = 0.0,
           channels: int = 2, rate: int = _SAMPLE_RATE, options: dict[str, str] | None = None,
           pixel_aspect: Fraction | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_to(str(path), container_format, codecs, seconds, size, fps, black_s=black_s, channels=channels,
              rate=rate, options=options, pixel_aspect=pixel_aspect)
    return path


def _write_to(target: str | io.BytesIO, container_format: str, codecs: tuple[str | None, str | None],
              seconds: float, size: tuple[int, int] = (320, 180), fps: int = 24, *, black_s: float = 0.0,
              channels: int = 2, rate: int = _SAMPLE_RATE, options: dict[str, str] | None = None,
              pixel_aspect: Fraction | None = None) -> None:
    video_codec, audio_codec = codecs
    with av.open(target, "w", format=container_format, options=options or {}) as out:
        video: av.VideoStream | None = None
        audio: av.AudioStream | None = None
        if video_codec is not None:
            added = out.add_stream(video_codec, rate=fps)
            assert isinstance(added, av.VideoStream)
            video = added
            video.width, video.height = size
            video.pix_fmt = "yuvj420p" if video_codec == "mjpeg" else "yuv420p"
            if pixel_aspect is not None:
                video.codec_context.sample_aspect_ratio = pixel_aspect
            if video_codec == "libx264":
                video.options = {"preset": "ultrafast", "g": str(fps)}  # a keyframe each second
            elif video_codec == "libvpx-vp9":
                video.options = {"deadline": "realtime", "cpu-used": "8", "g": str(fps)}
        if audio_codec is not None:
            sound_stream = out.add_stream(audio_codec, rate=48_000 if audio_codec == "libopus" else rate,
                                          layout="stereo" if channels == 2 else "mono")
            assert isinstance(sound_stream, av.AudioStream)
            audio = sound_stream
        sounds = iter(()) if audio is None else _tone(seconds, audio.sample_rate, channels, audio.format.name,
                                                      audio.frame_size or 1024)
        sound = next(sounds, None)
        pictures = _pictures(size, fps, round(seconds * fps) if video else 0, black_s)
        for index, image in enumerate(pictures):  # interleaved: the sound up to each picture's time, then it
            while audio is not None and sound is not None and (sound.pts or 0) * fps < (index + 1) * audio.sample_rate:
                out.mux(audio.encode(sound))
                sound = next(sounds, None)
            picture = av.VideoFrame.from_ndarray(image, format="rgb24")
            picture.pts = index
            out.mux(video.encode(picture))  # type: ignore[union-attr]
        while audio is not None and sound is not None:
            out.mux(audio.encode(sound))
            sound = next(sounds, None)
        if video is not None:
            out.mux(video.encode(None))
        if audio is not None:
            out.mux(audio.encode(None))


def _pictures(size: tuple[int, int], fps: int, frames: int, black_s: float) -> Iterator[np.ndarray]:
    width, height = size
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    side = max(4, height // 4)
    for index in range(frames):
        t = index / fps
        if t < black_s:
            yield np.zeros((height, width, 3), dtype=np.uint8)
            continue
        phase = 2 * np.pi * t / 3.0
        image = np.stack([
            0.5 + 0.5 * np.sin(2 * np.pi * x + phase) * np.ones_like(y),
            0.5 + 0.5 * np.sin(2 * np.pi * y + phase * 1.3) * np.ones_like(x),
            0.5 + 0.5 * np.cos(2 * np.pi * (x + y) / 2 - phase),
        ], axis=-1)
        pixels = (image * 200 + 30).astype(np.uint8)
        left = int((t * width / 2) % max(1, width - side))
        top = (height - side) // 2
        pixels[top:top + side, left:left + side] = 250
        yield pixels


def _tone(seconds: float, rate: int, channels: int, sample_format: str, frame_size: int) -> Iterator[av.AudioFrame]:
    """A sine tone in frames of the encoder's size, in its own sample format."""
    total = round(seconds * rate)
    layout = "stereo" if channels == 2 else "mono"
    planar = sample_format.endswith("p")
    for start in range(0, total, frame_size):
        count = min(frame_size, total - start)
        wave = 0.4 * np.sin(2 * np.pi * _TONE_HZ * (start + np.arange(count)) / rate).astype(np.float32)
        if sample_format.startswith("s16"):
            samples: np.ndarray = (wave * 32767).astype(np.int16)
        elif sample_format.startswith("s32"):
            samples = (wave * 2147483647).astype(np.int32)
        else:
            samples = wave
        data = np.tile(samples, (channels, 1)) if planar else np.repeat(samples, channels)[None, :]
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format=sample_format, layout=layout)
        frame.sample_rate, frame.pts = rate, start
        yield frame
