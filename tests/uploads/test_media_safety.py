"""Untrusted media (issue #11 items 1, 3, 4, 5): playlists and image sequences refused everywhere, sizes read
from the container headers and refused over 3840x2160 or the maximum duration, used upload URLs refused,
partial uploads cleaned up. Real PyAV files, the real upload view and the real pipelines' open calls."""

from __future__ import annotations

import os
import struct
import time
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import av
import numpy as np
import pytest
from testmedia import make_clip

import mediasafe as media
from ops.retention import purge
from rendering.pipeline import RenderError
from rendering.pipeline.probe import probe_source
from transcription.pipeline.audio import load_audio
from transcription.pipeline.errors import PipelineError
from uploads import storage
from uploads.models import Video
from uploads.probe import MediaInvalid, probe

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("media-safety")
    clip = root / "secret-clip.mp4"  # stands for any media file elsewhere on the server
    make_clip(clip, seconds=1.0)
    out = {"clip": clip}
    out["hls"] = root / "evil.m3u8"
    out["hls"].write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:{clip}\n#EXT-X-ENDLIST\n")
    out["concat"] = root / "evil.ffconcat"
    out["concat"].write_text(f"ffconcat version 1.0\nfile '{clip}'\n")
    out["png"] = root / "bomb.mp4"
    out["png"].write_bytes(_png(16000, 16000))
    out["big"] = root / "big.mp4"
    _h264(out["big"], 4000, 2000)  # over 3840 wide, under the pixel cap
    out["huge"] = root / "huge.mp4"
    _h264(out["huge"], 6000, 4000)  # over the pixel cap
    out["portrait"] = root / "portrait.mp4"
    _h264(out["portrait"], 2160, 3840)
    return out


