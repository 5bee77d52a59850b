#!/usr/bin/env bash
# Installs the Debian package on a fresh Debian 12 (a debootstrap chroot, as root)
# with apt-get, then runs the README's first Python example there with no server
# configured: the client starts the packaged daemon, and GIF bytes come back.
#   scripts/package.sh                          builds build-package/rasterclip_*.deb
#   sudo scripts/package_test.sh [DEB]          this test (downloads ~150 MB once)
# The chroot is kept in build-package/bookworm for later runs.
set -euo pipefail
cd "$(dirname "$0")/.."
deb="$(realpath "${1:-$(ls build-package/rasterclip_*.deb | tail -1)}")"
root="$PWD/build-package/bookworm"
command -v debootstrap > /dev/null || apt-get install -y -qq debootstrap
if [ ! -x "$root/usr/bin/apt-get" ]; then
    debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian
fi
cleanup() { umount "$root/proc" 2> /dev/null || true; }
trap cleanup EXIT
mount -t proc proc "$root/proc"
cp "$deb" "$root/tmp/"
python3 - "$root/tmp/example.py" << 'PY'
import sys
text = open("README.md").read()
start = text.index("```python\n") + len("```python\n")
open(sys.argv[1], "w").write(text[start:text.index("```", start)])
PY
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    sh -c "apt-get update -qq && apt-get install -y -qq /tmp/$(basename "$deb") python3-numpy"
out="$(chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/tmp sh -c 'cd /tmp && python3 example.py')"
echo "$out"
echo "$out" | grep -q "GIF89a"
echo "package_test: the package installs on Debian 12 and the README example renders"
