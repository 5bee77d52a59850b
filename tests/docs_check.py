#!/usr/bin/python3
"""The documents against the code: docs/job.md names every field of
proto/job.schema.json, every relative link in README.md and docs/ leads to a file
that exists, and the README stays a front page (at most 200 lines) from which every
page in docs/ is one click away.

    /usr/bin/python3 tests/docs_check.py SOURCE_DIR
"""
import json
import os
import re
import sys


def fields(schema, prefix=""):
    """Every property path of the schema ("raster.variable", "style.colorbar.label")."""
    out = []
    for key in ("properties",):
        for name, sub in (schema.get(key) or {}).items():
            path = prefix + name
            out.append(path)
            out += fields(sub, path + ".")
            for alt in sub.get("oneOf", []) + sub.get("anyOf", []):
                out += fields(alt, path + ".")
    return out


def main():
    root = sys.argv[1]
    failures = []
    with open(os.path.join(root, "proto", "job.schema.json")) as f:
        schema = json.load(f)
    with open(os.path.join(root, "docs", "job.md")) as f:
        job_page = f.read()
    for path in sorted(set(fields(schema))):
        leaf = path.rsplit(".", 1)[-1]
        if path not in job_page and "`%s`" % leaf not in job_page and \
                '"%s"' % leaf not in job_page:
            failures.append("docs/job.md does not name %s" % path)
    pages = [os.path.join(root, "README.md")] + [
        os.path.join(root, "docs", n) for n in sorted(os.listdir(os.path.join(root, "docs")))
        if n.endswith(".md")]
    for page in pages:
        with open(page) as f:
            text = f.read()
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if re.match(r"^[a-z]+:", target):
                continue
            if not os.path.exists(os.path.join(os.path.dirname(page), target)):
                failures.append("%s links to %s, which does not exist"
                                % (os.path.relpath(page, root), target))
    with open(os.path.join(root, "README.md")) as f:
        readme = f.read()
    if readme.count("\n") > 200:
        failures.append("README.md has %d lines; a front page has at most 200"
                        % readme.count("\n"))
    for page in pages[1:]:
        if "docs/" + os.path.basename(page) not in readme:
            failures.append("README.md does not link to docs/%s" % os.path.basename(page))
    for failure in failures:
        print(failure)
    print("%d fields, %d pages checked; %d problems" % (len(set(fields(schema))), len(pages),
                                                       len(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
