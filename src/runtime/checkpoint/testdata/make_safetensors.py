# Dev-time generator of the safetensors fixture used by safetensors.test.ts, written by the reference
# `safetensors` Python package (numpy API). Not run by tests. PYTHONPATH must hold safetensors.
import numpy as np
from safetensors.numpy import save_file
import safetensors
save_file({
    'conv.weight': (np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2) / 8 - 1),
    'ids': np.array([-(2**40), 5], dtype=np.int64),
    'mask': np.array([True, False, True]),
    'half': np.array([1.5, -2.0, 65504.0, 0.0], dtype=np.float16),
    'u8': np.arange(3, dtype=np.uint8),
    'scalar': np.array(7.0, dtype=np.float64),
}, 'reference.safetensors', metadata={'format': 'np', 'by': f'safetensors {safetensors.__version__}'})
