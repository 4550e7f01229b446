"""PyTorch peer of `npm run bench -- train` (run with Debian's /usr/bin/python3 and python3-torch).

Builds the SAME layer shapes as the tfjs model described by the JSON spec that bench/train.ts writes
(ResNet-18 with the configured widths and norm, FPN, RPN head, box head FCs, DensePose decoder, conv
tower + ASPP head, STL or deconv predictor), in plain torch.nn, and times training iterations: forward of
a batch of images, RPN / box / DensePose losses on the same numbers of RoIs, backward, SGD step.

It matches compute shape, not detectron2's logic: anchors and RoIs are sampled at random (no anchor
matching, no NMS), RoIAlign is bilinear grid_sample + average pooling, losses are a plain sum.
Usage: train_peer.py SPEC.json [--threads one|all]; prints one JSON line
{"threads": n, "median_s": s, "times_s": [...]}.
"""

import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class FrozenBN(nn.Module):
    """detectron2 FrozenBatchNorm2d: a fixed per-channel affine map."""

    def __init__(self, c):
        super().__init__()
        self.register_buffer("scale", torch.ones(1, c, 1, 1))
        self.register_buffer("bias", torch.zeros(1, c, 1, 1))

    def forward(self, x):
        return x * self.scale + self.bias


def norm_layer(kind, c):
    if kind == "GN":
        return nn.GroupNorm(32, c)
    if kind == "FrozenBN":
        return FrozenBN(c)
    if kind == "BN":
        return nn.BatchNorm2d(c)
    return nn.Identity()


def conv_norm(cin, cout, k, norm, stride=1, padding=None, dilation=1):
    pad = (k // 2) * dilation if padding is None else padding
    has_norm = norm not in ("", None)
    layers = [nn.Conv2d(cin, cout, k, stride=stride, padding=pad, dilation=dilation, bias=not has_norm)]
    if has_norm:
        layers.append(norm_layer(norm, cout))
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, norm):
        super().__init__()
        self.shortcut = conv_norm(cin, cout, 1, norm, stride=stride, padding=0) if (cin != cout or stride != 1) else None
        self.conv1 = conv_norm(cin, cout, 3, norm, stride=stride)
        self.conv2 = conv_norm(cout, cout, 3, norm)

    def forward(self, x):
        y = self.conv2(F.relu(self.conv1(x)))
        return F.relu(y + (self.shortcut(x) if self.shortcut is not None else x))


class ResNet18(nn.Module):
    def __init__(self, stem, res2, norm):
        super().__init__()
        self.stem = conv_norm(3, stem, 7, norm, stride=2, padding=3)
        widths = [res2, res2 * 2, res2 * 4, res2 * 8]
        self.stages = nn.ModuleList()
        cin = stem
        for i, w in enumerate(widths):
            stride = 1 if i == 0 else 2
            self.stages.append(nn.Sequential(BasicBlock(cin, w, stride, norm), BasicBlock(w, w, 1, norm)))
            cin = w
        self.widths = widths

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.stem(x)), 3, 2, 1)
        outs = []
        for s in self.stages:
            x = s(x)
            outs.append(x)
        return outs  # C2..C5


class FPN(nn.Module):
    def __init__(self, in_widths, out, norm):
        super().__init__()
        self.laterals = nn.ModuleList([conv_norm(w, out, 1, norm, padding=0) for w in in_widths])
        self.outputs = nn.ModuleList([conv_norm(out, out, 3, norm) for _ in in_widths])

    def forward(self, cs):
        prev = self.laterals[3](cs[3])
        ps = [None] * 4
        ps[3] = self.outputs[3](prev)
        for i in (2, 1, 0):
            prev = self.laterals[i](cs[i]) + F.interpolate(prev, scale_factor=2.0, mode="nearest")
            ps[i] = self.outputs[i](prev)
        ps.append(F.max_pool2d(ps[3], 1, 2))  # P6
        return ps  # P2..P6


class RPNHead(nn.Module):
    def __init__(self, c, a):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.logits = nn.Conv2d(c, a, 1)
        self.deltas = nn.Conv2d(c, 4 * a, 1)

    def forward(self, ps):
        outs = []
        for p in ps:
            t = F.relu(self.conv(p))
            outs.append((self.logits(t), self.deltas(t)))
        return outs


