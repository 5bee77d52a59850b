#!/usr/bin/python3
"""The walls between daemon/'s stages: every #include "STAGE/..." in daemon/STAGE/
is one the table below allows, and so is everything http/ reaches through the
headers it includes. main.c, which assembles the stages, is the one exception.
A stage's library links only what its includes need (CMakeLists.txt, rc_stage).

    tests/layers_check.py SOURCE_DIR
"""
import os
import re
import sys

ALLOWED = {
    "base": {"base"},
    "job": {"base", "job"},
    "raster": {"base", "raster"},
    "overlay": {"base", "overlay"},
    "encode": {"base", "encode"},
    "render": {"base", "render", "overlay"},  # overlay: the page type it draws
    "pipeline": {"base", "job", "raster", "overlay", "render", "encode", "pipeline"},
    "http": {"base", "job", "pipeline", "http"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z]+)/([\w.]+)"', re.M)


def includes(root, path):
    with open(os.path.join(root, path)) as f:
        return INCLUDE.findall(f.read())


def main():
    root = os.path.join(sys.argv[1], "daemon")
    problems = []
    for stage in sorted(ALLOWED):
        for name in sorted(os.listdir(os.path.join(root, stage))):
            if not name.endswith((".c", ".h")):
                continue
            for target, header in includes(root, os.path.join(stage, name)):
                if target not in ALLOWED[stage]:
                    problems.append("%s/%s includes %s/%s" % (stage, name, target, header))
    # What http/ sees through the headers it includes.
    seen, todo = set(), [("http", n) for n in os.listdir(os.path.join(root, "http"))
                         if n.endswith((".c", ".h"))]
    while todo:
        stage, name = todo.pop()
        if (stage, name) in seen or not os.path.exists(os.path.join(root, stage, name)):
            continue
        seen.add((stage, name))
        for target, header in includes(root, os.path.join(stage, name)):
            if target not in ALLOWED["http"]:
                problems.append("http/ reaches %s/%s through %s/%s" % (target, header, stage,
                                                                     name))
            elif header.endswith(".h"):
                todo.append((target, header))
    for p in problems:
        print("layers: " + p)
    print("%d stages, %d files http/ reaches; %d problems" % (len(ALLOWED), len(seen),
                                                               len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
