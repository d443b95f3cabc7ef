"""Extract Legemiddelregisteret's LMDI profile rules from their FHIR Shorthand.

The checker in ``lmdi_check`` must run in CI, where the LMDI guide is not checked out, so the
facts it needs (cardinalities, fixed values, slices, reference targets, bindings and the
FHIRPath invariants) are read once from the FSH and the no-basis package it builds on, and
committed as ``tests/interop/data/lmdi-rules.json``. No prose from the guide goes into it.

Regenerate with::

    python -m tests.interop.lmdi_profiles /work/shared/reference/lmdi

Covered FSH: ``Profile``/``Extension`` blocks (``Id``, ``Parent``, cardinality, ``MS`` ignored,
``= value [(exactly)]``, ``only``, ``from``, ``contains``, ``obeys``, ``^slicing.rules`` and
``^slicing.discriminator.path``), ``Invariant`` (``Expression``, ``Severity``), ``ValueSet``
with enumerated codes, and ``Alias``. Instances, other caret rules, titles and descriptions
are skipped on purpose.
"""

from __future__ import annotations

import json
import re
import sys
import tarfile
from pathlib import Path
from typing import Any

CANONICAL = "http://hl7.no/fhir/ig/lmdi"
SD_BASE = f"{CANONICAL}/StructureDefinition/"
FHIR_SD_BASE = "http://hl7.org/fhir/StructureDefinition/"
NO_BASIS_PACKAGE = "no-basis-2.2.2.tgz"
RULES_PATH = Path(__file__).parent / "data" / "lmdi-rules.json"

_KEYWORD = re.compile(r"^([A-Z][A-Za-z]*):\s*(.*)$", re.S)
_CARD = re.compile(r"^(\d+)\.\.(\d+|\*)$")
_FLAGS = {"MS", "SU", "?!", "N", "TU", "D"}


# --- reading FSH -----------------------------------------------------------------------------


def _logical_lines(text: str) -> list[str]:
    """Split FSH into lines, keeping strings that span lines whole and dropping comments."""
    lines: list[str] = []
    current: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text.startswith('"""', i):
            end = text.index('"""', i + 3) + 3
            current.append(text[i:end])
            i = end
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            current.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("//", i) and (i == 0 or text[i - 1] in " \t\n"):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
        elif text[i] == "\n":
            lines.append("".join(current))
            current = []
            i += 1
        else:
            current.append(text[i])
            i += 1
    lines.append("".join(current))
    return [line.rstrip() for line in lines if line.strip()]


def _statements(text: str) -> list[tuple[str, str]]:
    """Return ("keyword", value) and ("*", rule) statements; continuation lines are joined."""
    statements: list[tuple[str, str]] = []
    for line in _logical_lines(text):
        stripped = line.strip()
        if stripped.startswith("* ") or stripped == "*":
            statements.append(("*", stripped[1:].strip()))
            continue
        match = _KEYWORD.match(stripped) if not line[:1].isspace() else None
        if match:
            statements.append((match.group(1), match.group(2).strip()))
        elif statements:
            kind, value = statements[-1]
            statements[-1] = (kind, f"{value} {stripped}")
    return statements


