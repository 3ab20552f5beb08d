"""Every record of the API's definition (engine/api/endpoints.json) against the schemas of
Kinetica's own Python client (PyPI gpudb): the same record names, field names, field order and
Avro types, for every endpoint we define. Defaults are ours (the client always sends every
field), so they are not compared.

Usage: test_api_schemas.py (no server needed).
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check  # noqa: E402

DEFINITION = os.path.join(harness.REPO, "engine", "api", "endpoints.json")


def without_defaults(record):
    return {"type": "record", "name": record["name"],
            "fields": [{"name": f["name"], "type": f["type"]} for f in record["fields"]]}


def body():
    import gpudb

    # The client's schema table, as it builds it at connect (no server needed for that).
    db = gpudb.GPUdb.__new__(gpudb.GPUdb)
    db.load_gpudb_schemas()
    with open(DEFINITION) as f:
        ours = json.load(f)
    check(without_defaults(ours["wrapper"]) == json.loads(db.gpudb_schemas["gpudb_response"]["RSP_SCHEMA_STR"]),
          "gpudb_response differs from the client's")
    for e in ours["endpoints"]:
        name = e["endpoint"]
        theirs = db.gpudb_schemas.get(name)
        if not check(theirs is not None, "%s: the client has no such endpoint" % name):
            continue
        for side, key in (("request", "REQ_SCHEMA_STR"), ("response", "RSP_SCHEMA_STR")):
            got = without_defaults(e[side])
            want = json.loads(theirs[key])
            check(got == want, "%s %s differs from the client's:\n ours   %s\n theirs %s" %
                  (name, side, json.dumps(got), json.dumps(want)))
    print("%d endpoints checked against the gpudb client %s" % (len(ours["endpoints"]), gpudb.GPUdb.api_version))


if __name__ == "__main__":
    harness.guarded("schemas", body)
    sys.exit(harness.exit_status("test_api_schemas"))
