"""docs/theory.md and the citations of it agree.

Docstrings, comments and pages cite the theory as "theory.md section N" (also "sections 3 and
5", "s. 7", "§4–6", and with a subsection: "section 2, numerical trap)" or
'section 2, "Algorithms"'). Every cited section must be a numbered heading of docs/theory.md
and every cited subsection a heading inside it. In the other direction, every code reference
``path::name`` in theory.md must resolve, and every "*Tested by*" clause must name registered
claims and configs that check them.
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
THEORY = ROOT / "docs" / "theory.md"
_W = r"[\s#]"  # whitespace, including a line break into a continued ``#`` comment
CITATION = re.compile(
    rf"theory\.md(?:'s)?{_W}*,?{_W}*(?:sections?|s\.|§){_W}*"
    rf"(?P<nums>\d+(?:{_W}*(?:,|and|[–-]){_W}*\d+)*)"
    rf"(?:,{_W}*(?:\"(?P<quoted>[^\"]{{1,60}})\"|(?P<words>[A-Za-z][A-Za-z\s#-]{{0,40}}?)\)))?"
)
QUOTE = re.compile(r"theory\.md(?:'s|:)\s*\"(?P<phrase>[^\"]+)\"")
CODE_REF = re.compile(r"`((?:ridgetheory|tests)/[\w/]+\.py)::([\w.]+)`")
TESTED_BY = re.compile(r"\*Tested by\*(?P<clause>.*?)\.(?:\s|$)", re.S)


def _sources() -> list[Path]:
    files = [*ROOT.glob("ridgetheory/**/*.py"), *ROOT.glob("docs/**/*.md"),
             *ROOT.glob("tests/*.py"), *ROOT.glob("validation/**/*.md"),
             *ROOT.glob("validation/**/*.toml"), *ROOT.glob("benchmarks/*.py"),
             ROOT / "README.md"]
    skip = {THEORY, Path(__file__).resolve()}
    return sorted(f for f in files if f.is_file() and f.resolve() not in skip)


def _numbers(text: str) -> list[int]:
    out: list[int] = []
    for part in filter(None, re.split(r"[\s#]*(?:,|and)[\s#]*", text.strip())):
        lo, _, hi = re.sub(r"[\s#]", "", part).replace("–", "-").partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def _clean(words: str) -> str:
    return " ".join(words.replace("#", " ").split()).lower()


@dataclass(frozen=True)
class Citation:
    where: str
    section: int
    sub: str | None


def citations_in(text: str, where: str) -> list[Citation]:
    """The citations of theory.md in ``text``, one per cited section number."""
    out = []
    for m in CITATION.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        sub = m["quoted"] or m["words"]
        nums = _numbers(m["nums"])
        for n in nums:  # a subsection belongs to the last section number
            out.append(Citation(f"{where}:{line}", n, _clean(sub) if sub and n == nums[-1]
                                else None))
    return out


def sections(text: str) -> dict[int, tuple[str, list[str]]]:
    """``{N: (title, subsection headings)}`` of the ``## N. title`` headings."""
    out: dict[int, tuple[str, list[str]]] = {}
    parts = re.split(r"^## (\d+)\. (.*)$", text, flags=re.M)
    for num, title, body in zip(parts[1::3], parts[2::3], parts[3::3], strict=True):
        assert int(num) not in out, f"section {num} appears twice in theory.md"
        subs = [_clean(h) for h in re.findall(r"^###+ (.*)$", body, flags=re.M)]
        out[int(num)] = (title.strip(), subs)
    return out


def problem(c: Citation, secs: dict[int, tuple[str, list[str]]]) -> str | None:
    """Why citation ``c`` does not resolve in ``secs``, or None."""
    if c.section not in secs:
        return f"{c.where} cites theory.md section {c.section}; it has {sorted(secs)}"
    title, subs = secs[c.section]
    if c.sub is not None and not any(c.sub in h for h in subs):
        return (f"{c.where} cites theory.md section {c.section}, {c.sub!r}; its subsections "
                f"are {subs}")
    return None


THEORY_TEXT = THEORY.read_text()
SECTIONS = sections(THEORY_TEXT)
CITATIONS = [c for f in _sources()
             for c in citations_in(f.read_text(errors="replace"), str(f.relative_to(ROOT)))]
QUOTES = [(f"{f.relative_to(ROOT)}:{f.read_text().count(chr(10), 0, m.start()) + 1}",
           m["phrase"]) for f in _sources() for m in QUOTE.finditer(f.read_text())]
CODE_REFS = sorted(set(CODE_REF.findall(THEORY_TEXT)))


def test_sections_are_numbered_one_to_n():
    assert sorted(SECTIONS) == list(range(1, len(SECTIONS) + 1)), sorted(SECTIONS)
    assert len(SECTIONS) >= 8


