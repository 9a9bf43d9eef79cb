"""The shape of the code base: what depends on what, where each fact lives, what the package ships."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from edgefc.bfcl.categories import CATEGORIES, MULTI_TURN_ALIAS

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = {"edgefc": ROOT / "edgefc", "edgefc.export": ROOT / "export", "edgefc.bench": ROOT / "bench",
           "edgefc.train": ROOT / "train"}
# What a BFCL category name looks like, typo'd or not: the test below holds every such string to the table.
CATEGORY_LIKE = re.compile(r"^(simple_[a-z]+|live_[a-z_]+|multi_turn_[a-z_]+|(parallel_)?multiple|parallel"
                           r"|irrelevance)$")


def _modules(package: str) -> list[str]:
    """Every module of an installed package, by its dotted name, from its folder in the repo."""
    folder = PRODUCT.get(package) or ROOT / package.replace(".", "/")
    return sorted(".".join((package, *p.relative_to(folder).with_suffix("").parts)).removesuffix(".__init__")
                  for p in folder.rglob("*.py"))


def test_the_core_and_its_pipelines_never_import_the_benchmarks() -> None:
    modules = [m for p in ("edgefc.export", "edgefc.train", "edgefc.agent", "edgefc.serve", "edgefc.bfcl")
               for m in _modules(p) if not m.endswith(".__main__")]
    assert "edgefc.bfcl.checker" in modules and "edgefc.bfcl.stats" in modules  # BFCL is a library of the core
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n    importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m.startswith('edgefc.bench')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_every_category_name_in_the_code_comes_from_the_one_table() -> None:
    known = set(CATEGORIES) | {MULTI_TURN_ALIAS}
    strays = []
    for folder in PRODUCT.values():
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                        CATEGORY_LIKE.match(node.value) and node.value not in known:
                    strays.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert not strays


def test_only_the_table_lists_categories() -> None:
    """No module but the table spells out a run of category names (a copied list drifts from the table)."""
    lists = []
    for folder in PRODUCT.values():
        for path in folder.rglob("*.py"):
            if path.name == "categories.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                    names = [e.value for e in node.elts if isinstance(e, ast.Constant) and e.value in CATEGORIES]
                    if len(names) > 3:
                        lists.append(f"{path.relative_to(ROOT)}:{node.lineno} {names}")
    assert not lists


def test_only_the_cli_draws_progress() -> None:
    """Library code reports progress (edgefc.progress.report); only edgefc/cli turns reports into bars."""
    drawers = []
    for folder in PRODUCT.values():
        for path in folder.rglob("*.py"):
            if path.is_relative_to(ROOT / "edgefc" / "cli"):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                    if any(n in ("rich.progress", "rich.live", "tqdm") or n.startswith("tqdm.") for n in names):
                        drawers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not drawers


def test_every_package_folder_is_shipped() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    found = {".".join((package, *init.parent.relative_to(folder).parts)) for package, folder in PRODUCT.items()
             for init in folder.rglob("__init__.py")}
    assert found == set(config["packages"])


def _option_help(command: str, param: str) -> str:
    import inspect

    from edgefc import cli
    from edgefc.cli import bench

    function = bench.run if command == "bench" else getattr(cli, command)
    return inspect.signature(function).parameters[param].default.help


def _words(text: str) -> list[str]:
    return re.findall(r"[\w-]+", text)


def test_the_help_and_readme_list_exactly_the_registries_quants_and_runtimes() -> None:
    from edgefc.export.pipeline import EXPORT_FORMATS
    from edgefc.runtimes import LOCAL_RUNTIMES, RUNTIMES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    prose = " ".join(readme.split())
    quant = _option_help("export", "quant")
    listed = {fmt: (quants.split(","), default) for quants, fmt, default in
              re.findall(r"([\w,-]+) \((\w+); default (\w+)\)", quant)}
    assert listed == {f.name: (list(f.quants), f.default_quant) for f in EXPORT_FORMATS.values()}, quant
    in_readme = dict(re.findall(r"\b(GGUF|ONNX) \(([^)]*)\)", readme.split("`edgefc export [MODEL]")[1].split("\n")[0]))
    assert {fmt.lower(): sorted(_words(text)) for fmt, text in in_readme.items()} == \
        {f.name: sorted(f.quants) for f in EXPORT_FORMATS.values()}
    assert [w for w in _words(_option_help("export", "fmt")) if w != "or"] == list(EXPORT_FORMATS)
    candidates = {f.name: [q for q, entry in f.quants.items() if entry.tune] for f in EXPORT_FORMATS.values()}
    tune = _option_help("tune", "quants").split("candidates: ")[1]
    assert {fmt: names.split(",") for fmt, names in re.findall(r"(\w+) ([\w,-]+)", tune)} == candidates, tune
    tune_readme = prose.split("By default the candidates are ")[1].split(":")[0]
    gguf, onnx = tune_readme.split(", and ONNX ")
    assert sorted(_words(gguf.removeprefix("GGUF "))) == sorted(candidates["gguf"] + ["and"])
    assert sorted(_words(onnx)) == sorted(candidates["onnx"] + ["and"])
    for command in ("chat", "agent", "serve", "bench"):
        assert [w for w in _words(_option_help(command, "runtime")) if w in RUNTIMES] == list(LOCAL_RUNTIMES), command
    runtimes = prose.split("Runtimes: ")[1].split(". Every")[0]
    assert re.findall(r"`(\w+)` \(", runtimes) == list(LOCAL_RUNTIMES)


def test_every_bench_is_an_edgefc_bench_command_and_the_old_paths_still_run() -> None:
    for module, command in (("serve_load", "serve-load"), ("engines", "engines"), ("agent_latency", "agent-latency")):
        new = subprocess.run([sys.executable, "-m", "edgefc.cli", "bench", command, "--help"], capture_output=True,
                             text=True, timeout=120)
        old = subprocess.run([sys.executable, "-m", f"edgefc.bench.{module}", "--help"], capture_output=True,
                             text=True, timeout=120)
        assert new.returncode == old.returncode == 0 and f"bench {command}" in new.stdout, new.stderr
        assert new.stdout.split("Usage:")[1].split("\n", 1)[1] == old.stdout.split("Usage:")[1].split("\n", 1)[1]
    suite = subprocess.run([sys.executable, "-m", "edgefc.cli", "bench", "--device", "gpu"], capture_output=True,
                           text=True, timeout=120)
    assert suite.returncode == 2 and "device 'gpu' is not supported" in suite.stderr  # MODEL... still runs a suite
    assert not [path for path in (ROOT / "bench").rglob("*.py") if "argparse" in path.read_text(encoding="utf-8")]
