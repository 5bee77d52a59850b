"""Files the tree holds that a script makes from something else: written, or with
--check compared (a test runs the check, so they cannot go stale)."""
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def write_or_check(relative, text, remedy):
    """Writes `text` to ROOT/relative, or with --check on the command line exits
    non-zero naming `remedy` when the file differs."""
    path = os.path.join(ROOT, relative)
    if "--check" in sys.argv:
        with open(path) as f:
            if f.read() != text:
                sys.exit("%s is stale: run %s" % (relative, remedy))
        return
    with open(path, "w") as f:
        f.write(text)
