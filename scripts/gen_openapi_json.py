#!/usr/bin/python3
"""Writes proto/openapi.json from proto/openapi.yaml: the daemon embeds and serves
the JSON (GET /openapi.json), and a test checks the two say the same.

    /usr/bin/python3 scripts/gen_openapi_json.py [--check]
"""
import json
import os

import yaml

from generated import ROOT, write_or_check


def main():
    with open(os.path.join(ROOT, "proto", "openapi.yaml")) as f:
        text = json.dumps(yaml.safe_load(f), indent=1, sort_keys=False) + "\n"
    write_or_check(os.path.join("proto", "openapi.json"), text, "scripts/gen_openapi_json.py")


if __name__ == "__main__":
    main()
