"""Export scikit-learn's bundled 8x8 digits as NumPy files for the .NET side (Frechet distances, label checks).

    /usr/bin/python3 tools/models/export_data.py

Writes models/digits-data.npy (float32 [1797, 64], pixel v in 0..16 as v/16*2-1 in [-1, 1], row-major
8x8 images in the order of sklearn.datasets.load_digits) and models/digits-labels.npy (int64 [1797]),
both in the plain .npy format version 1.0 (little-endian, C order).

The data is the UCI Optical Recognition of Handwritten Digits test set as bundled by scikit-learn
(E. Alpaydin, C. Kaynak, 1998), licensed CC BY 4.0.
"""

import os
import sys

import numpy as np

import common


def save_v1(path, a):
    with open(path, "wb") as f:
        np.lib.format.write_array(f, np.ascontiguousarray(a), version=(1, 0), allow_pickle=False)


def main():
    x, y = common.load_digits_pixels()
    assert x.shape == (1797, 64) and y.shape == (1797,)
    os.makedirs(common.MODELS, exist_ok=True)
    save_v1(os.path.join(common.MODELS, "digits-data.npy"), x.astype("<f4"))
    save_v1(os.path.join(common.MODELS, "digits-labels.npy"), y.astype("<i8"))
    back = np.load(os.path.join(common.MODELS, "digits-data.npy"))
    assert back.dtype == np.float32 and np.array_equal(back, x)
    print("wrote models/digits-data.npy", x.shape, x.dtype, "and models/digits-labels.npy", y.shape, y.dtype)


if __name__ == "__main__":
    sys.exit(main())
