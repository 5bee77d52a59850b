#!/usr/bin/python3
"""Writes proto/openapi.json from proto/openapi.yaml: the daemon embeds and serves
the JSON (GET /openapi.json), and a test checks the two say the same.

    /usr/bin/python3 scripts/gen_openapi_json.py [--check]
"""
import json
import os
import sys

import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main():
    with open(os.path.join(ROOT, "proto", "openapi.yaml")) as f:
        text = json.dumps(yaml.safe_load(f), indent=1, sort_keys=False) + "\n"
    path = os.path.join(ROOT, "proto", "openapi.json")
    if "--check" in sys.argv:
        with open(path) as f:
            if f.read() != text:
                sys.exit("proto/openapi.json is stale: run scripts/gen_openapi_json.py")
        return
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