def roi_align(feature, boxes, scale, out_hw, sr=2):
    """RoIAlign of one image's map `[1,C,H,W]` on `boxes [K,4]` (image pixels): bilinear samples on an
    (oh·sr)×(ow·sr) grid per box, stacked along the height into ONE grid_sample call, then sr×sr means."""
    _, c, h, w = feature.shape
    oh, ow = out_hw
    k = boxes.shape[0]
    gy = (torch.arange(oh * sr, dtype=torch.float32) + 0.5) / (oh * sr)
    gx = (torch.arange(ow * sr, dtype=torch.float32) + 0.5) / (ow * sr)
    b = boxes * scale - 0.5
    ys = b[:, 1:2] + gy[None, :] * (b[:, 3:4] - b[:, 1:2])  # [K, oh·sr]
    xs = b[:, 0:1] + gx[None, :] * (b[:, 2:3] - b[:, 0:1])  # [K, ow·sr]
    ny = (ys + 0.5) / h * 2 - 1
    nx = (xs + 0.5) / w * 2 - 1
    grid = torch.stack(
        [nx[:, None, :].expand(k, oh * sr, ow * sr), ny[:, :, None].expand(k, oh * sr, ow * sr)], dim=-1
    ).reshape(1, k * oh * sr, ow * sr, 2)
    s = F.grid_sample(feature, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    s = s.reshape(c, k, oh * sr, ow * sr).permute(1, 0, 2, 3)
    return F.avg_pool2d(s, sr)


def level_of(boxes):
    area = (boxes[:, 2] - boxes[:, 0]).clamp(min=1) * (boxes[:, 3] - boxes[:, 1]).clamp(min=1)
    return torch.clamp(torch.floor(4 + torch.log2(torch.sqrt(area) / 224 + 1e-8)), 2, 5).long() - 2


def roi_align_multilevel(ps, boxes, out_hw):
    lv = level_of(boxes)
    out = None
    for l in range(4):
        idx = torch.nonzero(lv == l).flatten()
        if idx.numel() == 0:
            continue
        pooled = roi_align(ps[l], boxes[idx], 1.0 / (4 * 2**l), out_hw)
        if out is None:
            out = pooled.new_zeros((boxes.shape[0],) + pooled.shape[1:])
        out = out.index_copy(0, idx, pooled)
    return out


class BoxHead(nn.Module):
    def __init__(self, c, pooler, fc, ncls):
        super().__init__()
        self.fc1 = nn.Linear(c * pooler * pooler, fc)
        self.fc2 = nn.Linear(fc, fc)
        self.cls = nn.Linear(fc, ncls + 1)
        self.bbox = nn.Linear(fc, 4 * ncls)

    def forward(self, x):
        x = F.relu(self.fc2(F.relu(self.fc1(x.flatten(1)))))
        return self.cls(x), self.bbox(x)


class Decoder(nn.Module):
    """P2..P5 → stride 4: per level max(1, log2(stride/4)) × (conv3×3 + ReLU [+ bilinear ×2]), summed, 1×1."""

    def __init__(self, cin, dims, ncls):
        super().__init__()
        self.heads = nn.ModuleList()
        for i in range(4):
            n = max(1, i)
            self.heads.append(nn.ModuleList([nn.Conv2d(cin if j == 0 else dims, dims, 3, padding=1) for j in range(n)]))
        self.predictor = nn.Conv2d(dims, ncls, 1)

    def forward(self, ps):
        x = None
        for i, convs in enumerate(self.heads):
            y = ps[i]
            for conv in convs:
                y = F.relu(conv(y))
                if i > 0:
                    y = F.interpolate(y, scale_factor=2.0, mode="bilinear", align_corners=False)
            x = y if x is None else x + y
        return self.predictor(x)


class ASPP(nn.Module):
    def __init__(self, cin, cout, rates, norm, pooling):
        super().__init__()
        self.branches = nn.ModuleList([conv_norm(cin, cout, 1, norm, padding=0)])
        for r in rates:
            self.branches.append(conv_norm(cin, cout, 3, norm, padding=r, dilation=r))
        self.pool = conv_norm(cin, cout, 1, norm, padding=0) if pooling else None
        n = len(self.branches) + (1 if pooling else 0)
        self.project = nn.Conv2d(n * cout, cout, 1, bias=False)

    def forward(self, x):
        parts = [F.relu(b(x)) for b in self.branches]
        if self.pool is not None:
            p = F.relu(self.pool(F.adaptive_avg_pool2d(x, 1)))
            parts.append(F.interpolate(p, size=x.shape[-2:], mode="bilinear", align_corners=False))
        return F.relu(self.project(torch.cat(parts, 1)))


class DensePoseBranch(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.d = d
        self.decoder = Decoder(d["inChannels"], d["decoderConvDims"], d["decoderNumClasses"]) if d["decoder"] else None
        cin = d["decoderNumClasses"] if d["decoder"] else d["inChannels"]
        dim = d["convHeadDim"]
        self.tower = nn.ModuleList([nn.Conv2d(cin if i == 0 else dim, dim, 3, padding=1) for i in range(d["numStackedConvs"])])
        tower_out = dim if d["numStackedConvs"] > 0 else cin
        if d["head"] == "aspp":
            self.aspp = ASPP(tower_out, dim, d["asppRates"], d["asppNorm"], d["imagePooling"])
        elif d["head"] == "v1convx":
            self.aspp = None
        else:
            raise SystemExit(f"train_peer.py: head {d['head']!r} not modelled (aspp, v1convx)")
        p = d["patches"] + 1
        self.r = d["stlFactor"] if d["upsample"] == "stl" else 2
        outs = [d["coarseChannels"], p, p, p]
        if d["upsample"] == "stl":
            k = d["stlKernel"]
            self.pred = nn.ModuleList([nn.Conv2d(dim, o * self.r * self.r, k, padding=k // 2) for o in outs])
        else:
            self.pred = nn.ModuleList([nn.ConvTranspose2d(dim, o, 4, stride=2, padding=1) for o in outs])

    def maps(self, ps):
        return [self.decoder(ps[:4])] if self.decoder is not None else ps[:4]

    def forward(self, maps, boxes):
        hw = tuple(self.d["pooler"])
        x = roi_align(maps[0], boxes, 0.25, hw) if len(maps) == 1 else roi_align_multilevel(maps, boxes, hw)
        for c in self.tower:
            x = F.relu(c(x))
        if self.aspp is not None:
            x = self.aspp(x)
        outs = []
        for layer in self.pred:
            y = layer(x)
            if self.d["upsample"] == "stl":
                y = F.pixel_shuffle(y, self.r)
            if self.d["upScale"] != 1:
                y = F.interpolate(y, scale_factor=float(self.d["upScale"]), mode="bilinear", align_corners=False)
            outs.append(y)
        return outs  # S, I, U, V: [K,C,Hout,Wout]


class Net(nn.Module):
    def __init__(self, spec):
        super().__init__()
        b = spec["backbone"]
        self.bottom_up = ResNet18(b["stem"], b["res2"], b["norm"])
        self.fpn = FPN(self.bottom_up.widths, spec["fpn"]["out"], spec["fpn"]["norm"])
        self.rpn = RPNHead(spec["fpn"]["out"], spec["rpn"]["anchorsPerLocation"])
        bx = spec["box"]
        self.box = BoxHead(spec["fpn"]["out"], bx["pooler"], bx["fcDim"], bx["numClasses"])
        self.dp = DensePoseBranch(spec["densepose"])
        # detectron2 freeze_at: 1 = stem, 2 = stem + res2 (no gradients, as the tfjs trainable set).
        frozen = [self.bottom_up.stem] + list(self.bottom_up.stages[: max(0, b["freezeAt"] - 1)])
        for m in frozen:
            for p in m.parameters():
                p.requires_grad_(False)


def random_boxes(g, n, h, w, lo, hi):
    cx = torch.rand(n, generator=g) * w
    cy = torch.rand(n, generator=g) * h
    bw = lo + torch.rand(n, generator=g) * (hi - lo)
    bh = bw * (1 + torch.rand(n, generator=g))
    return torch.stack([(cx - bw / 2).clamp(0, w - 1), (cy - bh / 2).clamp(0, h - 1), (cx + bw / 2).clamp(1, w), (cy + bh / 2).clamp(1, h)], 1)


def losses(net, spec, images, g):
    h, w = spec["image"]
    d = spec["densepose"]
    feats = net.fpn(net.bottom_up(images))  # the batch through backbone + FPN at once, as detectron2
    heads = net.rpn(feats)
    dp_maps_all = net.dp.maps(feats)
    total = 0.0
    for i in range(images.shape[0]):
        # RPN: objectness BCE on sampled anchors, smooth-L1 on the positive half.
        logits = torch.cat([l[i].permute(1, 2, 0).reshape(-1) for l, _ in heads])
        deltas = torch.cat([dl[i].permute(1, 2, 0).reshape(-1, 4) for _, dl in heads])
        n = spec["rpn"]["batchPerImage"]
        idx = torch.randint(0, logits.numel(), (n,), generator=g)
        total = total + F.binary_cross_entropy_with_logits(logits[idx], (torch.rand(n, generator=g) > 0.5).float())
        total = total + F.smooth_l1_loss(deltas[idx[: n // 2]], torch.randn(n // 2, 4, generator=g), beta=0.0)
        # Proposal scoring as the trainer reads it back: top-k objectness per level (no NMS here).
        with torch.no_grad():
            for l, _ in heads:
                flat = l[i].reshape(-1)
                flat.topk(min(spec["rpn"]["preNmsTopK"], flat.numel()))
        # Box head on the sampled RoIs.
        bx = spec["box"]
        nbox = bx["roisPerImage"][i]
        rois = random_boxes(g, nbox, h, w, 16, 200)
        cls, reg = net.box(roi_align_multilevel([f[i : i + 1] for f in feats[:4]], rois, (bx["pooler"], bx["pooler"])))
        nfg = max(1, nbox // 4)
        total = total + F.cross_entropy(cls, torch.randint(0, bx["numClasses"] + 1, (cls.shape[0],), generator=g))
        total = total + F.smooth_l1_loss(reg[:nfg], torch.randn(nfg, reg.shape[1], generator=g), beta=0.0)
        # DensePose: S cross-entropy over the output grid, I / U / V at ~100 points per RoI.
        k = d["roisPerImage"][i]
        if k == 0:
            continue
        dboxes = random_boxes(g, k, h, w, 60, 120)
        maps = [m[i : i + 1] for m in dp_maps_all]  # decoder map, or P2..P5 for the legacy head
        s, ii, u, v = net.dp(maps, dboxes)
        ho, wo = s.shape[-2:]
        total = total + F.cross_entropy(s, torch.randint(0, s.shape[1], (k, ho, wo), generator=g))
        pts = 100
        py = torch.randint(0, ho, (k, pts), generator=g)
        px = torch.randint(0, wo, (k, pts), generator=g)
        kk = torch.arange(k)[:, None].expand(k, pts)
        part = torch.randint(1, ii.shape[1], (k, pts), generator=g)
        logits_i = ii.permute(0, 2, 3, 1)[kk, py, px]  # [K, pts, 25]
        total = total + F.cross_entropy(logits_i.reshape(-1, ii.shape[1]), part.reshape(-1))
        for m in (u, v):
            at = m.permute(0, 2, 3, 1)[kk, py, px].gather(-1, part[..., None]).squeeze(-1)
            total = total + 0.01 * F.smooth_l1_loss(at, torch.rand(k, pts, generator=g), beta=0.0)
    return total / images.shape[0]


def main():
    args = sys.argv[1:]
    if not args:
        raise SystemExit(__doc__)
    spec = json.load(open(args[0]))
    threads = "all"
    if "--threads" in args:
        threads = args[args.index("--threads") + 1]
    torch.set_num_threads(1 if threads == "one" else (os.cpu_count() or 1))
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    net = Net(spec)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=1e-4, momentum=0.9, weight_decay=1e-4)
    h, w = spec["image"]
    images = torch.randn(spec["batch"], 3, h, w)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = losses(net, spec, images, g)
        loss.backward()
        opt.step()
        if not math.isfinite(loss.item()):
            raise SystemExit("train_peer.py: loss is not finite")

    for _ in range(spec["warmup"]):
        step()
    times = []
    for _ in range(spec["iters"]):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"threads": torch.get_num_threads(), "median_s": statistics.median(times), "times_s": times}))


if __name__ == "__main__":
    main()
