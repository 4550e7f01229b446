#!/usr/bin/env python3
"""detectron2 side of `npm run bench -- train --vs detectron2`: detectron2's own training step (model(inputs)
→ loss dict, sum, backward, SGD step, as SimpleTrainer.run_step does) on the batch bench/train-d2.ts wrote, from
the same checkpoint our side loads.

The batch file (JSON) lists per image: `rgb` (path of raw uint8 H×W×3 RGB bytes), height, width, and people with
`box` (xyxy, image pixels) and DensePose points in the box's 256×256 frame (`x, y, i, u, v`) plus `masks`
(path of raw uint8 256×256 coarse parts 0..14), i.e. what detectron2's DatasetMapper would hand the model.
Needs ../shared/tools/detectron2-reference/env.sh sourced (PYTHONPATH, D2FULL, D2TOOLS). Prints one JSON line.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="densepose_rcnn_R_50_FPN_s1x")
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", required=True)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lr", type=float, default=0.0025)
    args = ap.parse_args()
    sys.path.insert(0, os.environ["D2TOOLS"])
    import torch

    torch.set_num_threads(args.threads)
    import gen_d2
    from densepose.structures import DensePoseDataRelative, DensePoseList
    from detectron2.checkpoint import DetectionCheckpointer
    from detectron2.modeling import build_model
    from detectron2.structures import Boxes, Instances
    from detectron2.utils.events import EventStorage

    cfg = gen_d2.build_cfg(os.path.join(os.environ.get("D2FULL", "/tmp/d2full"), "detectron2"), args.config)
    model = build_model(cfg)
    DetectionCheckpointer(model).load(args.model)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=args.lr, momentum=0.9, weight_decay=1e-4)

    spec = json.load(open(args.batch))
    inputs = []
    for im in spec["images"]:
        h, w = im["height"], im["width"]
        rgb = np.fromfile(im["rgb"], dtype=np.uint8).reshape(h, w, 3)
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        inst = Instances((h, w))
        boxes = torch.tensor([p["box"] for p in im["people"]], dtype=torch.float32).reshape(-1, 4)
        inst.gt_boxes = Boxes(boxes)
        inst.gt_classes = torch.zeros(len(im["people"]), dtype=torch.int64)
        datas = []
        for p in im["people"]:
            if "x" not in p:
                datas.append(None)
                continue
            segm = torch.from_numpy(np.fromfile(p["masks"], dtype=np.uint8).reshape(256, 256).astype(np.float32))
            ann = {"dp_x": p["x"], "dp_y": p["y"], "dp_I": p["i"], "dp_U": p["u"], "dp_V": p["v"], "dp_masks": segm}
            datas.append(DensePoseDataRelative(ann))
        inst.gt_densepose = DensePoseList(datas, boxes, (h, w))
        inputs.append({"image": torch.as_tensor(bgr.transpose(2, 0, 1).copy()), "height": h, "width": w, "instances": inst})

    times = []
    losses = None
    storage = EventStorage(0)  # the losses log to it, as inside detectron2's trainer
    storage.__enter__()
    for k in range(args.warmup + args.iters):
        t = time.perf_counter()
        loss_dict = model(inputs)
        total = sum(loss_dict.values())
        opt.zero_grad()
        total.backward()
        opt.step()
        times.append(time.perf_counter() - t)
        storage.iter += 1
        if k == 0:
            losses = {k2: float(v) for k2, v in loss_dict.items()}
    runs = times[args.warmup:]
    rss_mb = 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                rss_mb = int(line.split()[1]) / 1024
    print(json.dumps({"backend": f"detectron2 on pytorch {torch.__version__} cpu", "threads": torch.get_num_threads(), "warmup_s": times[: args.warmup],
                      "times_s": runs, "median_s": statistics.median(runs), "first_losses": losses, "peak_rss_mb": rss_mb, "loadavg": os.getloadavg()}))


if __name__ == "__main__":
    main()
