"""Load ODCS v3 table contracts and turn them into pyarrow schemas.

A contract is strict: an unknown key, a property without a description or a physical
type we cannot map fails loading with the file and the property named.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import yaml

CONTRACTS_DIR = Path(__file__).parent / "contracts"

_SCALAR_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "int32": pa.int32(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "date32": pa.date32(),
    "timestamp[us, UTC]": pa.timestamp("us", tz="UTC"),
}
_LIST_RE = re.compile(r"^list<(.+)>$")

_TOP_KEYS = {"apiVersion", "kind", "id", "name", "version", "status", "description", "schema"}
_SCHEMA_KEYS = {"name", "physicalName", "physicalType", "description", "dataGranularityDescription",
                "customProperties", "properties"}
_PROPERTY_KEYS = {"name", "logicalType", "physicalType", "required", "unique", "primaryKey",
                  "primaryKeyPosition", "logicalTypeOptions", "description", "quality"}
_LOGICAL_TYPES = {"string", "integer", "number", "boolean", "date", "timestamp", "array"}
_OPTION_KEYS = {"minimum", "maximum"}


class ContractError(ValueError):
    """A contract file that cannot be loaded."""


def arrow_type(physical: str) -> pa.DataType:
    """Map a contract physicalType ("int64", "list<float64>", ...) to an Arrow type."""
    if physical in _SCALAR_TYPES:
        return _SCALAR_TYPES[physical]
    m = _LIST_RE.match(physical)
    if m and m.group(1) in _SCALAR_TYPES:
        return pa.list_(_SCALAR_TYPES[m.group(1)])
    raise ContractError(f"unknown physicalType {physical!r}")


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    required: bool
    unique: bool
    description: str
    minimum: float | None = None
    maximum: float | None = None
    allowed: tuple | None = None


@dataclass(frozen=True)
class Contract:
    name: str
    version: str
    grain: str
    primary_key: tuple[str, ...]
    join_keys: tuple[dict, ...]
    columns: tuple[Column, ...]

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type, nullable=not c.required) for c in self.columns])

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")


def _check_keys(where: str, obj: dict, allowed: set[str]) -> None:
    unknown = set(obj) - allowed
    if unknown:
        raise ContractError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")


def _parse_property(where: str, prop: dict) -> tuple[Column, int | None]:
    if not isinstance(prop, dict) or "name" not in prop:
        raise ContractError(f"{where}: every property needs a name")
    where = f"{where}, column {prop['name']!r}"
    _check_keys(where, prop, _PROPERTY_KEYS)
    desc = prop.get("description")
    if not isinstance(desc, str) or not desc.strip():
        raise ContractError(f"{where}: no description; say what the column holds and its source")
    if prop.get("logicalType") not in _LOGICAL_TYPES:
        raise ContractError(f"{where}: unknown logicalType {prop.get('logicalType')!r}")
    try:
        typ = arrow_type(str(prop.get("physicalType")))
    except ContractError as exc:
        raise ContractError(f"{where}: {exc}") from None
    opts = prop.get("logicalTypeOptions") or {}
    _check_keys(f"{where} logicalTypeOptions", opts, _OPTION_KEYS)
    allowed = None
    for rule in prop.get("quality") or []:
        if rule.get("metric") != "invalidValues" or "validValues" not in (rule.get("arguments") or {}):
            raise ContractError(f"{where}: only 'invalidValues' quality rules with validValues are supported")
        allowed = tuple(rule["arguments"]["validValues"])
    col = Column(
        name=prop["name"], type=typ, required=bool(prop.get("required", False)),
        unique=bool(prop.get("unique", False)), description=desc.strip(),
        minimum=opts.get("minimum"), maximum=opts.get("maximum"), allowed=allowed,
    )
    pk = prop.get("primaryKeyPosition") if prop.get("primaryKey") else None
    return col, pk


def parse_contract(doc: dict, where: str) -> Contract:
    """Build a Contract from a parsed ODCS document; `where` names it in errors."""
    _check_keys(where, doc, _TOP_KEYS)
    if doc.get("kind") != "DataContract" or not str(doc.get("apiVersion", "")).startswith("v3"):
        raise ContractError(f"{where}: not an ODCS v3 DataContract (kind/apiVersion)")
    schemas = doc.get("schema") or []
    if len(schemas) != 1:
        raise ContractError(f"{where}: expected exactly one schema object, found {len(schemas)}")
    sch = schemas[0]
    _check_keys(f"{where} schema", sch, _SCHEMA_KEYS)
    if not sch.get("dataGranularityDescription"):
        raise ContractError(f"{where}: the schema must state its grain (dataGranularityDescription)")
    cols, pks, seen = [], [], set()
    for prop in sch.get("properties") or []:
        col, pk = _parse_property(f"{where}", prop)
        if col.name in seen:
            raise ContractError(f"{where}: column {col.name!r} described twice")
        seen.add(col.name)
        cols.append(col)
        if pk is not None:
            pks.append((pk, col.name))
    join = ()
    for cp in sch.get("customProperties") or []:
        if cp.get("property") == "joinKeys":
            join = tuple(cp.get("value") or ())
    return Contract(
        name=str(doc["name"]), version=str(doc["version"]),
        grain=sch["dataGranularityDescription"], primary_key=tuple(n for _, n in sorted(pks)),
        join_keys=join, columns=tuple(cols),
    )


@functools.cache
def load_contract(name: str) -> Contract:
    """The contract of table `name`, from data_contracts/contracts/<name>.yaml."""
    path = CONTRACTS_DIR / f"{name}.yaml"
    if not path.exists():
        raise ContractError(f"no contract for table {name!r}; known: {', '.join(contract_names())}")
    return parse_contract(yaml.safe_load(path.read_text()), str(path.name))


def contract_names() -> list[str]:
    return sorted(p.stem for p in CONTRACTS_DIR.glob("*.yaml"))


def arrow_schema(name: str) -> pa.Schema:
    """The pyarrow schema of table `name`."""
    return load_contract(name).schema
