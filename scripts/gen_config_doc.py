#!/usr/bin/python3
"""Writes docs/configuration.md from the daemon's own option table (its --help), so
the page cannot go stale: a test runs this with --check against the built daemon.

    /usr/bin/python3 scripts/gen_config_doc.py build/rasterclipd [--check]
"""
import os
import re
import subprocess
import sys

from generated import write_or_check
OPTION = re.compile(r"^  (--[\w-]+)\s+(.*)$")
TAIL = re.compile(r"^(.*) \(default: (.*); env (\w+); file key (\w+)\)$")

HEAD = """# Configuration

Every setting of `rasterclipd`, generated from its option table by
`scripts/gen_config_doc.py` (a test checks this page against the daemon). A setting
comes from, in rising precedence: its default, the config file (`--config-file`,
`key = value` lines), the environment, then the command line. Back to the
[README](../README.md); running it: [deployment.md](deployment.md).

| flag | environment | file key | default | meaning |
|---|---|---|---|---|
"""


def render(help_text):
    rows, notes = [], []
    entries = []
    for line in help_text.splitlines():
        m = OPTION.match(line)
        if m:
            entries.append([m.group(1), m.group(2).strip()])
        elif entries and line.startswith("                ") and line.strip():
            entries[-1][1] += " " + line.strip()
        elif line.strip() and not line.startswith("usage:") and not m:
            notes.append(line.strip())
    for flag, text in entries:
        t = TAIL.match(text)
        if t:
            meaning, default, env, key = t.groups()
            rows.append("| `%s` | `%s` | `%s` | `%s` | %s |"
                        % (flag, env, key, default, meaning.replace("|", "\\|")))
        else:
            rows.append("| `%s` | | | | %s |" % (flag, text.replace("|", "\\|")))
    out = HEAD + "\n".join(rows) + "\n"
    if notes:
        out += "\n" + "\n".join(notes) + "\n"
    return out


def main():
    daemon = sys.argv[1]
    help_text = subprocess.run([daemon, "--help"], capture_output=True, text=True,
                               timeout=60).stdout
    write_or_check(os.path.join("docs", "configuration.md"), render(help_text),
                   "scripts/gen_config_doc.py DAEMON")


if __name__ == "__main__":
    main()
