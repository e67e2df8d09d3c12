#!/usr/bin/env python3
"""Run QEMU's QAPI parser on every *.json file of a directory and print the
outcomes as JSON: {"name.json": ["ok", definitions, doc_blocks] or
["err", file, line, message] or ["crash", text]}.

Usage: qapi_parse_outcomes.py QEMU_SCRIPTS_DIR DIR

Used by qmp-schema's differential test (tests/qemu_python_oracle.rs).
"""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.abspath(sys.argv[1]))
from qapi.error import QAPIError  # noqa: E402
from qapi.parser import QAPISchemaParser  # noqa: E402

os.chdir(sys.argv[2])
res = {}
for f in sorted(glob.glob('*.json')):
    try:
        p = QAPISchemaParser(f)
        defs = [e for e in p.exprs if 'include' not in e]
        res[f] = ['ok', len(defs), len(p.docs)]
    except QAPIError as e:
        last = str(e).split('\n')[-1]
        fname, line, rest = last.split(':', 2)
        col, sep, msg = rest.partition(':')
        if not (sep and col.isdigit()):
            msg = rest
        res[f] = ['err', fname, int(line), msg.strip()]
    except Exception as e:  # pylint: disable=broad-except
        res[f] = ['crash', '%s: %s' % (type(e).__name__, e)]
json.dump(res, sys.stdout, sort_keys=True)
print()
