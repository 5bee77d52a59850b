#!/usr/bin/python3
"""Writes a man page from a program's --help, so the page says what the program
does today:

    /usr/bin/python3 scripts/make_man.py PROGRAM SECTION "one-line summary" OUT

The first "usage:" lines become the SYNOPSIS; lines "  --flag  text" (and their
indented continuations) become OPTIONS entries; every other paragraph goes to
DESCRIPTION as it is.
"""
import datetime
import os
import re
import subprocess
import sys


def roff(text):
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + text if text.startswith((".", "'")) else text


def main():
    program, section, summary, out = sys.argv[1:5]
    name = os.path.basename(program)
    help_text = subprocess.run([program, "--help"], capture_output=True, text=True,
                               timeout=60).stdout
    lines = help_text.rstrip("\n").split("\n")
    synopsis, body = [], []
    for line in lines:
        if (line.startswith("usage:") or (synopsis and line.startswith("       "))) and not body:
            synopsis.append(line.split(":", 1)[1].strip() if line.startswith("usage:")
                            else line.strip())
        else:
            body.append(line)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    date = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).date()
            if epoch else datetime.date.today()).isoformat()
    page = ['.TH %s %s "%s" "rasterclip" "rasterclip"' % (name.upper(), section, date),
            ".SH NAME", "%s \\- %s" % (name, roff(summary)), ".SH SYNOPSIS"]
    for s in synopsis:
        page += [".nf", roff(s), ".fi"]
    page.append(".SH DESCRIPTION")
    option = re.compile(r"^\s{1,4}(-[\w-]+(?:,? ?-[\w-]+)?(?: [A-Z][\w.x]*)?)\s{2,}(.*)$")
    for line in body:
        m = option.match(line)
        if m:
            page += [".TP", "\\fB%s\\fR" % roff(m.group(1)), roff(m.group(2))]
        elif not line.strip():
            page.append(".PP")
        elif line.endswith(":") and not line.startswith(" "):
            page += [".SS", roff(line.rstrip(":"))]
        else:
            page.append(roff(line.strip()))
    with open(out, "w") as f:
        f.write("\n".join(page) + "\n")


if __name__ == "__main__":
    main()
