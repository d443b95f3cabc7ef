"""Check a FHIR Bundle (a dict as loaded from JSON) for Legemiddelregisteret, without network.

``fhir_problems`` parses the Bundle and every entry's resource with the fhir.resources R4B
models; ``lmdi_problems`` applies the LMDI profile rules extracted from the guide's FSH into
``data/lmdi-rules.json`` (see ``lmdi_profiles``) and evaluates the guide's FHIRPath invariants
with fhirpathpy; ``assert_valid`` runs both and fails with every problem listed.

R4B and R4: LMDI is written for FHIR R4 (4.0.1); fhir.resources 8.3.0 ships R4B (4.3.0), STU3
and R5 models but no R4. For the resources LMDI uses (Bundle, Patient, Practitioner,
Organization, Encounter, Condition, Medication, MedicationRequest, MedicationAdministration,
Substance) every element the LMDI profiles name exists in R4B with the same name and type,
so R4B parsing stands in for R4 here (test_lmdi_check asserts the element names). Met along
the way: ``fhir.resources.R4B`` has ``get_fhir_model_class`` but no ``construct_fhir_element``
(only the R5 top-level package has it), so models are looked up by name and validated with
``model_validate``; the models forbid unknown elements and check primitive formats (a
dateTime with a time must carry a zone, in R4 as in R4B), but not code bindings, slices or
invariants, which is what ``lmdi_problems`` is for. fhirpathpy is given its R4 model.

fhirpathpy 2.2.4 does not bind ``$this`` at the top of an expression (it raises KeyError), so
an invariant is evaluated as ``%context.<path>[i].select(<expression>)``: ``select`` binds
``$this`` to the element, as the FHIR validator does when it checks a constraint on it.

HAB's own rules, on top of the profiles (marked "HAB rule" in the messages): every entry has a
unique fullUrl (the urn:uuid references resolve through it), and a Patient carries an FNR or
DNR identifier, because Legemiddelregisteret cannot link a dose to a person without one (the
LMDI profile allows a patient without identifier).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhirpathpy import evaluate
from fhirpathpy.models import models
from pydantic import ValidationError

from tests.interop.lmdi_profiles import RULES_PATH, SD_BASE

FNR = "urn:oid:2.16.578.1.12.4.1.4.1"
DNR = "urn:oid:2.16.578.1.12.4.1.4.2"
BUNDLE_PROFILE = "lmdi-bundle"
_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[([^\]]+)\])?$")


@lru_cache(maxsize=1)
def rules() -> dict[str, Any]:
    """The committed extraction of the LMDI profiles."""
    return json.loads(RULES_PATH.read_text(encoding="utf-8"))


def _profile_for(resource_type: str) -> dict[str, Any] | None:
    for profile in rules()["profiles"].values():
        if profile["resourceType"] == resource_type and profile["url"] != SD_BASE + BUNDLE_PROFILE:
            return profile
    return None


def _profile_by_url(url: str) -> dict[str, Any] | None:
    for profile in rules()["profiles"].values():
        if profile["url"] == url:
            return profile
    return None


# --- fhir.resources ----------------------------------------------------------------------------


def _pydantic_errors(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in item['loc']) or '(root)'}: {item['msg']}"
        for item in error.errors()
    )


def _parse(resource_type: str, data: dict[str, Any]) -> str | None:
    try:
        model = get_fhir_model_class(resource_type)
    except ValueError:
        return f"unknown resourceType {resource_type!r}"
    try:
        model.model_validate(data)
    except ValidationError as error:
        return _pydantic_errors(error)
    return None


def fhir_problems(bundle: dict) -> list[str]:
    """Problems the FHIR R4B models find in the Bundle and in each entry's resource."""
    if not isinstance(bundle, dict):
        return [f"Bundle: not a JSON object but {type(bundle).__name__}"]
    problems: list[str] = []
    entries = bundle.get("entry") if isinstance(bundle.get("entry"), list) else []
    shell = dict(bundle)
    if entries:
        # Each resource is parsed on its own below, so its errors name its entry once.
        shell["entry"] = [
            {k: v for k, v in e.items() if k != "resource"} if isinstance(e, dict) else e
            for e in entries
        ]
    error = _parse(str(bundle.get("resourceType", "Bundle")), shell)
    if bundle.get("resourceType") != "Bundle":
        problems.append(f"Bundle: resourceType is {bundle.get('resourceType')!r}, not 'Bundle'")
    elif error:
        problems.append(f"Bundle: {error}")
    for index, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue  # a missing resource is an LMDI problem (entry.resource 1..1)
        resource_type = resource.get("resourceType")
        if not resource_type:
            problems.append(f"entry[{index}]: resource has no resourceType")
            continue
        error = _parse(resource_type, resource)
        if error:
            problems.append(f"entry[{index}] {resource_type}: {error}")
    return problems


