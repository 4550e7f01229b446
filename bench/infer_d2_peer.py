#!/usr/bin/env python3
"""detectron2 side of `npm run bench -- infer --vs detectron2`: time_d2.py's measurement (DefaultPredictor on a
uint8 BGR image + ToChartResultConverter on every detection) for several people counts in one process.

People counts are set by TEST.DETECTIONS_PER_IMAGE (score threshold 0.05 as the zoo config), the same cap
densepose-ts applies with `maxPeople`, so both sides run the RPN and box head on the same 1000 proposals and
the DensePose head on the same number of boxes. Load = DefaultPredictor(cfg) (build + checkpoint load).
Needs ../shared/tools/detectron2-reference/env.sh sourced (PYTHONPATH, D2FULL, D2TOOLS). Prints one JSON line.
"""
import argparse
import json
import os
import statistics
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="densepose_rcnn_R_50_FPN_s1x")
    ap.add_argument("--image", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--people", default="2,100", help="comma-separated DETECTIONS_PER_IMAGE values")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    sys.path.insert(0, os.environ["D2TOOLS"])
    import torch

    torch.set_num_threads(args.threads)
    import gen_d2
    from detectron2.engine import DefaultPredictor

    base = gen_d2.build_cfg(os.path.join(os.environ.get("D2FULL", "/tmp/d2full"), "detectron2"), args.config, 0.05)
    bgr = gen_d2.read_bgr(args.image)
    rows = []
    for people in [int(p) for p in args.people.split(",")]:
        cfg = base.clone()
        cfg.defrost()
        cfg.MODEL.WEIGHTS = args.model
        cfg.TEST.DETECTIONS_PER_IMAGE = people
        cfg.freeze()
        t0 = time.perf_counter()
        predictor = DefaultPredictor(cfg)
        load_s = time.perf_counter() - t0
        times = []
        found = 0
        for _ in range(args.runs + 1):
            t = time.perf_counter()
            with torch.no_grad():
                inst = predictor(bgr)["instances"]
                gen_d2.chart_results(inst)
            times.append(time.perf_counter() - t)
            found = len(inst)
        rows.append({"people": people, "found": found, "load_s": load_s, "warmup_s": times[0], "runs_s": times[1:], "median_s": statistics.median(times[1:])})
        del predictor
    print(json.dumps({"backend": f"pytorch {torch.__version__} cpu", "threads": torch.get_num_threads(), "rows": rows, "loadavg": os.getloadavg()}))


if __name__ == "__main__":
    main()
