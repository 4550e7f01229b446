"""Golden outputs of Pillow's BILINEAR resize on uint8 RGB (what detectron2's DefaultPredictor does).

Run with Debian's python3-pil: /usr/bin/python3 test/infer/testdata/make_pil_resize.py
Writes pil_input.npy ([37, 53, 3] uint8, seeded noise plus gradients) and pil_<h>x<w>.npy for each size.
"""
import os

import numpy as np
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)
h, w = 37, 53
yy, xx = np.mgrid[0:h, 0:w]
img = np.stack([xx * 255 // (w - 1), yy * 255 // (h - 1), (xx + yy) % 256], -1).astype(np.int32)
img = np.clip(img + rng.integers(-40, 41, size=img.shape), 0, 255).astype(np.uint8)
np.save(os.path.join(here, "pil_input.npy"), img)
# downscale both ways, upscale both ways, one axis only, mixed
for oh, ow in [(23, 31), (80, 113), (37, 20), (12, 53), (50, 29), (1, 1)]:
    out = np.asarray(Image.fromarray(img).resize((ow, oh), Image.BILINEAR))
    np.save(os.path.join(here, f"pil_{oh}x{ow}.npy"), out)
print(Image.__version__ if hasattr(Image, "__version__") else "")
