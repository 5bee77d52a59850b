"""URL policy refusals against the real daemon. Runs inside its own network
namespace (ctest starts it under `unshare --net`, loopback only, with 192.0.2.10
added to lo as a stand-in public host), so no packet can leave the machine even if
a rule were broken."""
import json
import os
import shutil
import socket
import tempfile
import unittest

from harness import SOURCE, Daemon
from rangeserver import RangeServer

PUBLIC = "192.0.2.10"  # TEST-NET-1, on this namespace's loopback device


def in_namespace():
    """True only inside a namespace whose only addresses are local (no route out)."""
    try:
        socket.create_connection(("192.0.2.10", 9), timeout=0.2).close()
    except ConnectionRefusedError:
        return True  # the stand-in host exists and answers locally
    except OSError:
        return False
    return True


class PolicyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not in_namespace():
            raise AssertionError("test_policy must run under `unshare --net` with %s on lo"
                                 % PUBLIC)
        cls.folder = tempfile.mkdtemp(prefix="rasterclip-policy-")
        shutil.copy(os.path.join(SOURCE, "tests", "data", "byte_20x20.tif"), cls.folder)
        cls.public = RangeServer(cls.folder, host=PUBLIC)
        cls.private = RangeServer(cls.folder)  # 127.0.0.1
        cls.daemon = Daemon("--resolve", "evil.test:80:10.0.0.1,sneaky.test:%d:127.0.0.1"
                            % cls.private.port)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        cls.public.close()
        cls.private.close()
        shutil.rmtree(cls.folder, ignore_errors=True)

    def refused(self, url, rule, status=403):
        job = {"raster": {"url": url}, "output": {"width": 64, "height": 36, "frames": 1}}
        got, headers, body = self.daemon.render(job)
        self.assertEqual(got, status, body[:300])
        err = json.loads(body)["error"]
        self.assertEqual(err["field"], "raster.url")
        self.assertIn('"%s"' % rule, err["message"])
        return err

    def test_public_host_is_fetched(self):
        job = {"raster": {"url": "http://%s:%d/files/byte_20x20.tif" % (PUBLIC, self.public.port)},
               "output": {"width": 64, "height": 36, "frames": 1}}
        status, _, body = self.daemon.render(job)
        self.assertEqual(status, 200, body[:300])

    def test_loopback_addresses(self):
        self.refused("http://127.0.0.2/x.tif", "loopback")
        self.refused("http://127.0.0.1:%d/files/byte_20x20.tif" % self.private.port, "loopback")
        self.refused("http://[::1]:%d/files/byte_20x20.tif" % self.private.port, "loopback")

    def test_private_link_local_and_metadata(self):
        self.refused("http://10.0.0.1/x.tif", "private")
        self.refused("http://192.168.1.20/x.tif", "private")
        self.refused("http://169.254.10.1/x.tif", "link_local")
        self.refused("http://169.254.169.254/latest/meta-data/", "metadata")
        self.refused("http://[fd00:ec2::254]/x", "metadata")
        self.refused("http://224.0.0.1/x.tif", "multicast")

    def test_names_resolving_to_refused_addresses(self):
        self.refused("http://evil.test/x.tif", "private")
        self.refused("http://sneaky.test:%d/files/byte_20x20.tif" % self.private.port,
                     "loopback")

    def test_redirect_from_allowed_to_refused(self):
        target = "http://127.0.0.1:%d/files/byte_20x20.tif" % self.private.port
        url = "http://%s:%d/redirect?to=%s" % (PUBLIC, self.public.port, target)
        self.refused(url, "loopback")
        self.assertEqual(self.private.log, [])  # nothing reached the refused address

    def test_schemes_and_paths(self):
        job = {"raster": {"url": "file:///etc/passwd"},
               "output": {"width": 64, "height": 36, "frames": 1}}
        self.assertEqual(self.daemon.render(job)[0], 403)
        job["raster"]["url"] = "../../etc/passwd"
        self.assertEqual(self.daemon.render(job)[0], 403)
        self.refused("http://user:secret@%s/x.tif" % PUBLIC, "credentials")


if __name__ == "__main__":
    unittest.main()
