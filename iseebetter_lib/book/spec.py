"""`book.yml`: the chapters in order and, per run profile, each chapter's parameters, time limit and variants.

The spec is validated before anything runs: an unknown chapter, a chapter missing from a profile, or a parameter that
the notebook's ``parameters`` cell does not define (or defines with another type) is a `UserError` naming it.
Parameter strings may use ``{root}`` (the repository), ``{build}`` (``_build/<profile>``) and ``{data}`` (the data
home, `data.home.data_home`): chapters hand each other checkpoints and result files through such paths.

A chapter's optional ``dry_run`` block (``parameters``, ``timeout``, ``variants``: the names kept) is merged over
its entry by `plan(..., dry_run=True)`: the same chapters at the smallest sizes, on a CPU (``requires_gpu`` is
waived), into ``_build/<profile>-dry`` (the chapters' ``profile`` parameter is ``<profile>-dry``, so that their
figures go there too and a real build's are never overwritten). Dict-valued parameters (``overrides``) are merged key
by key.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from iseebetter_lib.data.home import data_home
from iseebetter_lib.errors import UserError
from iseebetter_lib.io import read_text

PARAMETER_CELL = re.compile(r"^# %%.*\btags\s*=\s*\[[^\]]*[\"']parameters[\"']", re.MULTILINE)
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
REQUIRED_PARAMETERS = ("profile", "seed", "interactive")


@dataclass(frozen=True)
class ChapterRun:
    """One notebook execution in a profile: a chapter, or one variant of it."""

    chapter: str  # chapter name, e.g. "04_ablation"
    title: str
    source: Path  # jupytext .py source
    output_name: str  # executed notebook stem, e.g. "04_ablation__pixel"
    parameters: dict[str, Any]
    timeout: int  # seconds; also papermill's per-cell execution timeout
    requires_gpu: bool = False
    variant: str | None = None


@dataclass
class Chapter:
    name: str
    title: str
    source: Path


@dataclass
class BookSpec:
    """The parsed, validated book.yml."""

    path: Path
    root: Path
    title: str
    author: str
    chapters: list[Chapter]
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)

    def build_dir(self, profile: str, dry_run: bool = False) -> Path:
        return self.root / "_build" / (f"{profile}-dry" if dry_run else profile)

    def env(self, profile: str) -> dict[str, str]:
        """Environment variables for the kernels of `profile` (e.g. OMP_NUM_THREADS on a shared machine)."""
        return {str(k): str(v) for k, v in (self.profiles[profile].get("env") or {}).items()}

    def placeholders(self, profile: str, dry_run: bool = False) -> dict[str, str]:
        """The ``{name}`` placeholders of parameter strings and the absolute paths they stand for."""
        return {"root": str(self.root), "build": str(self.build_dir(profile, dry_run)), "data": str(data_home())}

    def plan(self, profile: str, only: str | list[str] | None = None, dry_run: bool = False) -> list[ChapterRun]:
        """The notebook executions of `profile`, in book order; `only` keeps the named chapters; `dry_run` merges
        each chapter's ``dry_run`` block over it and waives ``requires_gpu``."""
        if profile not in self.profiles:
            raise UserError(f"{self.path.name}: unknown profile {profile!r} (expected one of "
                            f"{', '.join(self.profiles)})")
        wanted = _names(only)
        known = {c.name for c in self.chapters}
        for name in wanted or []:
            if name not in known:
                raise UserError(f"--only: unknown chapter {name!r} (chapters: {', '.join(sorted(known))})")
        subst = self.placeholders(profile, dry_run)
        runs: list[ChapterRun] = []
        for chapter in self.chapters:
            if wanted is not None and chapter.name not in wanted:
                continue
            entry = self.profiles[profile]["chapters"][chapter.name]
            dry = (entry.get("dry_run") or {}) if dry_run else {}
            base = dict(entry.get("parameters") or {})
            base.setdefault("profile", f"{profile}-dry" if dry_run else profile)  # figures: _build/<profile>-dry
            variants = entry.get("variants") or {None: {}}
            if dry.get("variants") is not None:
                variants = {k: v for k, v in variants.items() if k in dry["variants"]}
            for variant, extra in variants.items():
                params = _substitute(_merge(_merge(base, extra or {}), dry.get("parameters") or {}), subst)
                if variant is not None:
                    params.setdefault("variant", variant)
                runs.append(ChapterRun(
                    chapter=chapter.name, title=chapter.title, source=chapter.source,
                    output_name=chapter.name if variant is None else f"{chapter.name}__{variant}",
                    parameters=params, timeout=int(dry.get("timeout", entry["timeout"])),
                    requires_gpu=bool(entry.get("requires_gpu", False)) and not dry_run, variant=variant))
        return runs


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`extra` over `base`; where both hold a dict, their keys are merged (one level)."""
    out = dict(base)
    for key, value in extra.items():
        out[key] = {**out[key], **value} if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _names(only: str | list[str] | None) -> list[str] | None:
    if only is None:
        return None
    items = only.split(",") if isinstance(only, str) else list(only)
    return [s.strip() for s in items if s.strip()]


def _substitute(value: Any, subst: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        for key, repl in subst.items():
            value = value.replace("{" + key + "}", repl)
        return value
    if isinstance(value, dict):
        return {k: _substitute(v, subst) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, subst) for v in value]
    return value


def parameters_cell(source: str | Path) -> dict[str, Any]:
    """The names and default values assigned in a jupytext percent notebook's ``parameters`` cell (parsed by ast)."""
    path = Path(source)
    text = read_text(path, "notebook")
    match = PARAMETER_CELL.search(text)
    if match is None:
        raise UserError(f"{path}: no cell tagged 'parameters' (expected '# %% tags=[\"parameters\"]')")
    body = text[match.end():].split("\n", 1)[1] if "\n" in text[match.end():] else ""
    nxt = re.search(r"^# %%", body, re.MULTILINE)
    body = body[: nxt.start()] if nxt else body
    try:
        tree = ast.parse(body)
    except SyntaxError as exc:
        raise UserError(f"{path}: parameters cell does not parse ({exc.msg}, line {exc.lineno})") from None
    values: dict[str, Any] = {}
    for node in tree.body:
        targets: list[ast.expr]
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    values[target.id] = ast.literal_eval(value)
                except ValueError:
                    raise UserError(f"{path}: parameter {target.id!r} must be a literal") from None
    return values


