#!/usr/bin/env python3
"""Dump what QEMU's own QAPI parser reads from a schema, as JSON.

Usage: qapi_parse_dump.py QEMU_SCRIPTS_DIR SCHEMA.json > qemu.json

QEMU_SCRIPTS_DIR is a QEMU tree's `scripts` directory (QEMU >= 9.0, whose
parser has the doc section kinds used below). The output has the same
shape as `cargo run -p qmp-schema --example parse_dump -- SCHEMA.json`, so
the two can be compared with `diff` (definitions and doc blocks; include
and pragma directives are left out, QEMU does not keep them as written).
"""
import json
import sys

sys.path.insert(0, sys.argv[1])
from qapi.parser import QAPISchemaParser  # noqa: E402


def doc_json(doc):
    if doc is None:
        return None
    return {
        'line': doc.info.line,
        'symbol': doc.symbol,
        'sections': [
            {
                'kind': s.kind.name.title(),
                'name': getattr(s, 'name', None),
                'text': s.text,
                'line': s.info.line,
            }
            for s in doc.all_sections
        ],
    }


parser = QAPISchemaParser(sys.argv[2])
out = {
    'definitions': [
        {'file': e.info.fname, 'line': e.info.line, 'expr': dict(e),
         'doc': doc_json(e.doc)}
        for e in parser.exprs if 'include' not in e
    ],
    'docs': [doc_json(d) for d in parser.docs],
}
json.dump(out, sys.stdout, indent=1, sort_keys=True)
print()