def _unquote(value: str) -> str:
    value = value.strip()
    if value.startswith('"""') and value.endswith('"""'):
        return value[3:-3]
    if value.startswith('"') and value.endswith('"'):
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def _blocks(files: list[Path]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Group statements into entities (Profile, Extension, Invariant, ValueSet, ...)."""
    blocks: list[dict[str, Any]] = []
    aliases: dict[str, str] = {}
    for path in files:
        block: dict[str, Any] | None = None
        for kind, value in _statements(path.read_text(encoding="utf-8")):
            if kind == "Alias":
                name, _, url = value.partition("=")
                aliases[name.strip()] = url.strip()
            elif kind in {
                "Profile",
                "Extension",
                "Invariant",
                "ValueSet",
                "Instance",
                "CodeSystem",
            }:
                block = {"kind": kind, "name": value, "keywords": {}, "rules": []}
                blocks.append(block)
            elif block is None:
                continue
            elif kind == "*":
                block["rules"].append(value)
            else:
                block["keywords"][kind] = value
    return blocks, aliases


# --- the no-basis package ----------------------------------------------------------------------


def _no_basis(reference: Path) -> dict[str, dict[str, Any]]:
    """Read no-basis StructureDefinitions from the package, by name and by url."""
    found: dict[str, dict[str, Any]] = {}
    with tarfile.open(reference / NO_BASIS_PACKAGE) as package:
        for member in package.getmembers():
            if not (member.isfile() and member.name.endswith(".json")):
                continue
            handle = package.extractfile(member)
            if handle is None:
                continue
            try:
                data = json.load(handle)
            except ValueError:
                continue
            if isinstance(data, dict) and data.get("resourceType") == "StructureDefinition":
                found[data["name"]] = data
                found[data["url"]] = data
    return found


def _no_basis_slices(sd: dict[str, Any], no_basis: dict[str, dict[str, Any]], prefix: str = ""):
    """Slices a no-basis profile declares: {(path, slice): {discriminator, value, min, max}}."""
    slices: dict[tuple[str, str], dict[str, Any]] = {}
    slicing: dict[str, dict[str, Any]] = {}
    cardinality: dict[str, dict[str, Any]] = {}
    root = sd["type"]
    for element in sd.get("differential", {}).get("element", []):
        element_id = element["id"]
        relative = element_id[len(root) + 1 :] if element_id != root else ""
        path = ".".join(p for p in (prefix, relative) if p)
        if "slicing" in element and ":" not in relative:
            slicing[path] = {
                "rules": element["slicing"].get("rules", "open"),
                "discriminator": element["slicing"]["discriminator"][0]["path"],
            }
        if ":" in relative:
            head, _, tail = relative.partition(":")
            slice_name, _, rest = tail.partition(".")
            base = ".".join(p for p in (prefix, head) if p)
            info = slices.setdefault((base, slice_name), {"min": 0, "max": "*"})
            if not rest:
                if "min" in element:
                    info["min"] = element["min"]
                if "max" in element:
                    info["max"] = element["max"]
                for type_ in element.get("type", []):
                    if type_.get("code") == "Extension" and type_.get("profile"):
                        info["value"] = type_["profile"][0]
                        info["discriminator"] = "url"
            elif element.get("min", 0) >= 1 and ":" not in rest:
                cardinality[f"{base}[{slice_name}].{rest}"] = {
                    "min": element["min"],
                    "max": element.get("max", "*"),
                }
            if rest in ("system", "coding.system"):
                for key in ("fixedUri", "patternUri", "fixedString"):
                    if key in element:
                        info["value"] = element[key]
                        info["discriminator"] = rest
        if not prefix:
            for type_ in element.get("type", []):
                target = (type_.get("profile") or [None])[0]
                if target in no_basis and no_basis[target]["type"] != "Extension" and relative:
                    inner = _no_basis_slices(no_basis[target], no_basis, prefix=relative)
                    slices.update(inner[0])
                    slicing.update(inner[1])
                    cardinality.update(inner[2])
    return slices, slicing, cardinality


# --- rules -------------------------------------------------------------------------------------


def _split_and(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"\s+and\s+", text) if part.strip()]


def _literal(value: str, aliases: dict[str, str]) -> dict[str, Any]:
    value = value.strip()
    exactly = value.endswith("(exactly)")
    if exactly:
        value = value[: -len("(exactly)")].strip()
    if value.startswith('"'):
        return {"type": "string", "value": _unquote(value), "exactly": exactly}
    if value.startswith("#"):
        return {"type": "code", "value": value[1:].split()[0], "exactly": exactly}
    if "#" in value:
        system, _, code = value.partition("#")
        system = aliases.get(system, system)
        return {
            "type": "Coding",
            "value": {"system": system, "code": code.split()[0]},
            "exactly": exactly,
        }
    if value in ("true", "false"):
        return {"type": "boolean", "value": value == "true", "exactly": exactly}
    try:
        number: int | float = int(value)
    except ValueError:
        number = float(value)
    return {"type": "number", "value": number, "exactly": exactly}


class _Definition:
    """Rules of one Profile or Extension, collected while reading its FSH rules."""

    def __init__(self, kind: str, name: str, keywords: dict[str, str]):
        self.kind = kind
        self.name = name
        self.id = keywords.get("Id", name)
        self.parent = keywords.get("Parent", "Extension" if kind == "Extension" else "")
        self.cardinality: dict[str, dict[str, Any]] = {}
        self.fixed: dict[str, dict[str, Any]] = {}
        self.slicing: dict[str, dict[str, Any]] = {}
        self.slices: dict[tuple[str, str], dict[str, Any]] = {}
        self.types: dict[str, list[str]] = {}
        self.references: dict[str, list[str]] = {}
        self.bindings: dict[str, dict[str, Any]] = {}
        self.obeys: list[tuple[str, str]] = []
        self.contexts = keywords.get("Context", "")


def _set_card(definition: _Definition, path: str, card: str) -> None:
    match = _CARD.match(card)
    if not match:
        raise ValueError(f"{definition.id}: cardinality {card!r} at {path!r} is not understood")
    low, high = int(match.group(1)), match.group(2)
    slice_match = re.match(r"^(.*)\[([^\]]+)\]$", path)
    if slice_match and slice_match.group(2) != "x":
        key = (slice_match.group(1), slice_match.group(2))
        info = definition.slices.setdefault(key, {"min": 0, "max": "*"})
        info["min"], info["max"] = low, high
        return
    definition.cardinality[path] = {"min": low, "max": high}


def _read_rule(definition: _Definition, rule: str, aliases: dict[str, str], names: dict[str, str]):
    if rule.startswith("obeys "):
        for key in _split_and(rule[len("obeys ") :]):
            definition.obeys.append(("", key))
        return
    path, _, rest = rule.partition(" ")
    rest = rest.strip()
    if path == "^" or path.startswith("^"):
        return  # metadata about the profile itself
    if rest.startswith("^"):
        caret, _, value = rest.partition("=")
        caret = caret.strip()
        if caret == "^slicing.rules":
            definition.slicing.setdefault(path, {})["rules"] = _unquote(value).lstrip("#")
        elif caret == "^slicing.discriminator.path":
            definition.slicing.setdefault(path, {})["discriminator"] = _unquote(value)
        return
    if rest.startswith("obeys "):
        for key in _split_and(rest[len("obeys ") :]):
            definition.obeys.append((path, key))
    elif rest.startswith("contains "):
        for item in _split_and(rest[len("contains ") :]):
            words = [w for w in item.split() if w not in _FLAGS]
            if len(words) >= 3 and words[1] == "named":
                type_name, slice_name, card = words[0], words[2], words[3]
                url = names.get(type_name) or aliases.get(type_name, type_name)
                info = {"discriminator": "url", "value": url}
            else:
                slice_name, card = words[0], words[1]
                # a slice of a complex extension is identified by its name
                info = {"discriminator": "url", "value": slice_name} if path == "extension" else {}
            definition.slices.setdefault((path, slice_name), {"min": 0, "max": "*"}).update(info)
            _set_card(definition, f"{path}[{slice_name}]", card)
    elif rest.startswith("only "):
        kinds = rest[len("only ") :].strip()
        reference = re.match(r"^Reference\((.*)\)$", kinds)
        if reference:
            targets = [t.strip() for t in re.split(r"\s+or\s+", reference.group(1))]
            definition.references[path] = [names.get(t) or aliases.get(t, t) for t in targets]
            if path.endswith("[x]"):
                definition.types[path] = ["Reference"]
        elif path.endswith("[x]"):
            definition.types[path] = [t.strip() for t in re.split(r"\s+or\s+", kinds)]
    elif rest.startswith("from "):
        match = re.match(r"^from\s+(\S+)(?:\s+\((\w+)\))?", rest)
        assert match, rule
        value_set = match.group(1)
        definition.bindings[path] = {
            "valueSet": names.get(value_set) or aliases.get(value_set, value_set),
            "strength": match.group(2) or "required",
        }
    elif rest.startswith("="):
        literal = _literal(rest[1:], aliases)
        slice_match = re.match(r"^(.*)\[([^\]]+)\]\.system$", path)
        if slice_match and slice_match.group(2) != "x" and literal["type"] == "string":
            key = (slice_match.group(1), slice_match.group(2))
            info = definition.slices.setdefault(key, {"min": 0, "max": "*"})
            info.update({"discriminator": "system", "value": literal["value"]})
        else:
            definition.fixed[path] = literal
    else:
        words = [w for w in rest.split() if w not in _FLAGS]
        if words:
            _set_card(definition, path, words[0])


def _value_set(block: dict[str, Any], aliases: dict[str, str], names: dict[str, str]):
    codes: list[dict[str, str]] = []
    systems: list[str] = []
    for rule in block["rules"]:
        if rule.startswith("^"):
            continue
        text = rule[len("include ") :].strip() if rule.startswith("include ") else rule
        if text.startswith("codes from system "):
            system = text[len("codes from system ") :].split()[0]
            systems.append(names.get(system) or aliases.get(system, system))
            continue
        match = re.match(r"^(\S+)#(\S+)", text)
        if match:
            system = names.get(match.group(1)) or aliases.get(match.group(1), match.group(1))
            codes.append({"system": system, "code": match.group(2)})
    result: dict[str, Any] = {
        "id": block["keywords"].get("Id", block["name"]),
        "url": f"{CANONICAL}/ValueSet/{block['keywords'].get('Id', block['name'])}",
    }
    if codes:
        result["codes"] = codes
    if systems:
        result["systems"] = systems
    return result


def _resource_type(parent: str, no_basis: dict[str, dict[str, Any]], aliases: dict[str, str]):
    url = aliases.get(parent, parent)
    if url in no_basis:
        return no_basis[url]["type"], no_basis[url]["url"]
    return parent, FHIR_SD_BASE + parent


def _slice_list(definition: _Definition) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for (path, name), info in sorted(definition.slices.items()):
        group = result.setdefault(
            path,
            {
                "rules": definition.slicing.get(path, {}).get("rules", "open"),
                "discriminator": definition.slicing.get(path, {}).get(
                    "discriminator", info.get("discriminator", "url")
                ),
                "slices": {},
            },
        )
        entry = {"min": info["min"], "max": info["max"]}
        if "value" in info:
            entry["value"] = info["value"]
        group["slices"][name] = entry
    for path, slicing in definition.slicing.items():
        if path not in result:
            result[path] = {
                "rules": slicing.get("rules", "open"),
                "discriminator": "url",
                "slices": {},
            }
    return result


def extract(reference: Path) -> dict[str, Any]:
    """Read the LMDI FSH under ``reference`` (the folder that holds ``LMDI/``) into rules."""
    fsh = reference / "LMDI" / "input" / "fsh"
    files = sorted(fsh.glob("*.fsh")) + sorted(fsh.glob("*/*.fsh"))
    blocks, aliases = _blocks(files)
    no_basis = _no_basis(reference)

    names: dict[str, str] = {}
    for block in blocks:
        block_id = block["keywords"].get("Id", block["name"])
        if block["kind"] in {"Profile", "Extension"}:
            names[block["name"]] = names[block_id] = SD_BASE + block_id
        elif block["kind"] in {"ValueSet", "CodeSystem"}:
            url = f"{CANONICAL}/{block['kind']}/{block_id}"
            names[block["name"]] = names[block_id] = url
    for name, sd in no_basis.items():
        if not name.startswith("http"):
            names.setdefault(name, sd["url"])

    invariants = {
        block["name"]: {
            "severity": block["keywords"].get("Severity", "").lstrip("#"),
            "expression": " ".join(_unquote(block["keywords"]["Expression"]).split()),
        }
        for block in blocks
        if block["kind"] == "Invariant"
    }
    value_sets = {
        names[block["name"]]: _value_set(block, aliases, names)
        for block in blocks
        if block["kind"] == "ValueSet"
    }

    definitions: dict[str, Any] = {}
    for block in blocks:
        if block["kind"] not in {"Profile", "Extension"}:
            continue
        definition = _Definition(block["kind"], block["name"], block["keywords"])
        parent_url = aliases.get(definition.parent, definition.parent)
        parent_url = names.get(parent_url, parent_url)
        resource_type, parent_canonical = _resource_type(parent_url, no_basis, aliases)
        if parent_canonical in no_basis:
            slices, slicing, cardinality = _no_basis_slices(no_basis[parent_canonical], no_basis)
            definition.slices.update({k: dict(v) for k, v in slices.items()})
            definition.slicing.update({k: dict(v) for k, v in slicing.items()})
            definition.cardinality.update({k: dict(v) for k, v in cardinality.items()})
        for rule in block["rules"]:
            _read_rule(definition, rule, aliases, names)
        for binding in definition.bindings.values():
            value_set = value_sets.get(binding["valueSet"])
            if value_set and "codes" in value_set:
                binding["codes"] = value_set["codes"]

        cardinality = dict(sorted(definition.cardinality.items()))
        definitions[definition.id] = {
            "kind": definition.kind,
            "name": definition.name,
            "url": SD_BASE + definition.id,
            "parent": parent_canonical,
            "resourceType": resource_type,
            "required": [{"path": p, **c} for p, c in cardinality.items() if c["min"] >= 1],
            "prohibited": [p for p, c in cardinality.items() if c["max"] == "0"],
            "limited": [
                {"path": p, "max": c["max"]}
                for p, c in cardinality.items()
                if c["max"] not in ("*", "0") and c["min"] == 0
            ],
            "fixed": [{"path": p, **v} for p, v in sorted(definition.fixed.items())],
            "slicing": _slice_list(definition),
            "types": dict(sorted(definition.types.items())),
            "references": dict(sorted(definition.references.items())),
            "bindings": [{"path": p, **b} for p, b in sorted(definition.bindings.items())],
            "invariants": [
                {"key": key, "path": path, **invariants[key]} for path, key in definition.obeys
            ],
        }

    profiles = {k: v for k, v in definitions.items() if v["kind"] == "Profile"}
    extensions = {v["url"]: v for v in definitions.values() if v["kind"] == "Extension"}
    for item in list(profiles.values()) + list(extensions.values()):
        del item["kind"]
    return {
        "source": {
            "repository": "folkehelseinstituttet/LMDI",
            "commit": "c31d1d05",
            "licence": "CC-BY-4.0",
            "noBasisPackage": "hl7.fhir.no.basis#2.2.2",
        },
        "canonical": CANONICAL,
        "profiles": dict(sorted(profiles.items())),
        "extensions": dict(sorted(extensions.items())),
        "valueSets": dict(sorted(value_sets.items())),
    }


def dumps(rules: dict[str, Any]) -> str:
    return json.dumps(rules, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


SOURCE_MD = """\
# lmdi-rules.json: where it comes from

Facts and FHIRPath expressions extracted from the FHIR Shorthand of Legemiddelregisteret's
implementation guide LMDI: the public repository folkehelseinstituttet/LMDI, commit
c31d1d05, licensed under Creative Commons Attribution 4.0 (CC BY 4.0),
© Folkehelseinstituttet. Identifier slices the profiles inherit come from the HL7 Norway
package hl7.fhir.no.basis 2.2.2 that the guide builds on. Only machine-readable facts are
kept (ids, paths, cardinalities, fixed values, systems, reference targets, codes and
invariant expressions); no text of the guide is copied.

HAB uses it in tests only (tests/interop/lmdi_check.py) to check the Bundles it builds for
the registry, without network.

Regenerate from a checkout of the guide (the folder that holds `LMDI/` and
`no-basis-2.2.2.tgz`):

    python -m tests.interop.lmdi_profiles /path/to/lmdi

tests/interop/test_lmdi_check.py re-extracts and compares when that folder is found
(env HAB_LMDI_REFERENCE, /work/shared/reference/lmdi, or ../shared/reference/lmdi next to the
repository) and is skipped otherwise.
"""


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(
            "usage: python -m tests.interop.lmdi_profiles /path/to/lmdi-reference", file=sys.stderr
        )
        return 2
    rules = extract(Path(argv[0]))
    RULES_PATH.parent.mkdir(parents=True, exist_ok=True)
    RULES_PATH.write_text(dumps(rules), encoding="utf-8")
    (RULES_PATH.parent / "SOURCE.md").write_text(SOURCE_MD, encoding="utf-8")
    print(f"wrote {RULES_PATH} ({len(rules['profiles'])} profiles)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
