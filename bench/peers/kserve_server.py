"""The second peer for the model-server benchmark: KServe's own Python model server running ONNX Runtime.

A `kserve.Model` whose `predict` takes the v2 `InferRequest`, runs the session on the inputs as numpy arrays
and returns an `InferResponse`, served by `kserve.ModelServer` as shipped (one uvicorn worker, its request
latency logging and Prometheus histograms on, as in a KServe pod); only its gRPC server is off, since the
benchmark speaks HTTP. `predict` is a plain `def`, as KServe's own sklearn and xgboost servers write it, so it
runs on the event loop. The session gets as many intra-op threads as this process may use (its CPU affinity),
the rule the model server and the FastAPI peer follow.

KServe binds its HTTP server to every address (it offers no flag for the host); the benchmark sends its load to
127.0.0.1 only.

usage: python kserve_server.py --model-dir DIR --model-name NAME --port PORT
"""

import argparse
import os
import sys
import uuid

import numpy as np
import onnxruntime as ort

V2_NAMES = {"tensor(float)": "FP32", "tensor(double)": "FP64", "tensor(int32)": "INT32",
            "tensor(int64)": "INT64", "tensor(bool)": "BOOL"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--model-name", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # kserve parses sys.argv for its own flags when it is imported: give it only its own.
    sys.argv = [sys.argv[0], "--http_port", str(args.port), "--enable_grpc", "false"]
    import kserve
    from kserve import InferOutput, InferRequest, InferResponse

    class OnnxModel(kserve.Model):
        def __init__(self, name: str, model_dir: str):
            super().__init__(name)
            self.model_dir = model_dir
            self.session = None

        def load(self) -> bool:
            options = ort.SessionOptions()
            options.intra_op_num_threads = len(os.sched_getaffinity(0))
            self.session = ort.InferenceSession(os.path.join(self.model_dir, "model.onnx"), sess_options=options,
                                                providers=["CPUExecutionProvider"])
            self.outputs = self.session.get_outputs()
            # Warm up once before serving, so readiness means the session has run.
            first = self.session.get_inputs()[0]
            width = first.shape[1] if isinstance(first.shape[1], int) else 1
            self.session.run(None, {first.name: np.zeros((1, width), dtype=np.float32)})
            self.ready = True
            return self.ready

        def predict(self, payload: InferRequest, headers=None, response_headers=None) -> InferResponse:
            feeds = {tensor.name: tensor.as_numpy() for tensor in payload.inputs}
            results = self.session.run(None, feeds)
            outputs = []
            for meta, value in zip(self.outputs, results):
                output = InferOutput(name=meta.name, shape=list(value.shape),
                                     datatype=V2_NAMES.get(meta.type, meta.type))
                output.set_data_from_numpy(value, binary_data=False)
                outputs.append(output)
            return InferResponse(response_id=payload.id or str(uuid.uuid4()), model_name=self.name, infer_outputs=outputs)

    model = OnnxModel(args.model_name, args.model_dir)
    model.load()
    kserve.ModelServer(http_port=args.port, enable_grpc=False).start([model])


if __name__ == "__main__":
    main()
