"""Checks the documentation of a checkout: prose, which the test suite (about what
fastinit does) leaves to CI.

usage: python check_docs.py CHECKOUT

- every link of the README to a file of the repository resolves inside it (the sdist,
  the wheel's page and the package index show the README: no dead links), and it links
  the stream specification, docs/stream.md;
- every reference of the README, the C core, the package and the tests to a section of
  the specification (`docs/stream.md, "Regions"`) names a heading it has, and none
  points to STREAM.md, a file outside the repository;
- the specification quotes the Philox known answers of tests/data/philox_kat.txt, the
  file the tests read.
"""
import glob
import os
import re
import sys

HEX = r"[0-9a-f]{8}"


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def readme_links(root):
    problems = []
    links = re.findall(r"\]\(([^)\s]+)\)", read(os.path.join(root, "README.md")))
    local = [link.split("#")[0] for link in links if not re.match(r"[a-z]+:|#", link)]
    if "docs/stream.md" not in local:
        problems.append("README.md does not link docs/stream.md")
    for link in local:
        target = os.path.realpath(os.path.join(root, link))
        if not target.startswith(os.path.realpath(root) + os.sep):
            problems.append(f"README.md links {link}, outside the repository")
        elif not os.path.exists(target):
            problems.append(f"README.md links {link}, which does not exist")
    return problems


def section_references(root):
    problems = []
    spec = read(os.path.join(root, "docs", "stream.md"))
    headings = [line.lstrip("#").strip() for line in spec.splitlines() if line.startswith("#")]
    patterns = ["README.md", "src/*.[ch]", "fastinit/*.py", "fastinit/*.py[xd]", "tests/*.py",
                "tests/c/*.c"]
    for path in sorted({p for pattern in patterns for p in glob.glob(os.path.join(root, pattern))}):
        text, name = read(path), os.path.relpath(path, root)
        if "STREAM.md" in text:
            problems.append(f"{name} points to STREAM.md, outside the repository")
        for section in re.findall(r'docs/stream\.md, "([^"]+)"', text):
            if not any(section in h for h in headings):
                problems.append(f"{name}: docs/stream.md has no section {section!r}")
    return problems


def known_answers(root):
    spec = read(os.path.join(root, "docs", "stream.md"))
    quoted = re.findall(rf"^ +((?:{HEX} ){{3}}{HEX}); ({HEX} {HEX}) -> ((?:{HEX} ){{3}}{HEX})$",
                        spec, flags=re.M)
    in_spec = [" ".join(" ".join(part.split()) for part in line) for line in quoted]
    in_file = []  # Random123's format: "philox4x32 10 c0 c1 c2 c3 k0 k1 x0 x1 x2 x3"
    for line in read(os.path.join(root, "tests", "data", "philox_kat.txt")).splitlines():
        fields = line.split()
        if fields[:2] == ["philox4x32", "10"]:
            in_file.append(" ".join(fields[2:]))
    if not in_file or in_spec != in_file:
        return [f"docs/stream.md quotes the known answers {in_spec}, "
                f"tests/data/philox_kat.txt has {in_file}"]
    return []


def main(root):
    problems = readme_links(root) + section_references(root) + known_answers(root)
    for problem in problems:
        print(f"check_docs: {problem}", file=sys.stderr)
    if not problems:
        print("check_docs: the README's links, the references to docs/stream.md and its "
              "known answers are right")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
