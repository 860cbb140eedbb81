//! The baseline we promise to beat: dense layers written by hand as a competent engineer
//! would, over fixed-size arrays (`w[i][o]`: one contiguous column per input, so the
//! forward pass and the weight gradient are contiguous `axpy` loops; the input gradient
//! is dot products with eight partial sums, which the compiler vectorises).
#![allow(dead_code)]

/// The loops over one float type: instantiated below for `f32` (at the top of this module,
/// the baseline of the f32 benchmarks) and for `f64` (in [`f64s`]). The text is the same, so
/// the f32 loops are the ones the f32 benchmarks always measured.
macro_rules! loops {
    ($t:ty) => {
        /// `y[j] = b + Σ_i w[i] · x[j][i]` for every sample `j`.
        #[inline]
        pub fn forward<const O: usize, const I: usize, const B: usize>(
            w: &[[$t; O]; I],
            b: &[$t; O],
            x: &[[$t; I]; B],
            y: &mut [[$t; O]; B],
        ) {
            for (yj, xj) in y.iter_mut().zip(x) {
                *yj = *b;
                for (wi, &xv) in w.iter().zip(xj) {
                    for (yv, &wv) in yj.iter_mut().zip(wi) {
                        *yv += wv * xv;
                    }
                }
            }
        }

        /// A dot product with eight independent partial sums.
        #[inline]
        pub fn dot(a: &[$t], b: &[$t]) -> $t {
            let mut acc: [$t; 8] = [0.0; 8];
            let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
            let (ar, br) = (ac.remainder(), bc.remainder());
            for (x, y) in ac.zip(bc) {
                for k in 0..8 {
                    acc[k] += x[k] * y[k];
                }
            }
            let mut s: $t = acc.iter().sum();
            for (x, y) in ar.iter().zip(br) {
                s += x * y;
            }
            s
        }

        /// `dx[j][i] = w[i] · dy[j]`.
        #[inline]
        pub fn input_grad<const O: usize, const I: usize, const B: usize>(
            w: &[[$t; O]; I],
            dy: &[[$t; O]; B],
            dx: &mut [[$t; I]; B],
        ) {
            for (dxj, dyj) in dx.iter_mut().zip(dy) {
                for (d, wi) in dxj.iter_mut().zip(w) {
                    *d = dot(wi, dyj);
                }
            }
        }

        /// `dw[i] += Σ_j dy[j] · x[j][i]` and `db += Σ_j dy[j]`.
        #[inline]
        pub fn param_grad<const O: usize, const I: usize, const B: usize>(
            dy: &[[$t; O]; B],
            x: &[[$t; I]; B],
            dw: &mut [[$t; O]; I],
            db: &mut [$t; O],
        ) {
            for (dyj, xj) in dy.iter().zip(x) {
                for (dwi, &xv) in dw.iter_mut().zip(xj) {
                    for (d, &g) in dwi.iter_mut().zip(dyj) {
                        *d += g * xv;
                    }
                }
                for (d, &g) in db.iter_mut().zip(dyj) {
                    *d += g;
                }
            }
        }

        /// ReLU in place.
        #[inline]
        pub fn relu<const N: usize, const B: usize>(y: &mut [[$t; N]; B]) {
            for v in y.iter_mut().flatten() {
                *v = v.max(0.0);
            }
        }

        /// ReLU backward in place on `d`, given the layer's output.
        #[inline]
        pub fn relu_back<const N: usize, const B: usize>(out: &[[$t; N]; B], d: &mut [[$t; N]; B]) {
            for (g, &y) in d.iter_mut().flatten().zip(out.iter().flatten()) {
                if y <= 0.0 {
                    *g = 0.0;
                }
            }
        }

        /// The logistic sigmoid in place (standard library `exp`).
        #[inline]
        pub fn sigmoid<const N: usize, const B: usize>(y: &mut [[$t; N]; B]) {
            for v in y.iter_mut().flatten() {
                *v = 1.0 / (1.0 + (-*v).exp());
            }
        }

        /// Sigmoid backward in place on `d`, given the layer's output.
        #[inline]
        pub fn sigmoid_back<const N: usize, const B: usize>(
            out: &[[$t; N]; B],
            d: &mut [[$t; N]; B],
        ) {
            for (g, &y) in d.iter_mut().flatten().zip(out.iter().flatten()) {
                *g *= y * (1.0 - y);
            }
        }

        /// `tanh` in place (standard library).
        #[inline]
        pub fn tanh<const N: usize, const B: usize>(y: &mut [[$t; N]; B]) {
            for v in y.iter_mut().flatten() {
                *v = v.tanh();
            }
        }

        /// Softmax of every sample in place.
        #[inline]
        pub fn softmax<const N: usize, const B: usize>(y: &mut [[$t; N]; B]) {
            for col in y.iter_mut() {
                let m = col.iter().fold(<$t>::NEG_INFINITY, |a, &b| a.max(b));
                let mut s = 0.0;
                for v in col.iter_mut() {
                    *v = (*v - m).exp();
                    s += *v;
                }
                let inv = 1.0 / s;
                for v in col.iter_mut() {
                    *v *= inv;
                }
            }
        }

        /// `w -= lr · g` for any parameter array.
        #[inline]
        pub fn sgd<const N: usize, const M: usize>(w: &mut [[$t; N]; M], g: &[[$t; N]; M], lr: $t) {
            for (a, &b) in w.iter_mut().flatten().zip(g.iter().flatten()) {
                *a -= lr * b;
            }
        }

        /// Fills a float array with deterministic values in [-scale, scale).
        pub fn fill(v: &mut [$t], seed: u64, scale: $t) {
            let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            for x in v {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                *x = ((s >> 40) as $t / (1u64 << 24) as $t * 2.0 - 1.0) * scale;
            }
        }

        /// The flat view of a 2-D float array.
        pub fn flat<const N: usize, const M: usize>(a: &[[$t; N]; M]) -> &[$t] {
            a.as_flattened()
        }

        /// The flat mutable view of a 2-D float array.
        pub fn flat_mut<const N: usize, const M: usize>(a: &mut [[$t; N]; M]) -> &mut [$t] {
            a.as_flattened_mut()
        }
    };
}

loops!(f32);

/// The same loops over `f64`.
pub mod f64s {
    loops!(f64);
}

/// A heap value that starts on a cache line, as a generated network's weights do. Every
/// implementation gets its operands this way, so none is favoured or penalised by where
/// the allocator happens to put them (a 16-byte offset measured up to 35% slower).
#[repr(C, align(64))]
pub struct Aligned<T>(pub T);

impl<T> core::ops::Deref for Aligned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> core::ops::DerefMut for Aligned<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// A zeroed `T` on a cache line, on the heap.
pub fn aligned_zeroed<T: Copy>() -> Box<Aligned<T>> {
    let b: Box<core::mem::MaybeUninit<Aligned<T>>> = Box::new_zeroed();
    // SAFETY: only used with matrices and arrays of f32 or f64, valid when all bits are 0.
    unsafe { b.assume_init() }
}

/// A heap-allocated zeroed value (arrays too large for the stack).
pub fn boxed_zeroed<T: Copy>() -> Box<T> {
    // Only used with arrays of `f32` or `f64`, for which all-zero bits are `0.0`.
    let b: Box<core::mem::MaybeUninit<T>> = Box::new_zeroed();
    // SAFETY: every `T` this is used with (arrays of `f32` or `f64`) is valid when all bits are 0.
    unsafe { b.assume_init() }
}
