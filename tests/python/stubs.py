"""gRPC stubs for the Python tests, generated from proto/gpudb.proto at run time.

Needs grpcio-tools. `generate_stubs(out_dir)` writes gpudb_pb2.py and
gpudb_pb2_grpc.py into out_dir, puts out_dir on sys.path and returns the two
imported modules.
"""

import importlib.resources
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROTO_DIR = os.path.join(REPO, "proto")


def generate_stubs(out_dir):
    from grpc_tools import protoc  # here, so that a missing package gives a clear message

    well_known = str(importlib.resources.files("grpc_tools") / "_proto")
    rc = protoc.main(["grpc_tools.protoc", "-I" + PROTO_DIR, "-I" + well_known, "--python_out=" + out_dir,
                      "--grpc_python_out=" + out_dir, os.path.join(PROTO_DIR, "gpudb.proto")])
    if rc != 0:
        raise RuntimeError("grpc_tools.protoc failed with status %d" % rc)
    sys.path.insert(0, out_dir)
    import gpudb_pb2
    import gpudb_pb2_grpc
    return gpudb_pb2, gpudb_pb2_grpc
