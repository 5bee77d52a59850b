"""Clips served like static files: the same job gives the same bytes in every
format; seekable files (WebM with Cues, MP4 with moov first) read by libwebm,
mkvinfo and ffmpeg; the clip cache answers with a strong ETag, 304, ranges and
416 as RFC 9110 says, survives a restart, keeps its byte budget and renders two
identical jobs once; jobs are watched and cancelled by id."""
import email.parser
import io
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

import numpy as np

from harness import SOURCE, Daemon, at_once, decode_frames, ffprobe, metric, read_head

SMALL = {"raster": {"url": "jacksboro_dem.tif"},
         "camera": {"orbit": {"degrees": 90}},
         "output": {"width": 320, "height": 180, "frames": 40, "fps": 20,
                    "keyframe_interval": 10}}


def job(**output):
    j = json.loads(json.dumps(SMALL))
    j["output"].update(output)
    return j


def top_level_boxes(data):
    boxes, at = [], 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        boxes.append(kind.decode())
        at += size
    return boxes


def entry_file(cache_dir, etag):
    """The entry whose bytes hash to `etag`: <key>.<frames>.<size>.<digest>."""
    digest = etag.strip('"')
    names = [n for n in os.listdir(cache_dir) if n.endswith("." + digest)]
    assert len(names) == 1, (etag, os.listdir(cache_dir))
    return os.path.join(cache_dir, names[0])


def write_clip(data, suffix):
    f = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)
    f.write(data)
    f.close()
    return f.name