# --- walking elements --------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _values(node: Any, path: str) -> list[Any]:
    """Plain values at a dotted path without slices, e.g. ``coding.system``."""
    current = [node]
    for name in path.split("."):
        current = [item for n in current if isinstance(n, dict) for item in _as_list(n.get(name))]
    return current


def _choice_keys(node: dict[str, Any], base: str) -> list[str]:
    return [k for k in node if k.startswith(base) and k[len(base) : len(base) + 1].isupper()]


def _slice_of(definition: dict[str, Any], base: str, name: str) -> dict[str, Any] | None:
    group = definition.get("slicing", {}).get(base)
    if not group or name not in group["slices"]:
        return None
    return {"discriminator": group["discriminator"], **group["slices"][name]}


def _matches(element: Any, slice_: dict[str, Any]) -> bool:
    return "value" in slice_ and slice_["value"] in _values(element, slice_["discriminator"])


def _select(node: Any, path: str, definition: dict[str, Any], walked: str = "") -> list[Any]:
    """Elements at an FSH path (``a.b[Slice].c``, ``value[x]``) below ``node``."""
    if not path:
        return [node]
    current = [node]
    segments = path.split(".")
    for index, segment in enumerate(segments):
        match = _SEGMENT.match(segment)
        if not match:
            raise ValueError(f"path segment {segment!r} is not understood")
        name, slice_name = match.groups()
        more = index + 1 < len(segments)
        found: list[Any] = []
        for item in current:
            if not isinstance(item, dict):
                continue
            keys = _choice_keys(item, name) if slice_name == "x" else [name]
            for key in keys:
                value = item.get(key)
                if more and value is not None and not isinstance(value, (dict, list)):
                    value = item.get(f"_{key}")  # extensions of a primitive element
                found.extend(_as_list(value))
        walked = f"{walked}.{name}" if walked else name
        if slice_name and slice_name != "x":
            slice_ = _slice_of(definition, walked, slice_name)
            found = [f for f in found if slice_ and _matches(f, slice_)]
        current = found
    return current


def _split_last(path: str) -> tuple[str, str]:
    head, _, last = path.rpartition(".")
    return head, last


def _describe(definition: dict[str, Any], path: str) -> str:
    match = re.match(r"^(.*)\[([^\]]+)\]$", path)
    if match and match.group(2) != "x":
        slice_ = _slice_of(definition, re.sub(r"\[[^\]]+\]", "", match.group(1)), match.group(2))
        if slice_ and "value" in slice_:
            return f"{path} ({slice_['discriminator']} {slice_['value']})"
    return path


def _count_problems(
    where: str, node: Any, definition: dict[str, Any], path: str, low: int, high: str
) -> list[str]:
    head, last = _split_last(path)
    problems = []
    walked = re.sub(r"\[[^\]]+\]", "", head)
    for parent in _select(node, head, definition):
        count = len(_select(parent, last, definition, walked))
        label = _describe(definition, path)
        if high == "0" and count:
            problems.append(f"{where}: {label} is prohibited (0..0), found {count}")
        elif count < low:
            problems.append(f"{where}: {label} is required ({low}..{high}), found {count}")
        elif high != "*" and count > int(high):
            problems.append(f"{where}: {label} allows at most {high}, found {count}")
    return problems


# --- one definition (profile or extension) on one element ---------------------------------------


