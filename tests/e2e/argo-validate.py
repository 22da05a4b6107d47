#!/usr/bin/env python3
"""argo-validate.py SCHEMA WORKFLOW.yaml... - validates each Workflow (YAML,
read with python3-yaml) against the Argo Workflows JSON schema's
io.argoproj.workflow.v1alpha1.Workflow definition, with the schema's whole
`definitions` attached so that its $refs resolve (python3-jsonschema).
Prints one line per problem; exits 1 when any file is invalid."""
import json
import sys

import jsonschema
import yaml


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: argo-validate.py SCHEMA WORKFLOW.yaml...")
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    wf = {
        "$schema": schema.get("$schema", "http://json-schema.org/draft-07/schema#"),
        "$ref": "#/definitions/io.argoproj.workflow.v1alpha1.Workflow",
        "definitions": schema["definitions"],
    }
    cls = jsonschema.validators.validator_for(wf)
    validator = cls(wf)
    bad = 0
    for name in sys.argv[2:]:
        with open(name, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        for e in errors:
            path = "/".join(str(p) for p in e.path)
            print(f"{name}: {path}: {e.message[:300]}")
        bad += 1 if errors else 0
        if not errors and (doc.get("kind") != "Workflow"):
            print(f"{name}: not a Workflow")
            bad += 1
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