def _png(width: int, height: int) -> bytes:
    """A tiny file that decodes to width x height x 3 bytes (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = zlib.compress(b"".join(b"\0" + bytes(width * 3) for _ in range(height)), 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))


def _h264(path: Path, width: int, height: int) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((height, width, 3), np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)


def put_file(auth_api, api, path: Path, filename: str):
    body = auth_api.post("/api/upload-video/generate-url", {"filename": filename, "content_type": "video/mp4"},
                         format="json").json()
    response = api.generic("PUT", urlsplit(body["upload_url"]).path, path.read_bytes(), content_type="video/mp4")
    return body, response


# -- item 1: playlists, concat lists, image sequences ---------------------------------------------------
def test_ffmpeg_itself_would_follow_the_playlist(files):
    """The attack is real: FFmpeg's guessing opens the playlist's file: segment (what the old probe did)."""
    with av.open(str(files["hls"])) as container:
        assert container.format.name == "hls" and container.streams.video[0].codec_context.width == 160


@pytest.mark.parametrize("name", ["hls", "concat", "png"])
def test_safe_open_refuses_what_is_not_a_single_media_file(files, name):
    with pytest.raises(media.MediaRefused) as info:
        media.open_media(files[name])
    assert info.value.code == media.MEDIA_UNSUPPORTED_FORMAT


@pytest.mark.parametrize(("name", "filename"), [("hls", "evil.m3u8"), ("concat", "list.ffconcat"),
                                                ("png", "bomb.mp4")])
def test_upload_of_playlist_or_image_is_refused_and_not_kept(auth_api, api, files, name, filename):
    body, response = put_file(auth_api, api, files[name], filename)
    assert response.status_code == 422, response.content
    assert response.json()["error"] == "MEDIA_UNSUPPORTED_FORMAT"
    video = Video.objects.get(key=body["file_key"])
    assert video.status == "invalid" and video.invalid_code == "MEDIA_UNSUPPORTED_FORMAT"
    assert video.width is None and video.duration is None  # nothing read from the referenced file
    assert not storage.local_path(body["file_key"]).exists()


def test_pipelines_refuse_the_playlist_too(files):
    with pytest.raises(PipelineError) as transcription:
        load_audio(str(files["hls"]))
    assert transcription.value.code == "MEDIA_INVALID"
    with pytest.raises(RenderError) as render:
        probe_source(str(files["hls"]))
    assert render.value.code == "RENDER_SOURCE_INVALID"


@pytest.mark.parametrize(("fmt", "vcodec", "acodec", "expected"), [
    ("mp4", "libx264", "aac", "mov"), ("mov", "libx264", "aac", "mov"), ("matroska", "libx264", "aac", "matroska"),
    ("webm", "libvpx-vp9", "libopus", "matroska"), ("avi", "mpeg4", "pcm_s16le", "avi"),
    ("mpegts", "libx264", "aac", "mpegts"), ("wav", None, "pcm_s16le", "wav"), ("flac", None, "flac", "flac"),
    ("ogg", None, "libopus", "ogg"), ("mp3", None, "libmp3lame", "mp3"), ("adts", None, "aac", "aac"),
])
def test_accepted_containers_open(tmp_path, fmt, vcodec, acodec, expected):
    path = tmp_path / f"sample.{fmt}"
    rate = 48000 if acodec == "libopus" else 44100
    with av.open(str(path), "w", format=fmt) as out:
        v = out.add_stream(vcodec, rate=25) if vcodec else None
        if v is not None:
            v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        a = out.add_stream(acodec, rate=rate)
        a.layout = "mono"
        for i in range(10 if v is not None else 0):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 20, np.uint8), format="rgb24")
            frame.pts = i
            for p in v.encode(frame):
                out.mux(p)
        size = a.codec_context.frame_size or 1152
        for i in range(20):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, size), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = rate, i * size
            for p in a.encode(frame):
                out.mux(p)
        for s in (v, a):
            for p in s.encode() if s is not None else ():
                out.mux(p)
    assert media.sniff_format(path) == expected
    with media.open_media(path) as container:
        assert container.format.name in media.ALLOWED_DEMUXERS
        assert container.streams.audio


# -- item 3: sizes from the headers, never a decode in the request --------------------------------------
def test_oversized_video_is_refused_from_its_headers(auth_api, api, files):
    body, response = put_file(auth_api, api, files["big"], "big.mp4")
    assert response.status_code == 422
    error = response.json()
    assert error["error"] == "MEDIA_TOO_LARGE" and error["details"]["file_key"] == body["file_key"]
    video = Video.objects.get(key=body["file_key"])
    assert video.status == "invalid" and video.invalid_code == "MEDIA_TOO_LARGE" and "4000x2000" in video.invalid_reason


def test_portrait_4k_is_accepted(auth_api, api, files):
    body, response = put_file(auth_api, api, files["portrait"], "portrait.mp4")
    assert response.status_code == 200 and response.json()["status"] == "ready"
    video = Video.objects.get(key=body["file_key"])
    assert (video.width, video.height) == (2160, 3840)


def test_too_long_media_is_refused(auth_api, api, files, monkeypatch):
    monkeypatch.setattr(media, "MAX_DURATION", 0.5)
    _, response = put_file(auth_api, api, files["clip"], "long.mp4")
    assert response.status_code == 422 and response.json()["error"] == "MEDIA_TOO_LONG"
    assert response.json()["details"]["file_key"]


def test_decoder_refuses_frames_over_the_pixel_cap(files):
    """Even a stream whose headers lie cannot make a decoder allocate more than MAX_PIXELS."""
    with media.open_media(files["huge"]) as container, pytest.raises(av.FFmpegError):
        for _frame in container.decode(video=0):
            pass
    with pytest.raises(MediaInvalid) as info:
        probe(files["huge"])
    assert info.value.code == "MEDIA_TOO_LARGE"


# -- item 4: a used upload URL ---------------------------------------------------------------------------
def test_used_upload_url_is_refused_and_file_kept(auth_api, api, files):
    body, first = put_file(auth_api, api, files["clip"], "clip.mp4")
    assert first.status_code == 200
    before = Video.objects.get(key=body["file_key"])
    again = api.generic("PUT", urlsplit(body["upload_url"]).path, files["portrait"].read_bytes(),
                        content_type="video/mp4")
    assert again.status_code == 409 and again.json()["error"] == "UPLOAD_URL_USED"
    after = Video.objects.get(key=body["file_key"])
    assert storage.local_path(body["file_key"]).read_bytes() == files["clip"].read_bytes()
    assert (after.width, after.size, after.probed_at) == (before.width, before.size, before.probed_at)


# -- item 5: partial uploads -----------------------------------------------------------------------------
def test_purge_removes_stale_partial_uploads_only(settings, auth_api, user):
    key = storage.new_upload_key(user.pk, "clip.mp4")
    folder = storage.local_path(key).parent
    folder.mkdir(parents=True)
    stale, fresh = folder / ".upload-crashed", folder / ".upload-in-progress"
    stale.write_bytes(b"\0" * 1000)
    fresh.write_bytes(b"\0" * 10)
    old = time.time() - settings.PARTIAL_UPLOAD_MAX_AGE - 60
    os.utime(stale, (old, old))
    report = purge(older_than_days=30, dry_run=True)
    assert report.partial_uploads == [str(stale)] and stale.exists()
    report = purge(older_than_days=30)
    assert report.partial_uploads == [str(stale)] and report.bytes_freed >= 1000
    assert not stale.exists() and fresh.exists()


def test_delete_removes_partial_upload_of_the_video(auth_api):
    body = auth_api.post("/api/upload-video/generate-url", {"filename": "clip.mp4", "content_type": "video/mp4"},
                         format="json").json()
    folder = storage.local_path(body["file_key"]).parent
    folder.mkdir(parents=True)
    (folder / ".upload-abc123").write_bytes(b"\0" * 100)
    video = Video.objects.get(key=body["file_key"])
    assert auth_api.delete(f"/api/videos/{video.id}").status_code == 200
    assert not any(folder.glob(".upload-*"))
