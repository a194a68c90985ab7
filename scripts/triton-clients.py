# Triton's official Python clients (tritonclient.http and tritonclient.grpc) against a running
# Outlet (`npm start`): health, metadata, model config, repository index, statistics and inference
# over each protocol, binary and JSON tensors over HTTP, and config and index the same over both.
# One line per check, then "N of M checks passed"; exit status 1 if any failed.
#
# Usage, from the repository root (it reads examples/digit-7.json):
#   PYTHONPATH=<dir holding tritonclient> python3 scripts/triton-clients.py \
#       [--http localhost:3000] [--grpc localhost:8001] [--model branchy-mnist]
#
# tritonclient: `pip install tritonclient[all]`, or from source without PyPI: copy
# src/python/library/tritonclient of triton-inference-server/client into <dir>, generate
# grpc_service.proto, model_config.proto and health.proto of triton-inference-server/common
# (protobuf/) with `python3 -m grpc_tools.protoc --python_out --grpc_python_out`, and put them in
# <dir>/tritonclient/grpc/ as the wheel does (client's build_wheel.py): grpc_service_pb2*.py
# renamed service_pb2*.py, model_config_pb2.py, their `import X_pb2` lines made
# `from tritonclient.grpc import X_pb2` (grpc_service_pb2 -> service_pb2). Needs numpy,
# geventhttpclient, python-rapidjson, grpcio, protobuf and packaging.
import argparse
import json
import sys
import time

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

parser = argparse.ArgumentParser()
parser.add_argument("--http", default="localhost:3000")
parser.add_argument("--grpc", default="localhost:8001")
parser.add_argument("--model", default="branchy-mnist")
args = parser.parse_args()
MODEL = args.model

with open("examples/digit-7.json") as f:
    first = json.load(f)["inputs"][0]
PIXELS = np.asarray(first["data"], dtype=np.float32).reshape(first["shape"])

http = httpclient.InferenceServerClient(args.http)
grpc = grpcclient.InferenceServerClient(args.grpc)
results = []


def check(name, fn):
    try:
        ok, detail = fn()
    except Exception as e:  # a client error is a failed check, not a crash
        ok, detail = False, f"{type(e).__name__}: {e}"
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)


def infer(client, module, binary_data=None):
    inp = module.InferInput(first["name"], list(PIXELS.shape), "FP32")
    extra = {} if binary_data is None else {"binary_data": binary_data}
    inp.set_data_from_numpy(PIXELS, **extra)
    out = module.InferRequestedOutput("probabilities", **extra)
    return client.infer(MODEL, [inp], outputs=[out], parameters={"plan": "serial"})


def infer_check(client, module, binary_data=None):
    result = infer(client, module, binary_data)
    probs = result.as_numpy("probabilities")
    response = result.get_response()
    exit_index = response["parameters"]["exit_index"] if module is httpclient else \
        response.parameters["exit_index"].int64_param
    return int(probs.argmax()) == 7, f"argmax {int(probs.argmax())} of {probs.shape}, exit_index {exit_index}"


def inference_count(client):
    stats = client.get_inference_statistics(MODEL, **({} if client is http else {"as_json": True}))
    return int(stats["model_stats"][0]["inference_count"])  # gRPC's JSON gives int64 as a string


def stats_check(client, module):
    before = inference_count(client)
    infer(client, module)
    after = before
    for _ in range(20):  # counted in Redis: allow it a moment
        after = inference_count(client)
        if after > before:
            break
        time.sleep(0.1)
    return after > before, f"inference_count {before} -> {after}"


def config(client):
    c = client.get_model_config(MODEL) if client is http else client.get_model_config(MODEL, as_json=True)["config"]
    tensors = lambda ts: [(t["name"], t["data_type"], [int(d) for d in t["dims"]]) for t in ts]
    return {"name": c["name"], "max_batch_size": int(c.get("max_batch_size", 0)),
            "input": tensors(c["input"]), "output": tensors(c["output"])}


def index(client):
    models = client.get_model_repository_index() if client is http else \
        client.get_model_repository_index(as_json=True).get("models", [])
    return sorted((m["name"], m.get("state", "")) for m in models)


def model_metadata(client):
    m = client.get_model_metadata(MODEL) if client is http else client.get_model_metadata(MODEL, as_json=True)
    inputs, outputs = [t["name"] for t in m["inputs"]], [t["name"] for t in m["outputs"]]
    return first["name"] in inputs and "probabilities" in outputs, f"inputs {inputs}, outputs {outputs}"


def server_metadata(client):
    m = client.get_server_metadata() if client is http else client.get_server_metadata(as_json=True)
    return bool(m.get("name")) and bool(m.get("version")), \
        f"{m.get('name')} {m.get('version')}, {len(m.get('extensions', []))} extensions"


def config_check(client):
    c = config(client)
    name, _, dims = c["input"][0]
    return name == first["name"] and dims == list(PIXELS.shape[1:]), \
        f"input {c['input']}, output {c['output']}, max_batch_size {c['max_batch_size']}"


def index_check(client):
    i = index(client)
    return any(name == MODEL for name, _ in i), f"{i}"


def same(h, g):
    return h == g, f"{h}" if h == g else f"http {h} != grpc {g}"


for label, client, module in (("http", http, httpclient), ("grpc", grpc, grpcclient)):
    check(f"{label} server live", lambda: (client.is_server_live(), "is_server_live"))
    check(f"{label} server ready", lambda: (client.is_server_ready(), "is_server_ready"))
    check(f"{label} model ready", lambda: (client.is_model_ready(MODEL), f"is_model_ready({MODEL})"))
    check(f"{label} server metadata", lambda: server_metadata(client))
    check(f"{label} model metadata", lambda: model_metadata(client))
    check(f"{label} model config", lambda: config_check(client))
    check(f"{label} repository index", lambda: index_check(client))
    check(f"{label} inference statistics", lambda: stats_check(client, module))
    if module is httpclient:
        check("http infer binary_data=True", lambda: infer_check(client, module, True))
        check("http infer binary_data=False", lambda: infer_check(client, module, False))
    else:
        check("grpc infer", lambda: infer_check(client, module))
check("model config same over http and grpc", lambda: same(config(http), config(grpc)))
check("repository index same over http and grpc", lambda: same(index(http), index(grpc)))

http.close()
grpc.close()
print(f"{sum(results)} of {len(results)} checks passed")
sys.exit(0 if all(results) else 1)
