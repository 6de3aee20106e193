"""The peer for the model-server benchmark: what many teams run today to serve an ONNX model.

FastAPI + uvicorn (one worker), a KServe v2 / Open Inference Protocol compatible
POST /v2/models/{model}/infer doing JSON -> pydantic -> numpy -> InferenceSession.run -> JSON,
plus /v2/health/live and /v2/health/ready. No batching. The endpoint is a plain `def`, as FastAPI
recommends for blocking work, so Starlette runs it in its thread pool and ONNX Runtime (which
releases the GIL) can overlap requests.

The session gets as many intra-op threads as this process may use (its CPU affinity), the same
rule the model server follows, so both sides use the same cores the same way.

usage: python fastapi_server.py --model-dir DIR --model-name NAME --port PORT [--host 127.0.0.1]
"""

import argparse
import os
from typing import Any, List, Optional, Union

import numpy as np
import onnxruntime as ort
import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

DTYPES = {"FP32": np.float32, "FP64": np.float64, "INT32": np.int32, "INT64": np.int64, "BOOL": np.bool_}
V2_NAMES = {"tensor(float)": "FP32", "tensor(double)": "FP64", "tensor(int32)": "INT32",
            "tensor(int64)": "INT64", "tensor(bool)": "BOOL"}


class RequestInput(BaseModel):
    name: str
    shape: List[int]
    datatype: str
    data: List[Union[float, int, bool]]
    parameters: Optional[dict] = None


class RequestOutput(BaseModel):
    name: str
    parameters: Optional[dict] = None


class InferenceRequest(BaseModel):
    id: Optional[str] = None
    inputs: List[RequestInput]
    outputs: Optional[List[RequestOutput]] = None
    parameters: Optional[dict] = None


def build_app(model_dir: str, model_name: str) -> FastAPI:
    onnx_file = os.path.join(model_dir, "model.onnx")
    options = ort.SessionOptions()
    options.intra_op_num_threads = len(os.sched_getaffinity(0))
    session = ort.InferenceSession(onnx_file, sess_options=options, providers=["CPUExecutionProvider"])
    output_names = [o.name for o in session.get_outputs()]
    app = FastAPI()

    @app.get("/v2/health/live")
    def live() -> dict:
        return {"live": True}

    @app.get("/v2/health/ready")
    def ready() -> dict:
        return {"ready": True}

    @app.post("/v2/models/{name}/infer")
    def infer(name: str, request: InferenceRequest) -> Any:
        if name != model_name:
            raise HTTPException(status_code=404, detail=f"no model {name}")
        feeds = {}
        for tensor in request.inputs:
            dtype = DTYPES.get(tensor.datatype)
            if dtype is None:
                raise HTTPException(status_code=400, detail=f"unsupported datatype {tensor.datatype}")
            feeds[tensor.name] = np.asarray(tensor.data, dtype=dtype).reshape(tensor.shape)
        try:
            results = session.run(output_names, feeds)
        except Exception as e:  # ONNX Runtime reports bad shapes as generic errors
            raise HTTPException(status_code=400, detail=str(e).splitlines()[0])
        outputs = []
        for meta, value in zip(session.get_outputs(), results):
            outputs.append({"name": meta.name, "datatype": V2_NAMES.get(meta.type, meta.type),
                            "shape": list(value.shape), "data": value.ravel().tolist()})
        return {"model_name": model_name, "id": request.id, "outputs": outputs}

    # Warm up once before serving, so readiness means the session has run.
    first = session.get_inputs()[0]
    width = first.shape[1] if isinstance(first.shape[1], int) else 1
    session.run(output_names, {first.name: np.zeros((1, width), dtype=np.float32)})
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--model-name", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    app = build_app(args.model_dir, args.model_name)
    uvicorn.run(app, host=args.host, port=args.port, workers=1, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
