# Dev-time generator of the small .npy fixtures used by npy.test.ts (numpy 2.x). Not run by tests.
import numpy as np
a = np.arange(24, dtype=np.float32).reshape(2, 3, 4) * 0.5 - 3
np.save('c_f32.npy', a)
np.save('fortran_f32.npy', np.asfortranarray(a))
np.save('be_i32.npy', np.arange(-6, 6, dtype='>i4').reshape(3, 4))
np.save('i64.npy', np.array([-(2**40), -1, 0, 7, 2**52], dtype=np.int64))
np.save('bool.npy', np.array([[True, False], [False, True]]))
np.save('scalar_f64.npy', np.float64(3.25))
np.save('u16_v2.npy', np.arange(5, dtype=np.uint16))
np.save('c16.npy', np.zeros(2, dtype=np.complex64))
# force a version-2 header by rewriting version byte and header length field
raw = open('u16_v2.npy', 'rb').read()
hl = int.from_bytes(raw[8:10], 'little')
open('u16_v2.npy', 'wb').write(raw[:6] + bytes([2, 0]) + (hl - 2).to_bytes(4, 'little') + raw[10:10 + hl - 2] + raw[10 + hl:])
