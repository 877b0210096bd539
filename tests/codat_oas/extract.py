#!/usr/bin/env python3
"""Extracts from Codat's published OpenAPI documents (github.com/codatio/oas) the facts of the
operations Ledgerline shares with Codat: per operation its parameters, its documented response
codes and each response's body schema, as self-contained JSON Schema (draft 2020-12).

    python3 tests/codat_oas/extract.py OAS_CHECKOUT > tests/codat_oas/codat_oas.json

OAS_CHECKOUT is a clone of codatio/oas (a bare git directory works too: files are read from
HEAD). Not run in CI (CI has no GitHub): its output is checked in. Codat's documents say OpenAPI
3.1 but mark nullability the 3.0 way (`nullable: true`); that is turned into a type union
(`"type": ["string", "null"]`, and `null` added to an enum) so a standard validator reads it.
Descriptions and examples are dropped: the fixture keeps what a validator checks.
"""

import json
import subprocess
import sys
from pathlib import Path

import yaml

# operationId -> document it comes from. Platform operations from Codat-Platform.json; the
# accounting invoice operations from Codat-Lending (Codat-Accounting's document is too large for
# the snapshot, and Lending carries the same accounting paths and schemas).
PLATFORM = "json/Codat-Platform.json"
LENDING = "yaml/Codat-Lending.yaml"
# Company info is not in Lending's document; Sync for Commerce carries the accounting one.
SYNC_COMMERCE = "yaml/Codat-Sync-Commerce-v1.yaml"
OPERATIONS = {
    "list-companies": PLATFORM,
    "create-company": PLATFORM,
    "get-company": PLATFORM,
    "replace-company": PLATFORM,
    "update-company": PLATFORM,
    "delete-company": PLATFORM,
    "list-connections": PLATFORM,
    "create-connection": PLATFORM,
    "get-connection": PLATFORM,
    "delete-connection": PLATFORM,
    "unlink-connection": PLATFORM,
    "update-connection-authorization": PLATFORM,
    "list-integrations": PLATFORM,
    "get-integration": PLATFORM,
    "get-company-data-status": PLATFORM,
    "refresh-company-data": PLATFORM,
    "refresh-data-type": PLATFORM,
    "list-pull-operations": PLATFORM,
    "get-pull-operation": PLATFORM,
    "get-profile-syncSettings": PLATFORM,
    "update-profile-syncSettings": PLATFORM,
    "list-accounting-invoices": LENDING,
    "get-accounting-invoice": LENDING,
    "list-accounting-customers": LENDING,
    "get-accounting-customer": LENDING,
    "list-accounting-suppliers": LENDING,
    "get-accounting-supplier": LENDING,
    "list-accounting-bills": LENDING,
    "get-accounting-bill": LENDING,
    "list-accounting-accounts": LENDING,
    "get-accounting-account": LENDING,
    "list-accounting-journal-entries": LENDING,
    "get-accounting-journal-entry": LENDING,
    "list-accounting-credit-notes": LENDING,
    "get-accounting-credit-note": LENDING,
    "get-accounting-company-info": SYNC_COMMERCE,
}

# Keywords a validator checks; everything else (descriptions, examples, x-*) is dropped.
KEEP = {
    "type", "format", "enum", "const", "required", "properties", "items",
    "additionalProperties", "allOf", "anyOf", "oneOf", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern",
    "minItems", "maxItems", "uniqueItems", "default",
}


def read(repo: Path, path: str) -> str:
    if (repo / path).is_file():
        return (repo / path).read_text()
    return subprocess.run(
        ["git", "--git-dir", str(repo), "show", f"HEAD:{path}"],
        check=True, capture_output=True, text=True,
    ).stdout


def commit(repo: Path) -> str:
    git_dir = repo / ".git" if (repo / ".git").exists() else repo
    return subprocess.run(
        ["git", "--git-dir", str(git_dir), "rev-parse", "HEAD"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()


class Document:
    def __init__(self, text: str):
        self.root = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))

    def pointer(self, ref: str):
        assert ref.startswith("#/"), ref
        node = self.root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~").replace("%7B", "{").replace("%7D", "}")
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    def resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            node = self.pointer(node["$ref"])
        return node

    def schema(self, node, seen=()):
        """A self-contained JSON Schema: refs inlined (a recursive one becomes `{}`),
        `nullable` turned into a type union."""
        if isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                return {}
            return self.schema(self.pointer(ref), seen + (ref,))
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key not in KEEP:
                continue
            if key == "properties":
                out[key] = {name: self.schema(v, seen) for name, v in value.items()}
            elif key in ("items", "additionalProperties") and isinstance(value, dict):
                out[key] = self.schema(value, seen)
            elif key in ("allOf", "anyOf", "oneOf"):
                out[key] = [self.schema(v, seen) for v in value]
            else:
                out[key] = value
        if node.get("nullable") is True:
            kind = out.get("type")
            if isinstance(kind, str):
                out["type"] = [kind, "null"]
            elif isinstance(kind, list) and "null" not in kind:
                out["type"] = kind + ["null"]
            elif kind is None and not any(k in out for k in ("allOf", "anyOf", "oneOf")):
                pass  # no type: anything, null included
            elif kind is None:
                out = {"anyOf": [out, {"type": "null"}]}
            if "enum" in out and None not in out["enum"]:
                out["enum"] = out["enum"] + [None]
        return out


def operation_facts(doc: Document, operation_id: str):
    for path, item in doc.root["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or op.get("operationId") != operation_id:
                continue
            parameters = []
            for p in item.get("parameters", []) + op.get("parameters", []):
                p = doc.resolve(p)
                parameters.append({
                    "name": p["name"],
                    "in": p["in"],
                    "required": bool(p.get("required", False)),
                    "schema": doc.schema(p.get("schema", {})),
                })
            responses = {}
            for code, response in op["responses"].items():
                response = doc.resolve(response)
                body = response.get("content", {}).get("application/json", {}).get("schema")
                responses[code] = doc.schema(body) if body is not None else None
            request = None
            if "requestBody" in op:
                body = doc.resolve(op["requestBody"]).get("content", {}).get("application/json", {})
                if "schema" in body:
                    request = doc.schema(body["schema"])
            return {
                "method": method.upper(),
                "path": path,
                "parameters": parameters,
                "requestBody": request,
                "responses": responses,
            }
    raise SystemExit(f"operation {operation_id} not found")


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    repo = Path(sys.argv[1])
    documents = {}
    operations = {}
    for operation_id, path in OPERATIONS.items():
        if path not in documents:
            documents[path] = Document(read(repo, path))
        operations[operation_id] = {"document": path, **operation_facts(documents[path], operation_id)}
    fixture = {
        "source": {
            "repository": "https://github.com/codatio/oas",
            "commit": commit(repo),
            "documents": sorted(documents),
            "extractedBy": "tests/codat_oas/extract.py",
        },
        "operations": operations,
    }
    json.dump(fixture, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