class SeekableTest(unittest.TestCase):
    """No clip cache: determinism and the finished files themselves."""

    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon("--workers", "1")

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def test_same_job_same_bytes_in_every_format(self):
        for fmt in ("webm", "mp4", "gif"):
            with self.subTest(format=fmt):
                streams = [self.daemon.render(job(format=fmt)) for _ in range(2)]
                files = [self.daemon.render(job(format=fmt, seekable=True)) for _ in range(2)]
                for status, headers, body in streams + files:
                    self.assertEqual(status, 200, body[:300])
                self.assertEqual(streams[0][2], streams[1][2])
                self.assertEqual(files[0][2], files[1][2])
                # The stream has no length up front; the finished file has, and an ETag.
                self.assertNotIn("content-length", streams[0][1])
                self.assertEqual(int(files[0][1]["content-length"]), len(files[0][2]))
                self.assertEqual(files[0][1]["accept-ranges"], "bytes")
                self.assertEqual(files[0][1]["etag"], files[1][1]["etag"])
                self.assertEqual(files[0][1]["x-rasterclip-cache"], "miss")
                # The same pictures either way (the same encoder bitstream).
                paths = [write_clip(streams[0][2], "." + fmt), write_clip(files[0][2], "." + fmt)]
                try:
                    a, b = (decode_frames(p, 320, 180) for p in paths)
                    self.assertEqual(len(a), 40)
                    self.assertTrue(np.array_equal(a, b))
                finally:
                    for p in paths:
                        os.unlink(p)

    def test_seekable_webm_has_cues_at_every_keyframe_cluster(self):
        status, headers, body = self.daemon.render(job(seekable=True))
        self.assertEqual(status, 200)
        path = write_clip(body, ".webm")
        try:
            # libwebm's parser: the Cues and their points.
            info = subprocess.run(["webm_info", "-i", path, "-all"], capture_output=True,
                                  text=True).stdout
            self.assertIn("Cues:", info)
            points = re.findall(r"Cue Point:\d+ type:V track:1 secs:(\d+)", info)
            self.assertEqual(len(points), 4, info[-2000:])  # 40 frames, a keyframe every 10
            clusters = re.findall(r"Cluster:", info)
            self.assertEqual(len(clusters), 4)
            # mkvinfo: a SeekHead that points at the Cues, a Segment of known size.
            mkv = subprocess.run(["mkvinfo", "--all", path], capture_output=True,
                                 text=True).stdout
            self.assertIn("(KaxCues)", mkv)
            self.assertEqual(len(re.findall(r"\+ Cue point", mkv)), 4)
            size = int(re.search(r"\+ Segment: size (\d+)", mkv).group(1))
            # The Segment (ID and an 8-byte size after the EBML header) runs to the end.
            header_end = 5 + (body[4] & 0x7f)  # a one-byte size: 0x80 | length
            self.assertEqual(body[header_end:header_end + 4], bytes.fromhex("18538067"))
            self.assertEqual(size, len(body) - header_end - 12)
            stream, fmt = ffprobe(path)
            self.assertEqual(int(stream["nb_read_frames"]), 40)
            self.assertAlmostEqual(float(fmt["duration"]), 2.0, places=2)
        finally:
            os.unlink(path)

    def test_seekable_mp4_has_moov_before_mdat(self):
        status, headers, body = self.daemon.render(job(format="mp4", seekable=True))
        self.assertEqual(status, 200)
        self.assertEqual(top_level_boxes(body), ["ftyp", "moov", "mdat"])
        self.assertNotIn(b"moof", body[:body.index(b"mdat")])
        path = write_clip(body, ".mp4")
        try:
            stream, fmt = ffprobe(path)
            self.assertEqual(int(stream["nb_read_frames"]), 40)
            self.assertAlmostEqual(float(fmt["duration"]), 2.0, places=2)
            # Every keyframe listed (stss): ffprobe's key_frame flags.
            keys = subprocess.run(
                ["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                 "packet=flags", "-of", "csv=p=0", path], capture_output=True,
                text=True).stdout.split()
            self.assertEqual([i for i, k in enumerate(keys) if k.startswith("K")],
                             [0, 10, 20, 30])
        finally:
            os.unlink(path)


class CacheDaemonTest(unittest.TestCase):
    """One daemon with a clip cache of its own for the class."""

    @classmethod
    def setUpClass(cls):
        cls.cache_dir = tempfile.mkdtemp(prefix="rasterclip-clips-")
        cls.daemon = Daemon("--workers", "2", "--clip-cache", cls.cache_dir)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        shutil.rmtree(cls.cache_dir, ignore_errors=True)

    def get(self, query, headers=None):
        return self.daemon.request("GET", "/v1/render?" + urllib.parse.urlencode(query),
                                   headers=headers)


class ClipCacheTest(CacheDaemonTest):

    QUERY = {"url": "jacksboro_dem.tif", "orbit": "90", "width": "320", "height": "180",
             "frames": "40", "fps": "20", "keyframe_interval": "10", "title": "cached"}

    def test_a_repeated_job_is_answered_from_the_cache(self):
        query = dict(self.QUERY, title="repeat")
        hits0 = metric(self.daemon, "rasterclip_clip_cache_hits_total")
        status, headers, streamed = self.get(query)
        self.assertEqual(status, 200)
        self.assertNotIn("etag", headers)  # a live stream: no finished file yet
        # The same job in the JSON form, its fields in another order: the same entry.
        as_json = {"output": {"keyframe_interval": 10, "fps": 20, "frames": 40, "height": 180,
                              "width": 320},
                   "style": {"title": "repeat"}, "camera": {"orbit": {"degrees": 90}},
                   "raster": {"url": "jacksboro_dem.tif"}}
        started = time.monotonic()
        status, headers, cached = self.daemon.render(as_json)
        elapsed = time.monotonic() - started
        self.assertEqual(status, 200)
        self.assertEqual(headers["x-rasterclip-cache"], "hit")
        self.assertRegex(headers["etag"], r'^"[0-9a-f]{64}"$')
        self.assertEqual(int(headers["content-length"]), len(cached))
        self.assertEqual(headers["x-frame-count"], "40")
        self.assertEqual(metric(self.daemon, "rasterclip_clip_cache_hits_total"), hits0 + 1)
        print("\ncached answer: %d bytes in %.1f ms (the stream was %d bytes)"
              % (len(cached), elapsed * 1e3, len(streamed)))
        # The cached file is the finished form of what was streamed: the same pictures.
        paths = [write_clip(streamed, ".webm"), write_clip(cached, ".webm")]
        try:
            a, b = (decode_frames(p, 320, 180) for p in paths)
            self.assertTrue(np.array_equal(a, b))
            self.assertIn("Cues:", subprocess.run(["webm_info", "-i", paths[1], "-all"],
                                                  capture_output=True, text=True).stdout)
        finally:
            for p in paths:
                os.unlink(p)
        # And what the log says: the second job was not rendered.
        self.daemon.wait_for_log(r"outcome=ok .*cached=1")

    def test_conditional_requests_and_ranges(self):
        query = dict(self.QUERY, title="ranges", seekable="true")
        status, headers, full = self.get(query)
        self.assertEqual(status, 200)
        etag, size = headers["etag"], len(full)
        # If-None-Match: the tag itself, in a list, weak, or "*".
        for inm in (etag, '"x", ' + etag, "W/" + etag, "*"):
            status, h, body = self.get(query, {"If-None-Match": inm})
            self.assertEqual((status, body), (304, b""), inm)
            self.assertEqual(h["etag"], etag)
        status, _, _ = self.get(query, {"If-None-Match": '"other"'})
        self.assertEqual(status, 200)
        # One range, a suffix, an open end.
        for spec, first, last in (("bytes=100-199", 100, 199), ("bytes=-500", size - 500,
                                                                  size - 1),
                                  ("bytes=%d-" % (size - 7), size - 7, size - 1),
                                  ("bytes=0-%d" % (size * 2), 0, size - 1)):
            status, h, body = self.get(query, {"Range": spec})
            self.assertEqual(status, 206, spec)
            self.assertEqual(body, full[first:last + 1], spec)
            self.assertEqual(h["content-range"], "bytes %d-%d/%d" % (first, last, size))
        # Several ranges: multipart/byteranges, each part its slice of the file.
        status, h, body = self.get(query, {"Range": "bytes=0-9, 1000-1999, -16"})
        self.assertEqual(status, 206)
        self.assertTrue(h["content-type"].startswith("multipart/byteranges; boundary="))
        message = email.parser.BytesParser().parsebytes(
            b"Content-Type: " + h["content-type"].encode() + b"\r\n\r\n" + body)
        parts = message.get_payload()
        self.assertEqual(len(parts), 3)
        for part, (first, last) in zip(parts, ((0, 9), (1000, 1999), (size - 16, size - 1))):
            self.assertEqual(part["Content-Range"], "bytes %d-%d/%d" % (first, last, size))
            self.assertEqual(part["Content-Type"], "video/webm")
            self.assertEqual(part.get_payload(decode=True), full[first:last + 1])
        # Nothing satisfiable: 416 with the size; a malformed header is ignored.
        status, h, body = self.get(query, {"Range": "bytes=%d-" % size})
        self.assertEqual(status, 416)
        self.assertEqual(h["content-range"], "bytes */%d" % size)
        self.assertEqual(json.loads(body)["error"]["field"], "Range")
        status, _, body = self.get(query, {"Range": "bytes=9-3"})
        self.assertEqual((status, body), (200, full))
        # If-Range: the current tag honours the range; another sends the whole file.
        status, _, body = self.get(query, {"Range": "bytes=0-3", "If-Range": etag})
        self.assertEqual((status, body), (206, full[:4]))
        status, _, body = self.get(query, {"Range": "bytes=0-3", "If-Range": '"old"'})
        self.assertEqual((status, body), (200, full))

    def test_identical_jobs_at_once_render_once(self):
        query = dict(self.QUERY, title="twins", seekable="true", frames="120")
        stores0 = metric(self.daemon, "rasterclip_clip_cache_stores_total")
        results = at_once(lambda: self.get(query), 2)
        self.assertEqual(sorted(r[1]["x-rasterclip-cache"] for r in results), ["hit", "miss"])
        self.assertEqual(results[0][2], results[1][2])
        self.assertEqual(metric(self.daemon, "rasterclip_clip_cache_stores_total"), stores0 + 1)

    def test_a_changed_file_is_rendered_afresh(self):
        shutil.copy(os.path.join(self.daemon.root, "jacksboro_dem.tif"),
                    os.path.join(self.daemon.root, "changing.tif"))
        query = dict(self.QUERY, url="changing.tif", seekable="true", frames="4")
        first = self.get(query)
        self.assertEqual(first[1]["x-rasterclip-cache"], "miss")
        self.assertEqual(self.get(query)[1]["x-rasterclip-cache"], "hit")
        stat = os.stat(os.path.join(self.daemon.root, "changing.tif"))
        os.utime(os.path.join(self.daemon.root, "changing.tif"),
                 ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
        again = self.get(query)
        self.assertEqual(again[1]["x-rasterclip-cache"], "miss")
        # Rendered again (a new key), to the same bytes: the same strong ETag.
        self.assertEqual(again[2], first[2])
        self.assertEqual(again[1]["etag"], first[1]["etag"])

    def test_delete_empties_the_cache(self):
        query = dict(self.QUERY, title="deleted", seekable="true", frames="4")
        status, headers, _ = self.get(query)
        etag = headers["etag"]
        entry = entry_file(self.cache_dir, etag)
        self.assertTrue(os.path.exists(entry))
        status, _, body = self.daemon.request("DELETE", "/v1/cache/" + urllib.parse.quote(etag))
        self.assertEqual((status, json.loads(body)), (200, {"removed": 1}))
        self.assertFalse(os.path.exists(entry))
        self.assertEqual(self.get(query)[1]["x-rasterclip-cache"], "miss")
        status, _, body = self.daemon.request("DELETE", "/v1/cache/" + "0" * 64)
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(body)["error"]["field"], "key")
        status, _, body = self.daemon.request("DELETE", "/v1/cache")
        self.assertEqual(status, 200)
        self.assertGreaterEqual(json.loads(body)["removed"], 1)
        self.assertEqual(metric(self.daemon, "rasterclip_clip_cache_entries"), 0)
        self.assertEqual([n for n in os.listdir(self.cache_dir) if not n.startswith(".")], [])
        self.assertEqual(self.get(query)[1]["x-rasterclip-cache"], "miss")


class CacheIntegrityTest(CacheDaemonTest):
    """An entry is checked before it is served: damaged ones are dropped, counted,
    logged and rendered afresh."""

    def get_titled(self, title):
        return self.get(dict(ClipCacheTest.QUERY, title=title, seekable="true", frames="6"))

    def test_damaged_entries_are_rendered_afresh(self):
        outside = tempfile.NamedTemporaryFile(delete=False)
        outside.close()

        def flip(path, good):
            data = bytearray(good)
            for at in (100, len(data) // 2, len(data) - 5):
                data[at] ^= 0xFF
            with open(path, "wb") as f:
                f.write(data)

        def truncate(path, good):
            with open(path, "wb") as f:
                f.write(good[:len(good) // 2])

        def empty(path, good):
            open(path, "wb").close()

        def symlink(path, good):
            # Even to the very same bytes: a link is not followed.
            with open(outside.name, "wb") as f:
                f.write(good)
            os.unlink(path)
            os.symlink(outside.name, path)

        try:
            for title, damage in (("flip", flip), ("truncate", truncate), ("empty", empty),
                                  ("symlink", symlink)):
                with self.subTest(damage=title):
                    status, headers, good = self.get_titled(title)
                    self.assertEqual((status, headers["x-rasterclip-cache"]), (200, "miss"))
                    corrupt = metric(self.daemon, "rasterclip_clip_cache_corrupt_total")
                    path = entry_file(self.cache_dir, headers["etag"])
                    damage(path, good)
                    status, again_headers, again = self.get_titled(title)
                    self.assertEqual(status, 200)
                    self.assertEqual(again_headers["x-rasterclip-cache"], "miss")
                    self.assertEqual(again, good)
                    self.assertEqual(again_headers["etag"], headers["etag"])
                    self.assertEqual(int(again_headers["content-length"]), len(good))
                    self.assertEqual(
                        metric(self.daemon, "rasterclip_clip_cache_corrupt_total"), corrupt + 1)
                    self.daemon.wait_for_log(r'msg="clip cache entry damaged, dropped" key=\w+ '
                                             r'why=%s' % {"flip": "content", "truncate": "size",
                                                          "empty": "size",
                                                          "symlink": "symlink"}[title])
                    # Stored afresh, whole, and served from the cache again.
                    self.assertFalse(os.path.islink(entry_file(self.cache_dir,
                                                               headers["etag"])))
                    status, third_headers, third = self.get_titled(title)
                    self.assertEqual((third_headers["x-rasterclip-cache"], third),
                                     ("hit", good))
        finally:
            os.unlink(outside.name)


class CacheLifetimeTest(unittest.TestCase):
    def setUp(self):
        self.cache_dir = tempfile.mkdtemp(prefix="rasterclip-clips-")

    def tearDown(self):
        shutil.rmtree(self.cache_dir, ignore_errors=True)

    def upload(self, daemon, array, title, size=(320, 180), frames=20):
        buf = io.BytesIO()
        np.save(buf, array)
        query = urllib.parse.urlencode({"title": title, "width": size[0], "height": size[1],
                                        "frames": frames, "seekable": "true"})
        return daemon.request("POST", "/v1/render?" + query, body=buf.getvalue(),
                              headers={"Content-Type": "application/x-npy"})

    def test_the_cache_survives_a_restart(self):
        array = np.add.outer(np.arange(64.0), np.arange(48.0)).astype(np.float32)
        first = Daemon("--clip-cache", self.cache_dir)
        try:
            status, headers, body = self.upload(first, array, "restart")
            self.assertEqual((status, headers["x-rasterclip-cache"]), (200, "miss"))
        finally:
            first.stop()
        # A temporary file an interrupted store left behind is cleared at start-up.
        with open(os.path.join(self.cache_dir, ".tmp-left-over"), "wb") as f:
            f.write(b"x" * 100)
        second = Daemon("--clip-cache", self.cache_dir)
        try:
            self.assertEqual(metric(second, "rasterclip_clip_cache_entries"), 1)
            self.assertFalse(os.path.exists(os.path.join(self.cache_dir, ".tmp-left-over")))
            status, again, same = self.upload(second, array, "restart")
            self.assertEqual((status, again["x-rasterclip-cache"]), (200, "hit"))
            self.assertEqual(same, body)
            self.assertEqual(again["etag"], headers["etag"])
        finally:
            second.stop()

    def test_the_cache_keeps_its_byte_budget(self):
        daemon = Daemon("--clip-cache", self.cache_dir, "--clip-cache-mb", "1")
        try:
            rng = np.random.default_rng(7)
            noise = rng.random((90, 160)).astype(np.float32)  # hard to compress: large clips
            sizes = []
            def upload(i):
                return self.upload(daemon, noise, "budget %d" % i, (640, 360), 30)
            for i in range(5):
                status, headers, body = upload(i)
                self.assertEqual(status, 200)
                sizes.append(len(body))
            on_disk = sum(os.path.getsize(os.path.join(self.cache_dir, n))
                          for n in os.listdir(self.cache_dir))
            print("\nclip cache budget 1 MiB: clips of %s bytes, %d bytes on disk"
                  % (sizes, on_disk))
            self.assertGreater(sum(sizes), 1 << 20)  # more than fits
            self.assertLessEqual(on_disk, 1 << 20)
            self.assertGreaterEqual(metric(daemon, "rasterclip_clip_cache_evictions_total"), 1)
            self.assertEqual(metric(daemon, "rasterclip_clip_cache_bytes"), on_disk)
            # Least recently used first out: the newest is kept, the oldest went.
            self.assertEqual(upload(4)[1]["x-rasterclip-cache"], "hit")
            self.assertEqual(upload(0)[1]["x-rasterclip-cache"], "miss")
        finally:
            daemon.stop()


    def test_a_remote_raster_is_known_by_its_etag(self):
        """A URL's clip is cached under the server's ETag: the same ETag is a hit,
        a new one (the file changed upstream) renders afresh."""
        from rangeserver import RangeServer
        folder = tempfile.mkdtemp(prefix="rasterclip-remote-")
        shutil.copy(os.path.join(SOURCE, "tests", "data", "byte_20x20.tif"), folder)
        server = RangeServer(folder)
        daemon = Daemon("--clip-cache", self.cache_dir, "--allow-private")
        try:
            remote = {"raster": {"url": server.url("/files/byte_20x20.tif")},
                      "output": {"width": 64, "height": 36, "frames": 4, "seekable": True}}
            first = daemon.render(remote)
            self.assertEqual((first[0], first[1]["x-rasterclip-cache"]), (200, "miss"))
            again = daemon.render(remote)
            self.assertEqual(again[1]["x-rasterclip-cache"], "hit")
            self.assertEqual((again[1]["etag"], again[2]), (first[1]["etag"], first[2]))
            server.versions["byte_20x20.tif"] = "v2"  # the file changed upstream
            changed = daemon.render(remote)
            self.assertEqual(changed[1]["x-rasterclip-cache"], "miss")
            # Only the validator changed, not the bytes: the clip, and so its strong
            # ETag (the digest of its bytes), are the same.
            self.assertEqual((changed[1]["etag"], changed[2]), (first[1]["etag"], first[2]))
        finally:
            daemon.stop()
            server.close()
            shutil.rmtree(folder, ignore_errors=True)

    def test_a_hit_needs_no_worker(self):
        """With the only worker busy and the queue full, a cached clip is still
        answered at once (found before queueing), counted and logged as a job."""
        daemon = Daemon("--clip-cache", self.cache_dir, "--workers", "1", "--queue", "1")
        socks = []
        try:
            small = job(seekable=True, frames=4)
            self.assertEqual(daemon.render(small)[1]["x-rasterclip-cache"], "miss")
            long_job = json.dumps({"raster": {"url": "jacksboro_dem.tif"},
                                   "output": {"width": 640, "height": 360,
                                              "frames": 3000}}).encode()
            for _ in range(2):  # one runs, one waits: the queue is full
                sock = socket.create_connection((daemon.host, daemon.port), timeout=60)
                sock.sendall(b"POST /v1/render HTTP/1.1\r\nHost: x\r\nContent-Type: "
                             b"application/json\r\nContent-Length: %d\r\n\r\n"
                             % len(long_job) + long_job)
                socks.append(sock)
                # The first leaves the queue before the second comes.
                daemon.wait_for_log(r"msg=\"job started\" format=webm seekable=0")
            deadline = time.monotonic() + 60
            while metric(daemon, "rasterclip_queue_depth") != 1:  # the second one waits
                self.assertLess(time.monotonic(), deadline, "the queue never filled")
                daemon._reader.join(0.05)
            self.assertEqual(daemon.render(job(frames=5))[0], 429)  # the queue is full
            started = time.monotonic()
            status, headers, body = daemon.render(small)
            elapsed = time.monotonic() - started
            self.assertEqual((status, headers["x-rasterclip-cache"]), (200, "hit"))
            self.assertEqual(headers["x-frame-count"], "4")
            self.assertEqual(int(headers["content-length"]), len(body))
            daemon.wait_for_log(r"outcome=ok w=320 h=180 frames=4 .*cached=1 seekable=1 early=1")
            print("\ncached answer with every worker busy: %.1f ms" % (elapsed * 1e3))
        finally:
            for sock in socks:
                sock.close()
            daemon.stop()


class ProgressTest(unittest.TestCase):
    TOKENS = ("token-of-alice", "token-of-bob")

    @classmethod
    def setUpClass(cls):
        cls.tokens = tempfile.NamedTemporaryFile("w", delete=False)
        cls.tokens.write("\n".join(cls.TOKENS) + "\n")
        cls.tokens.close()
        cls.daemon = Daemon("--workers", "2", "--token-file", cls.tokens.name)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        os.unlink(cls.tokens.name)

    def auth(self, who=0):
        return {"Authorization": "Bearer " + self.TOKENS[who]}

    def status_of(self, job_id, who=0, method="GET"):
        status, _, body = self.daemon.request(method, "/v1/jobs/" + job_id, headers=self.auth(who))
        return status, json.loads(body)

    def start(self, job, who=0):
        """Starts a job on a raw connection; returns the socket, its id and what came."""
        body = json.dumps(job).encode()
        sock = socket.create_connection((self.daemon.host, self.daemon.port), timeout=60)
        sock.sendall(b"POST /v1/render HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Authorization: Bearer " + self.TOKENS[who].encode() + b"\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return sock

    def test_progress_then_cancel_under_load(self):
        long_job = {"raster": {"url": "jacksboro_dem.tif"},
                    "output": {"width": 640, "height": 360, "frames": 3000}}
        sock = self.start(long_job)
        got = read_head(sock)
        job_id = re.search(rb"X-Request-Id: ([0-9a-f]{16})", got).group(1).decode()
        # Another client's jobs run meanwhile on the other worker.
        others = []
        runner = threading.Thread(target=lambda: others.extend(
            self.daemon.request("POST", "/v1/render", body=json.dumps(SMALL), headers=dict(
                {"Content-Type": "application/json"}, **self.auth(1)))[0] for _ in range(3)))
        runner.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            got += sock.recv(65536)  # the client reads, so frames keep coming
            status, report = self.status_of(job_id)
            if report["frames_done"] >= 20:
                break
        self.assertEqual(status, 200)
        self.assertEqual(report["id"], job_id)
        self.assertEqual(report["state"], "running")
        self.assertEqual(report["frames_total"], 3000)
        self.assertGreater(report["bytes_sent"], 0)
        self.assertGreater(report["seconds_left"], 0)
        self.assertEqual(set(report["stage_ms"]),
                         {"load", "render", "readback", "convert", "encode", "mux"})
        self.assertGreater(report["stage_ms"]["encode"], 0)
        later = self.status_of(job_id)[1]
        self.assertGreaterEqual(later["frames_done"], report["frames_done"])
        # Another token sees no such job, and cannot cancel it.
        self.assertEqual(self.status_of(job_id, who=1)[0], 404)
        self.assertEqual(self.status_of(job_id, who=1, method="DELETE")[0], 404)
        status, report = self.status_of(job_id, method="DELETE")
        self.assertEqual(status, 202)
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
        sock.close()
        self.assertFalse(got.endswith(b"\r\n0\r\n\r\n"), "the stream ended as if complete")
        self.daemon.wait_for_log(r"job=%s outcome=cancelled" % job_id)
        status, report = self.status_of(job_id)
        self.assertEqual((status, report["state"]), (200, "cancelled"))
        self.assertLess(report["frames_done"], 3000)
        runner.join(120)
        self.assertEqual(others, [200, 200, 200])

    def test_a_seekable_job_cancelled_before_its_file(self):
        sock = self.start({"raster": {"url": "jacksboro_dem.tif"},
                           "output": {"width": 640, "height": 360, "frames": 3000,
                                      "seekable": True}})
        # The id is not sent before the file: find the running job in the registry by
        # its log line once it has started.
        deadline = time.monotonic() + 60
        job_id = None
        while job_id is None and time.monotonic() < deadline:
            found = re.findall(r"job=([0-9a-f]{16}) msg=\"job started\"", self.daemon.log())
            job_id = found[-1] if found else None
            self.daemon._reader.join(0.05)
        self.assertIsNotNone(job_id, self.daemon.log()[-2000:])
        self.assertEqual(self.status_of(job_id, method="DELETE")[0], 202)
        got = read_head(sock)
        sock.close()
        self.assertEqual(got, b"")  # the connection ends without an answer
        self.daemon.wait_for_log(r"job=%s outcome=cancelled" % job_id)

    def test_unknown_job(self):
        status, body = self.status_of("0123456789abcdef")
        self.assertEqual(status, 404)
        self.assertEqual(body["error"]["field"], "id")
        status, _, _ = self.daemon.request("GET", "/v1/jobs/0123456789abcdef")
        self.assertEqual(status, 401)


if __name__ == "__main__":
    unittest.main()
