"""Drives a model server with the Open Inference Protocol clients people use as they are: tritonclient's HTTP
client and KServe's REST client, in JSON and in binary tensor data mode, and checks every answer against the
outputs ONNX Runtime gave for the same inputs (computed by the Java test and handed over in a JSON file).

usage: oip_clients.py HOST:PORT CASE_FILE
CASE_FILE: {"model": ..., "version": ..., "input": ..., "output": ..., "rows": [[...]], "expected": [[...]]}
Prints one "ok <check>" line per check that passed; exits 1 at the first that fails.
"""
import asyncio
import json
import sys

import numpy as np


def check(name, condition, detail=""):
    if not condition:
        print(f"FAIL {name}: {detail}", flush=True)
        sys.exit(1)
    print(f"ok {name}", flush=True)


def same(actual, expected):
    return actual.shape == expected.shape and np.allclose(actual, expected, rtol=1e-6, atol=1e-7)


def triton(address, case, rows, expected):
    import tritonclient.http as httpclient
    from tritonclient.utils import InferenceServerException

    client = httpclient.InferenceServerClient(url=address)
    check("triton server live", client.is_server_live())
    check("triton server ready", client.is_server_ready())
    check("triton model ready", client.is_model_ready(case["model"]))
    check("triton model ready (version)", client.is_model_ready(case["model"], case["version"]))
    server = client.get_server_metadata()
    check("triton server metadata lists binary_tensor_data", "binary_tensor_data" in server.get("extensions", []),
          server)
    metadata = client.get_model_metadata(case["model"])
    check("triton model metadata", metadata["name"] == case["model"]
          and metadata["inputs"][0]["name"] == case["input"]
          and metadata["versions"] == [case["version"]], metadata)

    for binary_in in (True, False):
        for binary_out in (True, False):
            tensor = httpclient.InferInput(case["input"], list(rows.shape), "FP32")
            tensor.set_data_from_numpy(rows, binary_data=binary_in)
            wanted = httpclient.InferRequestedOutput(case["output"], binary_data=binary_out)
            result = client.infer(case["model"], [tensor], outputs=[wanted], request_id="triton-17")
            label = f"triton infer (binary inputs {binary_in}, binary outputs {binary_out})"
            check(label, same(result.as_numpy(case["output"]), expected), result.get_response())
            check(label + " echoes the id", result.get_response().get("id") == "triton-17")

    # No outputs named: tritonclient then asks for every output in binary.
    tensor = httpclient.InferInput(case["input"], list(rows.shape), "FP32")
    tensor.set_data_from_numpy(rows)
    result = client.infer(case["model"], [tensor], model_version=case["version"])
    check("triton infer by version with the client's defaults", same(result.as_numpy(case["output"]), expected))

    bad = httpclient.InferInput(case["input"], [rows.shape[0], rows.shape[1] - 1], "FP32")
    bad.set_data_from_numpy(np.ascontiguousarray(rows[:, :-1]))
    try:
        client.infer(case["model"], [bad])
        check("triton wrong shape is refused", False, "no error")
    except InferenceServerException as e:
        check("triton wrong shape is refused with the server's message", "expected FP32" in e.message(), e.message())


def kserve(address, case, rows, expected):
    from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig
    from kserve.protocol.infer_type import RequestedOutput

    async def run():
        client = InferenceRESTClient(RESTConfig(protocol="v2", retries=0, timeout=30))
        base = f"http://{address}"
        try:
            check("kserve server live", await client.is_server_live(base))
            check("kserve server ready", await client.is_server_ready(base))
            check("kserve model ready", await client.is_model_ready(base, case["model"]))
            for binary_in in (True, False):
                for binary_out in (True, False):
                    tensor = InferInput(case["input"], list(rows.shape), "FP32")
                    tensor.set_data_from_numpy(rows, binary_data=binary_in)
                    request = InferRequest(case["model"], [tensor], request_id="kserve-9",
                                           request_outputs=[RequestedOutput(case["output"],
                                                                            {"binary_data": binary_out})])
                    response = await client.infer(base, request, model_name=case["model"])
                    label = f"kserve infer (binary inputs {binary_in}, binary outputs {binary_out})"
                    outputs = {o.name: o for o in response.outputs}
                    check(label, same(outputs[case["output"]].as_numpy(), expected), response)
                    check(label + " echoes the id", response.id == "kserve-9")
        finally:
            await client.close()

    asyncio.run(run())


def main():
    address, case_file = sys.argv[1], sys.argv[2]
    with open(case_file) as f:
        case = json.load(f)
    rows = np.array(case["rows"], dtype=np.float32)
    expected = np.array(case["expected"], dtype=np.float32)
    triton(address, case, rows, expected)
    kserve(address, case, rows, expected)
    print("all checks passed", flush=True)


if __name__ == "__main__":
    main()
