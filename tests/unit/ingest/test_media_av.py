"""Audio and video: inspection and derivatives, on real files the tests write with PyAV (samples/mediafiles/av.py)."""

from __future__ import annotations

import itertools
import pickle
import struct
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from samples.mediafiles import av as files
from schemas.access import Tier
from schemas.media import MediaType
from services.ingest.errors import ErrorCode
from services.ingest.media import MediaRejected, sha256_file
from services.ingest.media_av import derive_av, inspect_av
from services.ingest.media_kinds import DerivedFile, DeriveParams, Kind, MediaFacts, MediaLimits, Surrogate, sniff

LIMITS = MediaLimits(max_bytes=50 * 2**20, max_pixels=100_000_000, max_duration_s=3600, max_pages=100,
                     max_faces=1_000_000)
PARAMS = DeriveParams()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory of the builders' files, written once for the module."""
    folder = tmp_path_factory.mktemp("av")
    for name, build in (("clip.mp4", files.mp4), ("clip.webm", files.webm), ("clip.mov", files.mov),
                        ("clip.mkv", files.mkv), ("clip.avi", files.avi), ("silent.mp4", files.silent_mp4),
                        ("tone.wav", files.wav), ("tone.flac", files.flac), ("tone.mp3", files.mp3),
                        ("tone.m4a", files.m4a), ("tone.ogg", files.ogg), ("cover.mp3", files.mp3_with_cover)):
        build(folder / name)
    return folder


def rejected(path: Path, limits: MediaLimits = LIMITS) -> MediaRejected:
    with pytest.raises(MediaRejected) as caught:
        inspect_av(path, limits)
    return caught.value


def top_level_boxes(path: Path) -> list[str]:
    """The ISO-BMFF boxes at the top of an MP4, in file order."""
    boxes, data, offset = [], path.read_bytes(), 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, offset)
        if size == 1:
            size = struct.unpack_from(">Q", data, offset + 8)[0]
        boxes.append(kind.decode("ascii"))
        offset += size if size else len(data)
    return boxes


def decoded(path: Path) -> dict[str, float]:
    """Decode every frame of a file with PyAV; the end time of each stream type, seconds."""
    ends: dict[str, float] = {}
    with av.open(str(path)) as container:
        for frame in container.decode(*container.streams):
            length = frame.samples / frame.sample_rate if isinstance(frame, av.AudioFrame) else 0.0
            ends[frame.__class__.__name__] = max(ends.get(frame.__class__.__name__, 0.0), frame.time + length)
    return ends


