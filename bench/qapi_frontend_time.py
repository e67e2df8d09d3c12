#!/usr/bin/env python3
"""Time QEMU's own QAPI front end (Python), for comparison with
`cargo bench -p qmp-schema --bench parse`.

Usage: qapi_frontend_time.py QEMU_TREE [SCHEMA] [REPEAT]

QEMU_TREE is a QEMU source tree (e.g. ../shared/qemu/10.0.2); SCHEMA is
relative to it (default qapi/qapi-schema.json). Prints CPU and wall time
per run for parsing alone (QAPISchemaParser) and for parsing + checking
(QAPISchema), averaged over REPEAT runs (default 5).
"""
import os
import resource
import sys
import time


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    tree = os.path.abspath(sys.argv[1])
    schema = sys.argv[2] if len(sys.argv) > 2 else 'qapi/qapi-schema.json'
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    sys.path.insert(0, os.path.join(tree, 'scripts'))
    os.chdir(tree)
    from qapi.parser import QAPISchemaParser
    from qapi.schema import QAPISchema

    for name, run in [('parse', lambda: QAPISchemaParser(schema)),
                      ('parse+check', lambda: QAPISchema(schema))]:
        run()  # warm up (imports, caches)
        c, w = cpu(), time.perf_counter()
        for _ in range(repeat):
            run()
        print('%-12s cpu %7.1f ms   wall %7.1f ms' % (
            name, (cpu() - c) / repeat * 1000,
            (time.perf_counter() - w) / repeat * 1000))


if __name__ == '__main__':
    main()