def test_the_scan_finds_the_citations():
    # guards the parametrized test below against a regex that silently matches nothing
    assert len(CITATIONS) > 60
    found = {(c.where.split(":")[0], c.section, c.sub) for c in CITATIONS}
    assert ("ridgetheory/protocol.py", 2, "numerical trap") in found
    assert ("ridgetheory/ridge/projection.py", 2, "algorithms") in found
    assert ("ridgetheory/nn/training.py", 5, None) in found  # "theory.md\n    section 5"
    assert {("docs/validation.md", n, None) for n in (4, 5, 6)} <= found  # "§4–6"


@pytest.mark.parametrize("cite", CITATIONS,
                         ids=[f"{c.where}:§{c.section}{':' + c.sub if c.sub else ''}"
                              for c in CITATIONS])
def test_citation_names_a_section_of_theory_md(cite):
    assert problem(cite, SECTIONS) is None, problem(cite, SECTIONS)


@pytest.mark.parametrize("where,phrase", QUOTES, ids=[w for w, _ in QUOTES])
def test_quoted_phrase_is_in_theory_md(where, phrase):
    assert " ".join(phrase.split()).lower() in " ".join(THEORY_TEXT.split()).lower(), \
        f"{where} quotes {phrase!r}, which theory.md does not contain"


def test_a_bad_citation_is_reported():
    secs = sections("## 1. A\n### Worked case\n## 2. B\n")
    bad = "x\n" + "theory.md " + "section 3 and" + " (theory.md " + "section 1, numerical trap)"
    found = citations_in(bad, "f.py")
    assert [(c.section, c.sub) for c in found] == [(3, None), (1, "numerical trap")]
    assert all(c.where == "f.py:2" for c in found)
    assert "section 3" in problem(found[0], secs)
    assert "numerical trap" in problem(found[1], secs)
    ok = citations_in("theory.md " + 'sections 1,\n    # 2, "worked case".', "g.py")
    assert [problem(c, secs) for c in ok] == [None, "g.py:1 cites theory.md section 2, "
                                              "'worked case'; its subsections are []"]


def _defined(tree: ast.AST, name: str) -> bool:
    head, _, rest = name.partition(".")
    for node in getattr(tree, "body", []):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [node.name]
        elif isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names = [node.target.id]
        else:
            continue
        if head in names:
            return not rest or _defined(node, rest)
    return False


@pytest.mark.parametrize("path,name", CODE_REFS, ids=[f"{p}::{n}" for p, n in CODE_REFS])
def test_code_reference_resolves(path, name):
    file = ROOT / path
    assert file.is_file(), f"theory.md names {path}, which does not exist"
    assert _defined(ast.parse(file.read_text()), name), f"{path} defines no {name}"


def test_code_references_are_found():
    assert len(CODE_REFS) > 80
    assert ("ridgetheory/densities.py", "SmoothedEmpirical") in CODE_REFS


def _registered_claims() -> set[str]:
    from ridgetheory.validate.claims import claims_of
    from ridgetheory.validate.runner import KINDS

    return {name for kind in KINDS for name in claims_of(kind)}


def _config_claims() -> dict[str, set[str]]:
    out = {}
    for f in ROOT.glob("validation/**/*.toml"):
        out[f.stem] = set(tomllib.loads(f.read_text()).get("claims", {}))
    return out


def claim_groups(text: str) -> list[tuple[list[str], list[str]]]:
    """``(claims, configs)`` groups of the "*Tested by*" clauses: the backticked names before a
    parenthesis are claims, the backticked names inside it are configs that check them."""
    groups = []
    for m in TESTED_BY.finditer(text):
        claims: list[str] = []
        for tok in re.finditer(r"\(([^()]*)\)|`([^`]+)`", m["clause"]):
            if tok[1] is not None:
                groups.append((claims, re.findall(r"`([^`]+)`", tok[1])))
                claims = []
            else:
                claims.append(tok[2])
        if claims:
            groups.append((claims, []))
    return groups


def test_tested_by_names_registered_claims_in_configs_that_check_them():
    registered, configs = _registered_claims(), _config_claims()
    groups = claim_groups(THEORY_TEXT)
    assert len(groups) > 15
    for claims, cfgs in groups:
        for claim in claims:
            assert claim in registered, f"theory.md: {claim!r} is not a registered claim"
            for cfg in cfgs:
                assert cfg in configs, f"theory.md: {cfg!r} is not a config in validation/"
                assert claim in configs[cfg], f"theory.md: config {cfg} does not check {claim}"
    named = {c for claims, _ in groups for c in claims}
    assert registered <= named, f"claims theory.md does not place: {sorted(registered - named)}"