def first_frame(path: Path) -> tuple[np.ndarray, int]:
    """The first video frame's RGB pixels as stored, and the rotation its display matrix asks for."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="rgb24").astype(np.int16), frame.rotation


def pixels(path: Path, mode: str = "RGB") -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert(mode), dtype=np.int16)


def size_of(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        return (im.width, im.height)


def luminance(path: Path) -> float:
    return float(pixels(path, "L").mean())


# inspect_av: facts


def test_mp4_facts_come_from_its_header(media: Path) -> None:
    path = media / "clip.mp4"

    facts = inspect_av(path, LIMITS)

    assert (facts.media_type, facts.format, facts.mime) == (MediaType.VIDEO, "MP4", "video/mp4")
    assert facts.sha256 == sha256_file(path)
    assert facts.size_bytes == path.stat().st_size
    assert facts.technical == {"duration_s": pytest.approx(2.0, abs=0.05), "video_codec": "h264",
                               "audio_codec": "aac", "width": 320, "height": 180, "frame_rate": 24.0,
                               "sample_rate": 44100, "channels": 2}


@pytest.mark.parametrize(("name", "media_type", "label", "mime", "video_codec", "audio_codec"), [
    ("clip.webm", MediaType.VIDEO, "WEBM", "video/webm", "vp9", "opus"),
    ("clip.mov", MediaType.VIDEO, "MOV", "video/quicktime", "h264", "aac"),
    ("clip.mkv", MediaType.VIDEO, "MKV", "video/x-matroska", "h264", "flac"),
    ("clip.avi", MediaType.VIDEO, "AVI", "video/x-msvideo", "mjpeg", "pcm_s16le"),
    ("tone.wav", MediaType.AUDIO, "WAV", "audio/wav", None, "pcm_s16le"),
    ("tone.flac", MediaType.AUDIO, "FLAC", "audio/flac", None, "flac"),
    ("tone.mp3", MediaType.AUDIO, "MP3", "audio/mpeg", None, "mp3"),
    ("tone.m4a", MediaType.AUDIO, "M4A", "audio/mp4", None, "aac"),
    ("tone.ogg", MediaType.AUDIO, "OGG", "audio/ogg", None, "opus"),
])  # fmt: skip
def test_each_container_is_named_as_museums_know_it(media: Path, name: str, media_type: MediaType, label: str,
                                                    mime: str, video_codec: str | None, audio_codec: str) -> None:
    facts = inspect_av(media / name, LIMITS)

    assert (facts.media_type, facts.format, facts.mime) == (media_type, label, mime)
    assert (facts.technical.get("video_codec"), facts.technical["audio_codec"]) == (video_codec, audio_codec)
    assert facts.technical["duration_s"] == pytest.approx(2.0, abs=0.05)


def test_audio_facts_have_no_picture_fields(media: Path) -> None:
    facts = inspect_av(media / "tone.flac", LIMITS)

    assert set(facts.technical) == {"duration_s", "audio_codec", "sample_rate", "channels"}


def test_mp3_with_cover_art_is_audio_not_video(media: Path) -> None:
    facts = inspect_av(media / "cover.mp3", LIMITS)

    assert (facts.media_type, facts.format) == (MediaType.AUDIO, "MP3")
    assert "video_codec" not in facts.technical


def test_video_without_sound_has_no_audio_fields(media: Path) -> None:
    facts = inspect_av(media / "silent.mp4", LIMITS)

    assert facts.media_type is MediaType.VIDEO
    assert "audio_codec" not in facts.technical and facts.technical["video_codec"] == "h264"


def test_mono_recording_reports_one_channel(tmp_path: Path) -> None:
    facts = inspect_av(files.wav(tmp_path / "mono.wav", channels=1, rate=16_000), LIMITS)

    assert (facts.technical["channels"], facts.technical["sample_rate"]) == (1, 16_000)


# inspect_av: what is refused, and why


def test_empty_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").touch()

    assert rejected(tmp_path / "empty.mp4").reason is ErrorCode.EMPTY_FILE


def test_file_over_the_size_limit_is_refused_before_it_is_opened(media: Path) -> None:
    limits = replace(LIMITS, max_bytes=10_000)

    error = rejected(media / "clip.mp4", limits)

    assert error.reason is ErrorCode.TOO_LARGE and "MiB" in error.message


def test_recording_over_the_duration_limit_is_refused(media: Path) -> None:
    error = rejected(media / "tone.mp3", replace(LIMITS, max_duration_s=1.5))

    assert error.reason is ErrorCode.TOO_LONG
    assert "split it" in error.message


def test_video_whose_frames_are_over_the_pixel_limit_is_refused(media: Path) -> None:
    error = rejected(media / "clip.mp4", replace(LIMITS, max_pixels=320 * 180 - 1))

    assert error.reason is ErrorCode.DECOMPRESSION_BOMB and "320 × 180" in error.message


def test_recording_with_no_samples_has_zero_duration(tmp_path: Path) -> None:
    error = rejected(files.zero_duration(tmp_path / "stopped.wav"))

    assert error.reason is ErrorCode.ZERO_DURATION


def test_mp4_cut_off_after_its_header_is_truncated(tmp_path: Path) -> None:
    error = rejected(files.truncated_mp4(tmp_path / "cut.mp4"))

    assert error.reason is ErrorCode.TRUNCATED
    assert "stops at" in error.message and "upload it again" in error.message


def test_mp4_cut_off_before_its_header_is_truncated(tmp_path: Path) -> None:
    error = rejected(files.no_moov_mp4(tmp_path / "phone.mp4"))

    assert error.reason is ErrorCode.TRUNCATED


@pytest.mark.parametrize(("name", "build"), [("tone.mp3", files.mp3), ("tone.flac", files.flac),
                                             ("clip.webm", files.webm), ("tone.m4a", files.m4a)])
def test_recordings_cut_in_half_are_truncated(tmp_path: Path, name: str, build: Callable[..., Path]) -> None:
    path = build(tmp_path / name)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    assert rejected(path).reason is ErrorCode.TRUNCATED


def test_header_with_undecodable_data_is_refused(tmp_path: Path) -> None:
    path = files.mp4(tmp_path / "noise.mp4")
    data = bytearray(path.read_bytes())
    start = data.index(b"mdat") + 4  # the media data after the header: replaced by noise
    data[start:] = np.random.default_rng(1).integers(0, 256, len(data) - start, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))

    error = rejected(path)

    assert error.reason is ErrorCode.TRUNCATED and "do not decode" in error.message


def test_container_with_nothing_to_see_or_hear_is_refused(tmp_path: Path) -> None:
    error = rejected(files.data_only(tmp_path / "captions.mkv"))

    assert error.reason is ErrorCode.UNSUPPORTED_FORMAT
    assert "no sound and no moving picture" in error.message


def test_extension_that_names_another_format_is_refused(media: Path, tmp_path: Path) -> None:
    lying = tmp_path / "interview.mp3"
    lying.write_bytes((media / "tone.flac").read_bytes())

    error = rejected(lying)

    assert error.reason is ErrorCode.EXTENSION_MISMATCH
    assert "interview.mp3" in error.message and "FLAC" in error.message


def test_file_without_an_extension_is_judged_by_its_bytes(media: Path, tmp_path: Path) -> None:
    original = tmp_path / "original"
    original.write_bytes((media / "tone.flac").read_bytes())

    assert inspect_av(original, LIMITS).format == "FLAC"


def test_rejection_survives_pickling_for_airflow(tmp_path: Path) -> None:
    error = rejected(files.zero_duration(tmp_path / "stopped.wav"))

    assert pickle.loads(pickle.dumps(error)).reason is ErrorCode.ZERO_DURATION


# derive_av: video


@dataclass(frozen=True)
class VideoRun:
    facts: MediaFacts
    files: dict[str, DerivedFile]
    surrogates: list[Surrogate]


@pytest.fixture(scope="module")
def video(media: Path, tmp_path_factory: pytest.TempPathFactory) -> VideoRun:
    """The 2-second MP4 derived once with the default parameters."""
    facts = inspect_av(media / "clip.mp4", LIMITS)
    derived = derive_av(media / "clip.mp4", facts, tmp_path_factory.mktemp("video-out"), PARAMS)
    return VideoRun(facts, {f.name: f for f in derived.files}, derived.surrogates)


def test_video_gives_poster_contact_sheet_and_rendition_at_their_tiers(video: VideoRun) -> None:

    found = {name: (f.mime, f.tier) for name, f in video.files.items()}

    assert found == {"poster": ("image/jpeg", Tier.THUMBNAIL), "contact-sheet": ("image/jpeg", Tier.PREVIEW),
                     "rendition": ("video/mp4", Tier.PREVIEW)}
    assert all(f.path.stat().st_size > 0 for f in video.files.values())


def test_keyframes_are_evenly_spaced_and_differ(video: VideoRun) -> None:
    surrogates = video.surrogates
    step = video.facts.technical["duration_s"] / PARAMS.keyframes

    times = [s.time_s for s in surrogates]
    pictures = [pixels(s.path) for s in surrogates]

    assert len(surrogates) == PARAMS.keyframes
    assert times == pytest.approx([step * (i + 0.5) for i in range(PARAMS.keyframes)], abs=1 / 24 + 1e-6)
    assert all(np.abs(a - b).mean() > 2 for a, b in itertools.pairwise(pictures))


def test_pictures_are_never_upscaled(video: VideoRun) -> None:

    sizes = [size_of(s.path) for s in video.surrogates] + [size_of(video.files["poster"].path)]

    assert set(sizes) == {(320, 180)}
    assert (video.files["poster"].width, video.files["poster"].height) == (320, 180)


def test_poster_is_bounded_by_preview_px(media: Path, tmp_path: Path) -> None:
    facts = inspect_av(media / "clip.mp4", LIMITS)

    derived = derive_av(media / "clip.mp4", facts, tmp_path, replace(PARAMS, preview_px=100, keyframes=2))

    poster = next(f for f in derived.files if f.name == "poster")
    assert (poster.width, poster.height) == (100, 56) and size_of(poster.path) == (100, 56)


def test_contact_sheet_is_a_grid_of_the_keyframes(video: VideoRun) -> None:
    sheet = video.files["contact-sheet"]

    # 4 columns × 2 rows of 320 × 180 cells, 6 px gaps, a 22 px timestamp strip under each cell
    assert (sheet.width, sheet.height) == (6 + 4 * 326, 6 + 2 * (180 + 22 + 6))
    assert size_of(sheet.path) == (sheet.width, sheet.height)


def test_rendition_is_h264_aac_with_moov_first_and_plays_to_the_end(video: VideoRun) -> None:
    rendition = video.files["rendition"]

    with av.open(str(rendition.path)) as container:
        codecs = (container.streams.video[0].codec_context.name, container.streams.audio[0].codec_context.name)
        pix_fmt = container.streams.video[0].codec_context.pix_fmt
    boxes = top_level_boxes(rendition.path)
    ends = decoded(rendition.path)

    assert codecs == ("h264", "aac") and pix_fmt == "yuv420p"
    assert boxes.index("moov") < boxes.index("mdat")
    assert (rendition.width, rendition.height) == (320, 180)
    assert ends["VideoFrame"] == pytest.approx(video.facts.technical["duration_s"], abs=0.1)
    assert ends["AudioFrame"] == pytest.approx(video.facts.technical["duration_s"], abs=0.1)


def test_rendition_is_scaled_down_to_the_rendition_height(media: Path, tmp_path: Path) -> None:
    facts = inspect_av(media / "clip.webm", LIMITS)

    derived = derive_av(media / "clip.webm", facts, tmp_path, replace(PARAMS, rendition_height=90))

    rendition = next(f for f in derived.files if f.name == "rendition")
    with av.open(str(rendition.path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (160, 90) == (rendition.width,
                                                                                          rendition.height)
        assert stream.codec_context.name == "h264"


def test_rendition_never_runs_faster_than_30_frames_a_second(tmp_path: Path) -> None:
    path = files.mp4(tmp_path / "fast.mp4", 1.0, size=(160, 90), fps=60)
    facts = inspect_av(path, LIMITS)

    derived = derive_av(path, facts, tmp_path / "out", replace(PARAMS, keyframes=2))

    rendition = next(f for f in derived.files if f.name == "rendition")
    with av.open(str(rendition.path)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert facts.technical["frame_rate"] == 60.0 and 29 <= frames <= 31


def test_anamorphic_video_is_shown_at_its_display_aspect(tmp_path: Path) -> None:
    path = files.mp4(tmp_path / "dv.mp4", 1.0, pixel_aspect=Fraction(4, 3))  # 320 × 180 stored, 427 × 180 shown
    facts = inspect_av(path, LIMITS)

    derived = derive_av(path, facts, tmp_path / "out", replace(PARAMS, keyframes=2))

    found = {f.name: (f.width, f.height) for f in derived.files}
    assert (facts.technical["width"], facts.technical["height"]) == (320, 180)  # the frame as stored
    assert found["poster"] == (427, 180) and size_of(derived.surrogates[0].path) == (427, 180)
    rendition = next(f.path for f in derived.files if f.name == "rendition")
    with av.open(str(rendition)) as container:
        assert container.streams.video[0].sample_aspect_ratio in (None, 1)  # square pixels: shown as stored
    assert found["rendition"] == (426, 180) == first_frame(rendition)[0].shape[1::-1]


def test_poster_skips_a_black_opening(tmp_path: Path) -> None:
    path = files.mp4(tmp_path / "fade.mp4", 2.0, black_s=0.6)  # black at a tenth (0.2 s) and at the first keyframe
    facts = inspect_av(path, LIMITS)

    derived = derive_av(path, facts, tmp_path / "out", PARAMS)

    poster = next(f for f in derived.files if f.name == "poster")
    assert luminance(derived.surrogates[0].path) < 20
    assert luminance(poster.path) > 60


def test_video_without_sound_gets_a_rendition_without_sound(media: Path, tmp_path: Path) -> None:
    facts = inspect_av(media / "silent.mp4", LIMITS)

    derived = derive_av(media / "silent.mp4", facts, tmp_path, replace(PARAMS, keyframes=2))

    rendition = next(f for f in derived.files if f.name == "rendition")
    with av.open(str(rendition.path)) as container:
        assert (len(container.streams.video), len(container.streams.audio)) == (1, 0)


def test_phone_video_filmed_upright_is_shown_upright(tmp_path: Path) -> None:
    plain = files.mp4(tmp_path / "plain.mp4", 1.0)
    turned = files.upright_phone_mp4(tmp_path / "phone.mp4", 1.0)
    params = replace(PARAMS, keyframes=2)

    facts = inspect_av(turned, LIMITS)
    derived = derive_av(turned, facts, tmp_path / "phone", params)
    reference = derive_av(plain, inspect_av(plain, LIMITS), tmp_path / "plain", params)

    rendition = next(f for f in derived.files if f.name == "rendition")
    first, rotation = first_frame(rendition.path)
    assert (facts.technical["width"], facts.technical["height"]) == (180, 320)
    assert (rendition.width, rendition.height) == (180, 320) == first.shape[1::-1] and rotation == 0
    upright = np.rot90(pixels(reference.surrogates[0].path), k=-1)  # the plain keyframe turned 90° clockwise
    assert np.abs(pixels(derived.surrogates[0].path) - upright).mean() < 4
    assert np.abs(pixels(derived.surrogates[0].path) - np.rot90(upright, k=2)).mean() > 20  # not the wrong way
    assert np.abs(first - np.rot90(first_frame(plain)[0], k=-1)).mean() < 12


# derive_av: audio


def test_audio_gives_a_waveform_and_an_m4a_rendition(media: Path, tmp_path: Path) -> None:
    facts = inspect_av(media / "tone.wav", LIMITS)

    derived = derive_av(media / "tone.wav", facts, tmp_path, PARAMS)

    found = {f.name: (f.mime, f.tier, f.path.suffix) for f in derived.files}
    assert found == {"waveform": ("image/png", Tier.THUMBNAIL, ".png"),
                     "rendition": ("audio/mp4", Tier.PREVIEW, ".m4a")}
    assert derived.surrogates == []


def test_waveform_is_the_envelope_of_the_sound(media: Path, tmp_path: Path) -> None:
    facts = inspect_av(media / "tone.flac", LIMITS)

    derived = derive_av(media / "tone.flac", facts, tmp_path, replace(PARAMS, waveform_size=(400, 100)))

    waveform = next(f for f in derived.files if f.name == "waveform")
    grey = pixels(waveform.path, "L")
    drawn = grey < 150  # the envelope's colour is dark on a light ground
    assert grey.shape == (100, 400) and (waveform.width, waveform.height) == (400, 100)
    assert drawn.any(axis=0).all()  # a steady tone: every column has a bar
    assert 85 <= int(drawn.sum(axis=0).min()) <= 100  # scaled to its peak: each bar nearly the full height


def test_waveform_of_silence_is_a_line(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=8000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 8000), dtype=np.int16), format="s16", layout="mono")
        frame.sample_rate, frame.pts = 8000, 0
        out.mux(stream.encode(frame) + stream.encode(None))
    facts = inspect_av(path, LIMITS)

    derived = derive_av(path, facts, tmp_path / "out", replace(PARAMS, waveform_size=(200, 50)))

    assert int((pixels(derived.files[0].path, "L") < 150).sum(axis=0).max()) <= 2


def test_audio_rendition_is_aac_with_moov_first_and_lasts_as_long(media: Path, tmp_path: Path) -> None:
    facts = inspect_av(media / "tone.ogg", LIMITS)

    derived = derive_av(media / "tone.ogg", facts, tmp_path, PARAMS)

    rendition = next(f for f in derived.files if f.name == "rendition")
    with av.open(str(rendition.path)) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
    boxes = top_level_boxes(rendition.path)
    assert boxes.index("moov") < boxes.index("mdat")
    assert decoded(rendition.path)["AudioFrame"] == pytest.approx(facts.technical["duration_s"], abs=0.1)


def test_mp3_with_cover_art_derives_as_audio(media: Path, tmp_path: Path) -> None:
    facts = inspect_av(media / "cover.mp3", LIMITS)

    derived = derive_av(media / "cover.mp3", facts, tmp_path, PARAMS)

    assert sorted(f.name for f in derived.files) == ["rendition", "waveform"]


def test_calls_in_parallel_threads_each_open_their_own_containers(media: Path, tmp_path: Path) -> None:
    names = ["clip.mp4", "clip.webm", "tone.mp3", "tone.flac"]
    facts = {name: inspect_av(media / name, LIMITS) for name in names}

    def derive(name: str) -> int:
        return len(derive_av(media / name, facts[name], tmp_path / name, replace(PARAMS, keyframes=2)).files)

    with ThreadPoolExecutor(4) as pool:
        counts = list(pool.map(derive, names))

    assert counts == [3, 3, 2, 2]


@pytest.mark.parametrize(("total", "columns", "chunks"), [(100_000, 1600, [4608] * 21 + [3232]),
                                                          (1000, 1600, [300, 300, 400]),  # fewer samples than columns
                                                          (90_000, 1600, [4608] * 19 + [8000])])  # more than promised
def test_streamed_envelope_equals_the_envelope_of_all_samples(total: int, columns: int, chunks: list[int]) -> None:
    from services.ingest.media_av_render import _Envelope

    samples = np.random.default_rng(0).normal(size=sum(chunks)).astype(np.float32)
    envelope = _Envelope(columns, total)
    for start, stop in itertools.pairwise(np.cumsum([0, *chunks])):
        envelope.add(samples[start:stop])

    column = np.minimum(np.arange(samples.size) * columns // total, columns - 1)
    low, high = np.zeros(columns, np.float32), np.zeros(columns, np.float32)
    np.minimum.at(low, column, samples)
    np.maximum.at(high, column, samples)
    assert np.array_equal(envelope.low, low) and np.array_equal(envelope.high, high)


@pytest.mark.parametrize("name", ["clip.mp4", "clip.webm", "clip.mov", "clip.mkv", "clip.avi", "silent.mp4",
                                  "tone.wav", "tone.flac", "tone.mp3", "tone.m4a", "tone.ogg", "cover.mp3"])
def test_builders_files_are_sniffed_as_audio_or_video(media: Path, name: str) -> None:
    assert sniff(media / name, name) is Kind.AV
