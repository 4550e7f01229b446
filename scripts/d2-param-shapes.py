"""Parameter names and shapes of every detectron2 DensePose IUV zoo model, as detectron2 itself builds them.

Writes test/zoo/fixtures/d2-param-shapes.json.gz (gzip JSON): {config name: [[name, [shape...]], ...]} (state_dict order,
bookkeeping entries included, as in a model-zoo checkpoint). The strict-load test builds each of our
configs/densepose_rcnn_<NAME>.json and checks it against these lists (no weights needed).

  . ../shared/tools/detectron2-reference/env.sh && bash ../shared/tools/detectron2-reference/setup.sh
  $D2PY scripts/d2-param-shapes.py
"""
import gzip
import json
import os
import sys

import torch

sys.path.insert(0, os.environ.get("D2TOOLS", "../shared/tools/detectron2-reference"))
from gen_d2 import build_cfg  # noqa: E402  (the reference tool's config loader)

from detectron2.modeling import build_model  # noqa: E402

d2root = os.path.join(os.environ.get("D2FULL", "/tmp/d2full"), "detectron2")
index = json.load(open("models/zoo.json"))
out = {}
torch.set_num_threads(1)
for m in index["models"]:
    name = m["detectron2Config"]
    model = build_model(build_cfg(d2root, name))
    out[name] = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    print(name, len(out[name]), flush=True)
    del model
with gzip.open("test/zoo/fixtures/d2-param-shapes.json.gz", "wt") as f:
    json.dump(out, f, separators=(",", ":"))
