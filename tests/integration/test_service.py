"""Service behaviour: a full queue answers 429 with Retry-After, every accepted
job still completes, and the daemon reports its workers in /metrics and /readyz."""
import json
import os
import tempfile
import threading
import unittest

from harness import Daemon, ffprobe


class QueueTest(unittest.TestCase):
    def test_full_queue_gets_429_and_accepted_jobs_finish(self):
        daemon = Daemon("--workers", "1", "--queue", "1")
        try:
            job = {"raster": {"url": "jacksboro_dem.tif"},
                   "output": {"width": 640, "height": 360, "fps": 30, "frames": 150}}
            results = []
            lock = threading.Lock()

            def client():
                status, headers, body = daemon.render(job)
                with lock:
                    results.append((status, headers, body))

            threads = [threading.Thread(target=client) for _ in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(300)
            statuses = sorted(r[0] for r in results)
            self.assertEqual(len(statuses), 6)
            self.assertIn(429, statuses)
            self.assertIn(200, statuses)
            self.assertTrue(set(statuses) <= {200, 429}, statuses)
            for status, headers, body in results:
                if status == 429:
                    self.assertEqual(headers.get("retry-after"), "2")
                    self.assertEqual(json.loads(body)["error"]["code"], "busy")
                    continue
                with tempfile.NamedTemporaryFile(suffix=".webm") as f:
                    f.write(body)
                    f.flush()
                    stream, _ = ffprobe(f.name)
                    self.assertEqual(int(stream["nb_read_frames"]), 150)
            _, _, metrics = daemon.request("GET", "/metrics")
            text = metrics.decode()
            self.assertIn('rasterclip_jobs_total{outcome="rejected_busy"} %d'
                          % statuses.count(429), text)
            self.assertIn('rasterclip_jobs_total{outcome="ok"} %d' % statuses.count(200), text)
            status, _, _ = daemon.request("GET", "/readyz")
            self.assertEqual(status, 200)
        finally:
            daemon.stop()


if __name__ == "__main__":
    unittest.main()