def check_parameters(run: ChapterRun, defaults: Mapping[str, Any]) -> None:
    """Unknown or mistyped parameters fail before execution, naming the chapter and the parameter."""
    for name, value in run.parameters.items():
        where = f"book.yml: chapter {run.output_name}: parameter {name!r}"
        if name not in defaults:
            raise UserError(f"{where} is not defined in the parameters cell of {run.source.name} "
                            f"(known: {', '.join(sorted(defaults))})")
        default = defaults[name]
        if default is None or value is None:
            continue
        if isinstance(default, bool) or isinstance(value, bool):
            ok = isinstance(default, bool) and isinstance(value, bool)
        elif isinstance(default, float):
            ok = isinstance(value, (int, float))
        else:
            ok = isinstance(value, type(default))
        if not ok:
            raise UserError(f"{where} = {value!r} has type {type(value).__name__}, "
                            f"expected {type(default).__name__} like the default {default!r}")


def _yaml_loader() -> type:
    """PyYAML's safe loader, reading numbers as YAML 1.2 does: `2e-4` is a float (YAML 1.1 wants `2.0e-4`)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789."))
    return Loader


def load_book(path: str | Path | None = None, root: str | Path | None = None) -> BookSpec:
    """Read and validate book.yml (default: `<root>/book.yml`)."""
    import yaml

    root = Path(root).resolve() if root is not None else None
    path = Path(path) if path is not None else (root or Path.cwd()) / "book.yml"
    text = read_text(path, "book specification")
    root = root or path.resolve().parent
    try:
        raw = yaml.load(text, Loader=_yaml_loader()) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: cannot parse YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping at the top level")
    unknown = set(raw) - {"title", "author", "chapters", "profiles"}
    if unknown:
        raise UserError(f"{path}: unknown top-level key(s) {', '.join(sorted(unknown))}")
    chapters = []
    for i, item in enumerate(raw.get("chapters") or []):
        if not isinstance(item, dict) or "name" not in item:
            raise UserError(f"{path}: chapters[{i}] needs a 'name'")
        name = str(item["name"])
        if not NAME.match(name):
            raise UserError(f"{path}: chapter name {name!r} has odd characters")
        source = root / str(item.get("source", f"notebooks/{name}.py"))
        if not source.is_file():
            raise UserError(f"{path}: chapter {name!r}: source {source} not found")
        chapters.append(Chapter(name=name, title=str(item.get("title", name)), source=source))
    if not chapters:
        raise UserError(f"{path}: no chapters")
    names = [c.name for c in chapters]
    if len(set(names)) != len(names):
        raise UserError(f"{path}: duplicate chapter names")
    profiles = raw.get("profiles") or {}
    if not isinstance(profiles, dict) or not profiles:
        raise UserError(f"{path}: no profiles")
    for pname, prof in profiles.items():
        _check_profile(path, str(pname), prof, names)
    spec = BookSpec(path=path, root=root, title=str(raw.get("title", "Book")), author=str(raw.get("author", "")),
                    chapters=chapters, profiles=profiles)
    defaults = {c.name: parameters_cell(c.source) for c in chapters}
    for pname in profiles:
        for dry in (False, True):
            for run in spec.plan(pname, dry_run=dry):
                check_parameters(run, defaults[run.chapter])
    return spec


def _check_profile(path: Path, pname: str, prof: Any, names: list[str]) -> None:
    where = f"{path}: profile {pname!r}"
    if not isinstance(prof, dict) or not isinstance(prof.get("chapters"), dict):
        raise UserError(f"{where}: needs a 'chapters' mapping")
    bad_keys = set(prof) - {"chapters", "env", "description"}
    if bad_keys:
        raise UserError(f"{where}: unknown key(s) {', '.join(sorted(bad_keys))}")
    env = prof.get("env") or {}
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, (str, int)) for k, v in env.items()):
        raise UserError(f"{where}: 'env' must map variable names to strings")
    entries = prof["chapters"]
    for name in entries:
        if name not in names:
            raise UserError(f"{where}: unknown chapter {name!r} (chapters: {', '.join(names)})")
    missing = [n for n in names if n not in entries]
    if missing:
        raise UserError(f"{where}: chapter(s) {', '.join(missing)} have no entry")
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            raise UserError(f"{where}: chapter {name!r}: expected a mapping")
        bad = set(entry) - {"timeout", "parameters", "variants", "requires_gpu", "dry_run"}
        if bad:
            raise UserError(f"{where}: chapter {name!r}: unknown key(s) {', '.join(sorted(bad))}")
        timeout = entry.get("timeout")
        if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0:
            raise UserError(f"{where}: chapter {name!r}: 'timeout' must be a positive number of seconds")
        for key in ("parameters", "variants"):
            if entry.get(key) is not None and not isinstance(entry[key], dict):
                raise UserError(f"{where}: chapter {name!r}: {key!r} must be a mapping")
        _check_dry_run(f"{where}: chapter {name!r}: dry_run", entry.get("dry_run"), entry.get("variants") or {})
        for vname, extra in (entry.get("variants") or {}).items():
            if not NAME.match(str(vname)) or (extra is not None and not isinstance(extra, dict)):
                raise UserError(f"{where}: chapter {name!r}: variant {vname!r} must be a name mapping to parameters")


def _check_dry_run(where: str, dry: Any, variants: Mapping[str, Any]) -> None:
    if dry is None:
        return
    if not isinstance(dry, dict) or set(dry) - {"parameters", "timeout", "variants"}:
        raise UserError(f"{where}: expected a mapping with 'parameters', 'timeout' and/or 'variants'")
    if dry.get("parameters") is not None and not isinstance(dry["parameters"], dict):
        raise UserError(f"{where}: 'parameters' must be a mapping")
    timeout = dry.get("timeout", 1)
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0:
        raise UserError(f"{where}: 'timeout' must be a positive number of seconds")
    kept = dry.get("variants")
    if kept is not None and (not isinstance(kept, list) or not kept or any(k not in variants for k in kept)):
        raise UserError(f"{where}: 'variants' must list some of the chapter's variants ({', '.join(variants)})")
