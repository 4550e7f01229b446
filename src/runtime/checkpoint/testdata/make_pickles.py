# Dev-time generator of the small pickle fixtures used by pickle.test.ts (python3 + numpy). Not run by tests.
# Expected values are restated as formulas in pickle.test.ts.
import pickle, struct
from collections import OrderedDict
import numpy as np

def sample():
    return {
        'f32': np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 4 - 1,
        'f64_fortran': np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3) * 1.5),
        'i64': np.array([-(2**40), 3], dtype=np.int64),
        'u8': np.arange(5, dtype=np.uint8),
        'bool': np.array([True, False, True]),
        'be_i16': np.arange(-2, 2, dtype='>i2'),
        'empty': np.zeros((0, 3), dtype=np.float32),
        'scalar': np.float32(2.5),
        'nested': OrderedDict([('a', 1), ('b', [1.5, None, True, False])]),
        'tuple_key': {(1, 2): 'x'},
        'big': 2**70,
        'neg': -5,
        'int32': -100000,
        'text': 'h\u00e9llo \u2603',
        'bytes': b'\x00\x01\xff',
        'set': {7},
        'tuple': (1, 'two', 3.25),
    }

for p in range(6):
    with open(f'sample_p{p}.pkl', 'wb') as f:
        pickle.dump(sample(), f, protocol=p)

# A Python-2 style pickle, as Python 2's cPickle writes numpy arrays at protocol 2: the array bytes are
# a Python-2 str (SHORT_BINSTRING < 256 bytes, BINSTRING otherwise) rebuilt by numpy's _reconstruct.
def py2_pickle(arrays):
    out = bytearray(b'\x80\x02}q\x01')
    memo = [2]
    def put():
        out.extend(b'q' + bytes([memo[0] % 256])); memo[0] += 1
    def s(b):  # Python 2 str
        if len(b) < 256: out.extend(b'U' + bytes([len(b)]) + b)
        else: out.extend(b'T' + struct.pack('<i', len(b)) + b)
    for name, a in arrays.items():
        s(name.encode()); put()
        out.extend(b'cnumpy.core.multiarray\n_reconstruct\n'); put()
        out.extend(b'cnumpy\nndarray\n'); put()
        out.extend(b'K\x00\x85'); put(); s(b'b'); put(); out.extend(b'\x87'); put(); out.extend(b'R'); put()
        out.extend(b'(K\x01(')
        for d in a.shape: out.extend(b'J' + struct.pack('<i', d))
        out.extend(b't'); put()
        out.extend(b'cnumpy\ndtype\n'); put(); s(a.dtype.str[1:].encode()); put()
        out.extend(b'K\x00K\x01\x87'); put(); out.extend(b'R'); put()
        out.extend(b'(K\x03'); s(a.dtype.str[0].encode()); put()
        out.extend(b'NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t'); put(); out.extend(b'b')
        out.extend(b'\x89' if not np.isfortran(a) else b'\x88')
        s(a.tobytes(order='A')); put(); out.extend(b't'); put(); out.extend(b'bs')
    out.extend(b'.')
    return bytes(out)

py2 = {
    'small': np.arange(10, dtype=np.float32) - 4.5,  # SHORT_BINSTRING
    'medium': np.arange(100, dtype=np.float64).reshape(10, 10) / 8,  # BINSTRING of 800 bytes
    'fortran': np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)),
}
data = py2_pickle(py2)
with open('py2_arrays.pkl', 'wb') as f:
    f.write(data)
back = pickle.loads(data, encoding='latin1')
for k, v in py2.items():
    assert back[k].dtype == v.dtype and back[k].shape == v.shape and (back[k] == v).all(), k
