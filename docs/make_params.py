"""Regenerate docs/parameters.md from the declarations: python docs/make_params.py.

Every table here comes from the frozen dataclasses the configs are parsed with
(``ridgetheory/experiments/params.py``, the claim settings registered with each check, and
the sweep file's tables), so the docs, the defaults in report.json and the error messages
cannot disagree. tests/test_config.py fails when this page is stale.
"""

from pathlib import Path

from ridgetheory.sweeps.spec import FigureSpec, _SweepTable
from ridgetheory.validate.claims import ClaimCommon, claims_of
from ridgetheory.validate.runner import KINDS
from ridgetheory.validate.schema import describe, markdown_table

PAGE = Path(__file__).with_name("parameters.md")


def render() -> str:
    out = ["# Parameters and claims", "",
           "Every key a config or sweep file may hold, with its type, default and meaning.",
           "Generated from the declarations by `python docs/make_params.py`; a config with a",
           "key not listed here is an error that names the closest valid key.", "",
           "A config has four tables: `[experiment]` (`kind`, `description`, `seed`),",
           "`[params]`, `[quick]` (the same keys as `[params]`, merged over it by `--quick`)",
           "and one `[claims.<name>]` per claim it checks. Every claim table also takes:", "",
           markdown_table(ClaimCommon).rstrip(), ""]
    for kind, k in KINDS.items():
        cls = k.params_class()
        out += [f"## `kind = \"{kind}\"`", "", (cls.__doc__ or "").strip().split("\n")[0], "",
                markdown_table(cls, "params").rstrip(), "", f"### Claims of `{kind}`", ""]
        for name, spec in claims_of(kind).items():
            out += [f"#### `{name}`", "", spec.doc, ""]
            if describe(spec.settings):
                out += [markdown_table(spec.settings, f"claims.{name}").rstrip(), ""]
    out += ["## Sweep files", "", "The `[sweep]` table (docs/sweep.md):", "",
            markdown_table(_SweepTable, "sweep").rstrip(), "",
            "Each `[[sweep.figures]]` entry:", "",
            markdown_table(FigureSpec, "sweep.figures[]").rstrip(), ""]
    return "\n".join(out)


if __name__ == "__main__":
    PAGE.write_text(render())
    print(f"wrote {PAGE}")
