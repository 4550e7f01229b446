"""A small PyTorch checkpoint in detectron2's .pth form, made from the tiny detectron2 fixture .pkl.

  /usr/bin/python3 test/model/testdata/make_tiny_pth.py ../shared/fixtures/detectron2/densepose_rcnn_R_18_tiny_random.pkl

Writes densepose_tiny_subset.pth (torch.save zip format): {"model": OrderedDict of the fixture's stem,
rpn head and DensePose predictor tensors (as torch tensors, nn.Parameter for the weights, like
model.state_dict() holds them), "optimizer": {"state": {0: {"momentum_buffer": ...}}}, "iteration": 7,
"extra": {"transposed": a non-contiguous view}}: under 1 MB, so it can live in the repository. The test
compares every tensor with the .pkl, bit for bit.
"""
import collections
import os
import pickle
import sys

import numpy as np
import torch

src = sys.argv[1]
with open(src, "rb") as f:
    ckpt = pickle.load(f, encoding="latin1")
prefixes = ("backbone.bottom_up.stem.", "proposal_generator.", "roi_heads.densepose_predictor.")
model = collections.OrderedDict()
for k, v in ckpt["model"].items():
    if k.startswith(prefixes):
        t = torch.from_numpy(np.ascontiguousarray(v))
        model[k] = torch.nn.Parameter(t, requires_grad=False) if k.endswith(".weight") else t
first = next(iter(model.values()))
out = {
    "model": model,
    "optimizer": {"state": {0: {"momentum_buffer": torch.ones(3, 2)}}, "param_groups": [{"lr": 0.01}]},
    "iteration": 7,
    "extra": {"transposed": torch.arange(12, dtype=torch.float32).reshape(3, 4).t(), "long": torch.tensor([1, -2, 3], dtype=torch.int64)},
}
here = os.path.dirname(os.path.abspath(__file__))
torch.save(out, os.path.join(here, "densepose_tiny_subset.pth"))
print(len(model), "tensors", os.path.getsize(os.path.join(here, "densepose_tiny_subset.pth")), "bytes")
