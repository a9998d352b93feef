"""The stream specification ships with fastinit (docs/stream.md), and the README, the
docstrings and the C comments point to it, inside the repository (and the sdist)."""
import glob
import os
import re

import c_core

ROOT = c_core.ROOT
SPEC = os.path.join(ROOT, "docs", "stream.md")
HEX = r"[0-9a-f]{8}"


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def code_and_docs():
    """The files that may refer to the specification: the README, the C core, the
    package and the tests."""
    patterns = ["README.md", "src/*.[ch]", "fastinit/*.py", "fastinit/*.py[xd]", "tests/*.py",
                "tests/c/*.c"]
    found = {p for pattern in patterns for p in glob.glob(os.path.join(ROOT, pattern))}
    return sorted(found - {os.path.abspath(__file__)})  # this file names the old name


def test_readme_links_resolve_inside_the_repository():
    links = re.findall(r"\]\(([^)\s]+)\)", read(os.path.join(ROOT, "README.md")))
    local = [link.split("#")[0] for link in links if not re.match(r"[a-z]+:|#", link)]
    assert "docs/stream.md" in local
    for link in local:
        target = os.path.realpath(os.path.join(ROOT, link))
        assert target.startswith(os.path.realpath(ROOT) + os.sep), f"{link} leaves the repository"
        assert os.path.exists(target), f"README links to {link}, which does not exist"


def test_references_to_the_specification_name_its_sections():
    headings = [line.lstrip("#").strip() for line in read(SPEC).splitlines()
                if line.startswith("#")]
    for path in code_and_docs():
        text = read(path)
        name = os.path.relpath(path, ROOT)
        assert "STREAM.md" not in text, f"{name} points to STREAM.md, outside the repository"
        for section in re.findall(r'docs/stream\.md, "([^"]+)"', text):
            assert any(section in h for h in headings), f"{name}: no section {section!r}"


def test_specification_quotes_the_known_answers_file():
    quoted = re.findall(rf"^ +((?:{HEX} ){{3}}{HEX}); ({HEX} {HEX}) -> ((?:{HEX} ){{3}}{HEX})$",
                        read(SPEC), flags=re.M)
    words = [tuple(tuple(int(x, 16) for x in part.split()) for part in line) for line in quoted]
    assert words == c_core.known_answers()