def _cardinality_problems(where: str, node: Any, definition: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for rule in definition.get("required", []):
        problems += _count_problems(where, node, definition, rule["path"], rule["min"], rule["max"])
    for path in definition.get("prohibited", []):
        problems += _count_problems(where, node, definition, path, 0, "0")
    for rule in definition.get("limited", []):
        problems += _count_problems(where, node, definition, rule["path"], 0, rule["max"])
    for base, group in definition.get("slicing", {}).items():
        for name, slice_ in group["slices"].items():
            path = f"{base}[{name}]"
            problems += _count_problems(where, node, definition, path, slice_["min"], slice_["max"])
        if group["rules"] == "closed":
            allowed = [
                {"discriminator": group["discriminator"], **s}
                for s in group["slices"].values()
                if "value" in s
            ]
            for element in _select(node, base, definition):
                if not any(_matches(element, s) for s in allowed):
                    found = _values(element, group["discriminator"]) or ["(none)"]
                    names = ", ".join(
                        f"{n} {s['value']}"
                        for n, s in group["slices"].items()
                        if "value" in s and s["max"] != "0"
                    )
                    problems.append(
                        f"{where}: {base} {group['discriminator']} {found[0]} is not allowed "
                        f"(closed slicing; allowed: {names})"
                    )
    return problems


def _fixed_problems(where: str, node: Any, definition: dict[str, Any]) -> list[str]:
    problems = []
    for rule in definition.get("fixed", []):
        for value in _select(node, rule["path"], definition):
            if value != rule["value"] and not (
                isinstance(value, dict)
                and isinstance(rule["value"], dict)
                and all(value.get(k) == v for k, v in rule["value"].items())
            ):
                problems.append(
                    f"{where}: {rule['path']} must be {rule['value']!r} (fixed), found {value!r}"
                )
    return problems


def _type_problems(where: str, node: Any, definition: dict[str, Any]) -> list[str]:
    problems = []
    for path, types in definition.get("types", {}).items():
        head, last = _split_last(path)
        base = last[: -len("[x]")]
        allowed = {t.lower() for t in types}
        for parent in _select(node, head, definition):
            if not isinstance(parent, dict):
                continue
            for key in _choice_keys(parent, base):
                if key[len(base) :].lower() not in allowed:
                    problems.append(
                        f"{where}: {key} is not allowed; {path} only {' or '.join(types)}"
                    )
    return problems


def _binding_problems(where: str, node: Any, definition: dict[str, Any]) -> list[str]:
    problems = []
    for binding in definition.get("bindings", []):
        if binding["strength"] != "required" or "codes" not in binding:
            continue
        codes = binding["codes"]
        allowed = {c["code"] for c in codes}
        for value in _select(node, binding["path"], definition):
            if isinstance(value, str):
                ok = value in allowed
            else:
                codings = _as_list(value.get("coding")) if "coding" in value else [value]
                ok = any(
                    {"system": c.get("system"), "code": c.get("code")} in codes for c in codings
                )
            if not ok:
                value_set = binding["valueSet"].rsplit("/", 1)[-1]
                problems.append(
                    f"{where}: {binding['path']} {value!r} is not in {value_set} "
                    f"({', '.join(sorted(allowed))})"
                )
    return problems


def _invariant_problems(where: str, node: Any, definition: dict[str, Any]) -> list[str]:
    problems = []
    model = models["r4"]
    for invariant in definition.get("invariants", []):
        if invariant["severity"] != "error":
            continue
        path, expression = invariant["path"], invariant["expression"]
        targets = (
            [f"%context.{path}[{i}]" for i in range(len(evaluate(node, path, {}, model)))]
            if path
            else ["%context"]
        )
        for target in targets:
            try:
                result = evaluate(node, f"{target}.select({expression})", {}, model)
            except Exception as error:  # any engine failure is a finding
                problems.append(
                    f"{where}: invariant {invariant['key']} could not be evaluated: {error!r}"
                )
                continue
            if result != [True]:
                at = target.removeprefix("%context").lstrip(".") or "the element"
                value = evaluate(node, target, {}, model) if path else None
                shown = f" (value {value[0]!r})" if value and not isinstance(value[0], dict) else ""
                problems.append(
                    f"{where}: invariant {invariant['key']} failed at {at}{shown}: {expression}"
                )
    return problems


def _extensions_in(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "extension" or key.startswith("_"):
                for item in _as_list(value):
                    if isinstance(item, dict) and key == "extension":
                        found.append(item)
            found += _extensions_in(value)
    elif isinstance(node, list):
        for item in node:
            found += _extensions_in(item)
    return found


def _definition_problems(where: str, node: Any, definition: dict[str, Any]) -> list[str]:
    return (
        _cardinality_problems(where, node, definition)
        + _fixed_problems(where, node, definition)
        + _type_problems(where, node, definition)
        + _binding_problems(where, node, definition)
        + _invariant_problems(where, node, definition)
    )


# --- references --------------------------------------------------------------------------------


def _references(node: Any, path: str = "") -> list[tuple[str, str]]:
    found = []
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            found.append((path, node["reference"]))
        for key, value in node.items():
            if key not in ("reference", "contained"):
                found += _references(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for item in node:
            found += _references(item, path)
    return found


def _declared_targets(profile: dict[str, Any], path: str) -> list[str] | None:
    for declared, targets in profile.get("references", {}).items():
        if declared == path or (
            declared.endswith("[x]") and path == declared[: -len("[x]")] + "Reference"
        ):
            return targets
    return None


def _canonical(url: str) -> str:
    return url.split("|", 1)[0]


def _reference_problems(
    where: str, resource: dict[str, Any], profile: dict[str, Any] | None, by_url: dict[str, Any]
) -> list[str]:
    problems = []
    for path, reference in _references(resource):
        target = by_url.get(reference)
        if target is None:
            problems.append(
                f"{where}: {path} → {reference} does not resolve to any entry's fullUrl"
            )
            continue
        targets = _declared_targets(profile, path) if profile else None
        if not targets:
            continue
        target_profiles = {_canonical(p) for p in _as_list(target.get("meta", {}).get("profile"))}
        expected = [p for p in (_profile_by_url(t) for t in targets) if p]
        if not any(
            target.get("resourceType") == p["resourceType"] and p["url"] in target_profiles
            for p in expected
        ):
            names = " or ".join(
                f"{p['resourceType']} ({p['url'].rsplit('/', 1)[-1]})" for p in expected
            )
            problems.append(
                f"{where}: {path} → {reference} is a {target.get('resourceType')} with profiles "
                f"{sorted(target_profiles)}, expected {names}"
            )
    return problems


# --- the Bundle --------------------------------------------------------------------------------


def _profile_claim_problems(
    where: str, resource: dict[str, Any], expected: dict | None
) -> list[str]:
    claimed = [_canonical(p) for p in _as_list(resource.get("meta", {}).get("profile"))]
    lmdi = [p for p in claimed if p.startswith(SD_BASE)]
    if expected is None:
        return [f"{where}: resourceType {resource.get('resourceType')!r} has no LMDI profile"]
    if not lmdi:
        return [f"{where}: meta.profile has no LMDI profile (expected {expected['url']})"]
    if len(lmdi) > 1:
        return [f"{where}: meta.profile names more than one LMDI profile: {lmdi}"]
    if lmdi[0] != expected["url"]:
        return [
            f"{where}: meta.profile {lmdi[0]} does not fit a {resource.get('resourceType')} "
            f"(expected {expected['url']})"
        ]
    return []


def _hab_patient_problems(where: str, resource: dict[str, Any]) -> list[str]:
    systems = {
        i.get("system")
        for i in _as_list(resource.get("identifier"))
        if isinstance(i, dict) and i.get("value")
    }
    if not systems & {FNR, DNR}:
        return [
            f"{where}: HAB rule: a Patient needs an FNR ({FNR}) or DNR ({DNR}) identifier; "
            "Legemiddelregisteret cannot link a dose to a person without one"
        ]
    return []


def _split(definition: dict[str, Any], prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The rules on the element itself, and those below ``prefix`` made relative to it."""
    outer: dict[str, Any] = {}
    inner: dict[str, Any] = {}
    for key, value in definition.items():
        if not isinstance(value, list):
            outer[key] = inner[key] = value
            continue
        outer[key], inner[key] = [], []
        for rule in value:
            path = rule if isinstance(rule, str) else rule["path"]
            if not path.startswith(prefix):
                outer[key].append(rule)
                continue
            relative = path[len(prefix) :]
            inner[key].append(relative if isinstance(rule, str) else {**rule, "path": relative})
    return outer, inner


def lmdi_problems(bundle: dict) -> list[str]:
    """Problems with the Bundle against LegemiddelregisterBundle and the LMDI profiles."""
    if not isinstance(bundle, dict):
        return [f"Bundle: not a JSON object but {type(bundle).__name__}"]
    data = rules()
    bundle_rules, entry_rules = _split(data["profiles"][BUNDLE_PROFILE], "entry.")
    problems = _definition_problems("Bundle", bundle, bundle_rules)
    entries = [e for e in _as_list(bundle.get("entry")) if isinstance(e, dict)]
    for index, entry in enumerate(entries):
        problems += _definition_problems(f"Bundle entry[{index}]", entry, entry_rules)

    by_url: dict[str, Any] = {}
    for index, entry in enumerate(entries):
        full_url = entry.get("fullUrl")
        if not full_url:
            problems.append(f"entry[{index}]: HAB rule: fullUrl is required")
        elif full_url in by_url:
            problems.append(f"entry[{index}]: HAB rule: fullUrl {full_url} is used twice")
        elif isinstance(entry.get("resource"), dict):
            by_url[full_url] = entry["resource"]

    for index, entry in enumerate(entries):
        resource = entry.get("resource")
        if not isinstance(resource, dict):
            continue
        resource_type = resource.get("resourceType")
        where = f"entry[{index}] {resource_type}"
        profile = _profile_for(str(resource_type))
        problems += _profile_claim_problems(where, resource, profile)
        if profile:
            where = f"{where} ({profile['url'].rsplit('/', 1)[-1]})"
            problems += _definition_problems(where, resource, profile)
        for extension in _extensions_in(resource):
            definition = data["extensions"].get(extension.get("url"))
            if definition:
                name = definition["url"].rsplit("/", 1)[-1]
                problems += _definition_problems(f"{where} extension {name}", extension, definition)
        if resource_type == "Patient":
            problems += _hab_patient_problems(where, resource)
        problems += _reference_problems(where, resource, profile, by_url)
    return problems


def assert_valid(bundle: dict) -> None:
    """Fail with every FHIR and LMDI problem in the Bundle."""
    __tracebackhide__ = True
    problems = fhir_problems(bundle) + lmdi_problems(bundle)
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise AssertionError(f"Bundle is not valid for Legemiddelregisteret:\n{listing}")
