"""Reference statistics for `data::Standardizer` (nn-runtime/src/data/standardize.rs).

Population mean and standard deviation (numpy's default ddof=0) per feature; a constant
feature has std 0 here, which the Rust code replaces by 1.
Run: python3 nn-runtime/tests/reference/standardize.py
"""
import numpy as np

x = np.array([[1, 10, 3], [2, 20, 3], [4, 60, 3], [9, 30, 3]], dtype=np.float64)
print("mean =", [float(v) for v in x.mean(axis=0)])
print("std  =", [float(v) for v in x.std(axis=0)])
std = np.where(x.std(axis=0) == 0, 1.0, x.std(axis=0))
z = (np.array([7.0, 30.0, 5.0]) - x.mean(axis=0)) / std
print("z([7, 30, 5]) =", [float(v) for v in z])
