"""detectron2's chart confidence predictor and its post-processing on a tiny input (WC2M: sigma_2, kappa_u,
kappa_v, fine and coarse segmentation confidences), as golden outputs for our confidence heads.

  . ../shared/tools/detectron2-reference/env.sh && $D2PY test/model/testdata/make_confidence_fixture.py

Builds detectron2's DensePoseChartWithConfidencePredictor (input 8 channels; UV_CONFIDENCE indep_aniso,
SEGM_CONFIDENCE on), seed 3, biases drawn N(0, 0.5^2) so that outputs are not trivial; runs it on a random
head output [2, 8, 4, 4]; converts each of 2 boxes with densepose_chart_predictor_output_to_result_with_confidences.
Writes confidence_fixture/: predictor.pkl ({"model": {name: ndarray}}), head.npy, <output>.npy (NCHW, after the
predictor: fine/coarse already scaled by their confidences), boxes.npy [2,4] xyxy, box<i>_labels.npy,
box<i>_uv.npy, box<i>_<confidence>.npy ([h, w]).
"""
import os
import pickle

import numpy as np
import torch
from detectron2.config import get_cfg
from detectron2.structures import Boxes
from densepose import add_densepose_config
from densepose.converters.chart_output_to_chart_result import densepose_chart_predictor_output_to_result_with_confidences
from densepose.modeling.predictors import DensePoseChartWithConfidencePredictor

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "confidence_fixture")
os.makedirs(out, exist_ok=True)
cfg = get_cfg()
add_densepose_config(cfg)
cfg.MODEL.ROI_DENSEPOSE_HEAD.UV_CONFIDENCE.ENABLED = True
cfg.MODEL.ROI_DENSEPOSE_HEAD.UV_CONFIDENCE.TYPE = "indep_aniso"
cfg.MODEL.ROI_DENSEPOSE_HEAD.SEGM_CONFIDENCE.ENABLED = True
torch.manual_seed(3)
pred = DensePoseChartWithConfidencePredictor(cfg, 8).eval()
with torch.no_grad():
    for name, p in pred.named_parameters():
        if name.endswith(".bias"):
            p.copy_(torch.randn_like(p) * 0.5)
    head = torch.randn(2, 8, 4, 4)
    o = pred(head)
sd = {f"roi_heads.densepose_predictor.{k}": v.numpy() for k, v in pred.state_dict().items()}
with open(os.path.join(out, "predictor.pkl"), "wb") as f:
    pickle.dump({"model": sd}, f, protocol=4)
np.save(os.path.join(out, "head.npy"), head.numpy())
names = ["coarse_segm", "fine_segm", "u", "v", "sigma_2", "kappa_u", "kappa_v", "fine_segm_confidence", "coarse_segm_confidence"]
for n in names:
    np.save(os.path.join(out, f"{n}.npy"), getattr(o, n).numpy())
boxes = torch.tensor([[3.3, 5.7, 30.1, 44.9], [0.0, 0.0, 21.5, 13.2]])
np.save(os.path.join(out, "boxes.npy"), boxes.numpy())
for i in range(2):
    r = densepose_chart_predictor_output_to_result_with_confidences(o[i : i + 1], Boxes(boxes[i : i + 1]))
    np.save(os.path.join(out, f"box{i}_labels.npy"), r.labels.numpy().astype(np.uint8))
    np.save(os.path.join(out, f"box{i}_uv.npy"), r.uv.numpy())
    for n in ["sigma_1", "sigma_2", "kappa_u", "kappa_v", "fine_segm_confidence", "coarse_segm_confidence"]:
        v = getattr(r, n)
        if v is not None:
            np.save(os.path.join(out, f"box{i}_{n}.npy"), v.numpy())
    print(i, r.labels.shape, int((r.labels > 0).sum()), "foreground pixels")
