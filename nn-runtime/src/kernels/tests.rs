//! Every kernel against a plain triple loop in `f64`, on awkward sizes, for `f32` and
//! `f64`, on every instruction set this machine has (the SIMD paths are forced by sizes
//! above `SIMD_MIN_FLOPS`; the small ones take the static loops).

use super::*;
use crate::activation::{Sigmoid, Tanh};
use simd::Portable;

/// Deterministic values in [-1, 1) without a random-number dependency.
fn fill<T: Scalar, const R: usize, const C: usize>(seed: u64) -> Box<SMatrix<T, R, C>> {
    // Built on the heap directly: large matrices would overflow a debug test's stack.
    let m: Box<core::mem::MaybeUninit<SMatrix<T, R, C>>> = Box::new_zeroed();
    // SAFETY: an all-zero bit pattern is a valid `SMatrix` of `Scalar`s (see `Scalar`).
    let mut m: Box<SMatrix<T, R, C>> = unsafe { m.assume_init() };
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for v in m.as_mut_slice() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        *v = <T as Scalar>::from_f64((s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0);
    }
    m
}

/// Relative-to-magnitude tolerance for a sum of `k` products of numbers in [-1, 1].
fn tol<T: Scalar>(k: usize) -> f64 {
    T::EPSILON.to_f64() * 4.0 * (k as f64 + 1.0)
}

fn close<T: Scalar>(got: &[T], want: &[f64], k: usize, what: &str) {
    assert_eq!(got.len(), want.len());
    let t = tol::<T>(k);
    for (n, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g.to_f64() - w).abs() <= t,
            "{what}: element {n}: got {g}, want {w} (tol {t})"
        );
    }
}

fn check<T: Scalar, const O: usize, const I: usize, const B: usize>() {
    let w = fill::<T, O, I>(1 + (O * 31 + I * 7 + B) as u64);
    let bias = fill::<T, O, 1>(2);
    let x = fill::<T, I, B>(3);
    let dy = fill::<T, O, B>(4);
    let (ws, bs, xs, dys) = (w.as_slice(), bias.as_slice(), x.as_slice(), dy.as_slice());
    let f = |v: T| v.to_f64();

    // Reference: y = w x + b, relu, dx = wᵀ dy, dw = dw0 + dy xᵀ, db = db0 + Σ dy.
    let mut y_ref = vec![0.0; O * B];
    let mut dx_ref = vec![0.0; I * B];
    let dw0 = fill::<T, O, I>(5);
    let mut dw_ref: Vec<f64> = dw0.as_slice().iter().map(|&v| f(v)).collect();
    let mut db_ref: Vec<f64> = bias.as_slice().iter().map(|&v| f(v)).collect();
    for j in 0..B {
        for o in 0..O {
            let mut s = f(bs[o]);
            for i in 0..I {
                s += f(ws[o + i * O]) * f(xs[i + j * I]);
            }
            y_ref[o + j * O] = s;
            db_ref[o] += f(dys[o + j * O]);
        }
        for i in 0..I {
            let mut s = 0.0;
            for o in 0..O {
                s += f(ws[o + i * O]) * f(dys[o + j * O]);
            }
            dx_ref[i + j * I] = s;
        }
    }
    for i in 0..I {
        for o in 0..O {
            for j in 0..B {
                dw_ref[o + i * O] += f(dys[o + j * O]) * f(xs[i + j * I]);
            }
        }
    }
    let cap = LEVEL_CAP.with(|c| c.get());
    let what = |k: &str| format!("{k} {O}x{I} batch {B} {:?} (level cap {cap})", T::DTYPE);

    let mut y = fill::<T, O, B>(9); // garbage that must be overwritten
    dense_forward(&w, Some(&bias.column(0).into_owned()), &x, &mut y);
    close(y.as_slice(), &y_ref, I, &what("forward"));

    let mut y0 = fill::<T, O, B>(9);
    dense_forward(&w, None, &x, &mut y0);
    let y0_ref: Vec<f64> = (0..O * B).map(|n| y_ref[n] - f(bs[n % O])).collect();
    close(y0.as_slice(), &y0_ref, I, &what("forward without bias"));

    let mut yr = fill::<T, O, B>(9);
    dense_forward_relu(&w, Some(&bias.column(0).into_owned()), &x, &mut yr);
    let yr_ref: Vec<f64> = y_ref.iter().map(|&v| v.max(0.0)).collect();
    close(yr.as_slice(), &yr_ref, I, &what("forward relu"));

    let mut yt = fill::<T, O, B>(9);
    dense_forward_act(&w, Some(&bias.column(0).into_owned()), &x, &Tanh, &mut yt);
    let yt_ref: Vec<f64> = y_ref.iter().map(|&v| v.tanh()).collect();
    close(yt.as_slice(), &yt_ref, I, &what("forward tanh"));

    let mut ys = fill::<T, O, B>(9);
    dense_forward_act(
        &w,
        Some(&bias.column(0).into_owned()),
        &x,
        &Sigmoid,
        &mut ys,
    );
    let ys_ref: Vec<f64> = y_ref.iter().map(|&v| 1.0 / (1.0 + (-v).exp())).collect();
    close(ys.as_slice(), &ys_ref, I, &what("forward sigmoid"));

    let mut dx = fill::<T, I, B>(9);
    dense_input_grad(&w, &dy, &mut dx);
    close(dx.as_slice(), &dx_ref, O, &what("input grad"));

    // Through a ReLU whose output is `relu_out` (zero, or positive, in some places).
    let mut relu_out = fill::<T, I, B>(12);
    for v in relu_out.iter_mut() {
        *v = if *v > <T as Scalar>::from_f64(0.0) {
            *v
        } else {
            <T as Scalar>::from_f64(0.0)
        };
    }
    let mut dxr = fill::<T, I, B>(9);
    dense_input_grad_relu(&w, &dy, &relu_out, &mut dxr);
    let dxr_ref: Vec<f64> = dx_ref
        .iter()
        .zip(relu_out.iter())
        .map(|(&d, &g)| if g.to_f64() > 0.0 { d } else { 0.0 })
        .collect();
    close(
        dxr.as_slice(),
        &dxr_ref,
        O,
        &what("input grad through relu"),
    );

    let mut dw = fill::<T, O, I>(5);
    dense_weight_grad(&dy, &x, &mut dw);
    close(dw.as_slice(), &dw_ref, B, &what("weight grad"));

    let mut db: SVector<T, O> = bias.column(0).into_owned();
    bias_grad(&dy, &mut db);
    close(db.as_slice(), &db_ref, B, &what("bias grad"));

    // Scaled and overwriting forms: dw = α dy xᵀ (+ dw0), db = α Σ dy (+ db0).
    let alpha = -0.375; // exact in binary, so α·(exact sum) is the reference
    let dw0f: Vec<f64> = dw0.as_slice().iter().map(|&v| f(v)).collect();
    let prod: Vec<f64> = dw_ref.iter().zip(&dw0f).map(|(r, z)| r - z).collect();
    let mut dws = fill::<T, O, I>(5);
    dense_weight_grad_scaled(&dy, &x, &mut dws, <T as Scalar>::from_f64(alpha), true);
    let want: Vec<f64> = prod.iter().zip(&dw0f).map(|(p, z)| alpha * p + z).collect();
    close(
        dws.as_slice(),
        &want,
        B,
        &what("weight grad scaled, accumulating"),
    );
    let mut dwo = fill::<T, O, I>(11); // garbage that must be overwritten
    if O * I > 0 {
        dwo[(0, 0)] = <T as Scalar>::from_f64(f64::NAN); // and never read
    }
    dense_weight_grad_scaled(&dy, &x, &mut dwo, <T as Scalar>::from_f64(alpha), false);
    let want: Vec<f64> = prod.iter().map(|p| alpha * p).collect();
    close(
        dwo.as_slice(),
        &want,
        B,
        &what("weight grad scaled, overwriting"),
    );
    let bsum: Vec<f64> = db_ref.iter().zip(bs).map(|(r, &b0)| r - f(b0)).collect();
    let mut dbs: SVector<T, O> = bias.column(0).into_owned();
    bias_grad_scaled(&dy, &mut dbs, <T as Scalar>::from_f64(alpha), true);
    let want: Vec<f64> = bsum
        .iter()
        .zip(bs)
        .map(|(s, &b0)| alpha * s + f(b0))
        .collect();
    close(
        dbs.as_slice(),
        &want,
        B,
        &what("bias grad scaled, accumulating"),
    );
    let mut dbo: SVector<T, O> = SVector::from_element(<T as Scalar>::from_f64(f64::NAN));
    bias_grad_scaled(&dy, &mut dbo, <T as Scalar>::from_f64(alpha), false);
    let want: Vec<f64> = bsum.iter().map(|s| alpha * s).collect();
    close(
        dbo.as_slice(),
        &want,
        B,
        &what("bias grad scaled, overwriting"),
    );
}

macro_rules! sizes {
    ($name:ident: $(($o:literal, $i:literal, $b:literal)),* $(,)?) => {
        #[test]
        fn $name() {
            // Every instruction set: portable, AVX2 (if present), AVX-512 (if present).
            for cap in 0..=2 {
                LEVEL_CAP.with(|c| c.set(cap));
                $(
                    check::<f32, $o, $i, $b>();
                    check::<f64, $o, $i, $b>();
                )*
            }
        }
    };
}

sizes!(tiny: (1, 1, 1), (3, 7, 1), (7, 3, 3), (17, 1, 7), (1, 17, 17), (3, 3, 33));
// The small one-sample product with 8, 4, 2 and 1 partial sums, with and without a
// remainder of columns: (4, 50) is the 2-50-4 output layer.
sizes!(small_gemv: (4, 50, 1), (1, 17, 1), (3, 16, 1), (5, 9, 1), (8, 8, 1), (7, 23, 1),
    (16, 31, 1), (9, 4, 1), (17, 29, 1), (2, 15, 1), (4, 4, 1), (16, 16, 1));
sizes!(batch_one: (17, 33, 1), (33, 17, 1), (127, 7, 1), (7, 127, 1), (64, 64, 1), (1025, 3, 1),
    (3, 1025, 1), (33, 127, 1));
// The matrix-vector path: every row-panel shape (8, 4, 2, 1 vectors and a masked tail) on
// every instruction set, short and long `k`.
sizes!(gemv: (1, 1025, 1), (17, 127, 1), (127, 33, 1), (1025, 33, 1), (33, 1025, 1),
    (127, 127, 1), (1025, 1, 1), (7, 1025, 1), (127, 1025, 1), (17, 33, 1));
sizes!(small_batches: (17, 17, 3), (33, 7, 7), (7, 33, 7), (127, 17, 3), (17, 127, 7),
    (33, 33, 15), (16, 16, 16), (50, 2, 17), (130, 9, 2), (65, 33, 2), (33, 17, 2),
    (16, 784, 1), (70, 40, 1));
// One-sample weight gradients with `α·dy` held in registers: columns of 5 to 16 vectors
// (AVX-512) and 5 to 8 (AVX2), masked and not, and one vector past the limit.
sizes!(weight_grad_regs: (40, 13, 1), (47, 11, 1), (65, 8, 1), (100, 6, 1), (128, 4, 1),
    (129, 4, 1), (200, 3, 1), (255, 3, 1), (256, 3, 1), (257, 2, 1));
// `k` blocked with several row panels and column tiles.
sizes!(blocked: (40, 1100, 13), (33, 300, 70), (65, 600, 130), (17, 600, 25));
// One-sample products whose weights are one stream larger than 32 KiB, read in
// alternating directions (see `repeats_bitwise`).
sizes!(alternating: (16, 784, 1), (32, 700, 1), (128, 100, 1), (64, 200, 1), (8, 1100, 1));
sizes!(batches: (33, 17, 17), (17, 33, 33), (127, 33, 17), (33, 127, 33), (128, 64, 32),
    (7, 1025, 17), (1025, 7, 17), (64, 1, 33), (1, 64, 33), (3, 17, 127), (17, 3, 1025),
    (10, 128, 64), (256, 130, 33), (300, 70, 40), (513, 65, 64), (256, 256, 32));

/// A product read in alternating directions gives bitwise the same result every call.
fn repeats<T: Scalar, const O: usize, const I: usize>() {
    let w = fill::<T, O, I>(1);
    let b = fill::<T, O, 1>(2).column(0).into_owned();
    let x = fill::<T, I, 1>(3);
    let mut first = fill::<T, O, 1>(4);
    dense_forward(&w, Some(&b), &x, &mut first);
    for call in 0..4 {
        let mut y = fill::<T, O, 1>(5);
        dense_forward(&w, Some(&b), &x, &mut y);
        let bits =
            |m: &SMatrix<T, O, 1>| m.iter().map(|v| v.to_f64().to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&y),
            bits(&first),
            "{O}x{I} {:?}, call {call}",
            T::DTYPE
        );
    }
}

#[test]
fn repeats_bitwise() {
    for cap in 0..=2 {
        LEVEL_CAP.with(|c| c.set(cap));
        repeats::<f32, 16, 784>();
        repeats::<f64, 16, 784>();
        repeats::<f32, 128, 100>();
        repeats::<f64, 32, 300>();
    }
}

#[test]
fn reports_a_level() {
    assert!(["avx512f", "avx2+fma", "portable"].contains(&simd_level()));
}

#[test]
fn runs_on_a_small_stack() {
    // Generated networks must run from a 2 MiB-stack thread in debug builds; the kernels'
    // own frames (the 8 KiB panel of the transposed product and the register tiles) must
    // fit far below that. 128 KiB leaves room for the test's own frames.
    std::thread::Builder::new()
        .stack_size(128 * 1024)
        .spawn(|| {
            for cap in 0..=2 {
                LEVEL_CAP.with(|c| c.set(cap));
                let w = fill::<f64, 130, 70>(1);
                let dy = fill::<f64, 130, 33>(2);
                let x = fill::<f64, 70, 33>(3);
                let mut dx = fill::<f64, 70, 33>(4);
                let mut dw = fill::<f64, 130, 70>(5);
                let mut y = fill::<f64, 130, 33>(6);
                dense_input_grad(&w, &dy, &mut dx);
                dense_weight_grad(&dy, &x, &mut dw);
                dense_forward_relu(&w, None, &x, &mut y);
                let x1 = fill::<f64, 70, 1>(7);
                let mut y1 = fill::<f64, 130, 1>(8);
                dense_forward_relu(&w, None, &x1, &mut y1);
                assert!(dx.iter().chain(dw.iter()).all(|v| v.is_finite()));
                assert!(y1.iter().all(|&v| v >= 0.0) && y1.iter().any(|&v| v > 0.0));
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

/// `gemm::transpose` (the input gradient's panel and output) against a plain loop, on
/// every instruction set, for full register blocks, edges and the accumulating form.
fn check_transpose<S: simd::Simd>() {
    let l = S::LANES;
    for &(rows, cols) in &[
        (1, 1),
        (l, l),
        (2 * l, l),
        (l, 3 * l),
        (l + 3, 2 * l + 1),
        (7, 33),
        (33, 7),
        (3 * l - 1, l - 1),
    ] {
        let (lds, ldd) = (rows + 5, cols + 3);
        let src: Vec<S::T> = (0..lds * cols)
            .map(|n| <S::T as Scalar>::from_f64(n as f64))
            .collect();
        // A ReLU output laid out like `dst`: zero at every third element.
        let gate: Vec<S::T> = (0..ldd * rows)
            .map(|n| <S::T as Scalar>::from_f64(if n % 3 == 0 { 0.0 } else { 0.25 }))
            .collect();
        for (add, gated) in [(false, false), (true, false), (false, true), (true, true)] {
            let init = |n: usize| <S::T as Scalar>::from_f64(-(n as f64) * 0.5);
            let mut dst: Vec<S::T> = (0..ldd * rows).map(init).collect();
            let g = if gated {
                gate.as_ptr()
            } else {
                core::ptr::null()
            };
            // SAFETY: `src` holds `rows` rows of `cols` columns at leading dimension `lds`,
            // `dst` and `gate` `cols` rows of `rows` columns at `ldd`; the instruction set
            // was checked by the caller.
            unsafe {
                gemm::transpose::<S>(src.as_ptr(), lds, dst.as_mut_ptr(), ldd, rows, cols, add, g)
            };
            for (n, got) in dst.iter().enumerate() {
                let (c, r) = (n % ldd, n / ldd);
                let want = if c < cols {
                    let v = (r + c * lds) as f64;
                    let v = if add { v + init(n).to_f64() } else { v };
                    if gated && n % 3 == 0 {
                        0.0
                    } else {
                        v
                    }
                } else {
                    init(n).to_f64() // padding between the columns is never written
                };
                assert_eq!(
                    got.to_f64(),
                    want,
                    "{rows}x{cols} add={add} gated={gated}: element {n}"
                );
            }
        }
    }
}

#[test]
fn transposes() {
    check_transpose::<Portable<f32, 4>>();
    check_transpose::<Portable<f64, 4>>();
    #[cfg(target_arch = "x86_64")]
    {
        use simd::{V3F32, V3F64, V4F32, V4F64};
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            check_transpose::<V3F32>();
            check_transpose::<V3F64>();
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            check_transpose::<V4F32>();
            check_transpose::<V4F64>();
        }
    }
}

/// The `parallel` feature: split products give bitwise the results of one thread, in
/// pools of 2, 3 and 4 threads, and the large ones are split.
#[cfg(feature = "parallel")]
mod parallel {
    use super::*;
    use core::sync::atomic::Ordering::Relaxed;

    /// Every splittable kernel on one shape, as `[forward, forward relu, input grad,
    /// input grad relu, weight grad, weight grad scaled (accumulating), (overwriting)]`.
    fn all<T: Scalar, const O: usize, const I: usize, const B: usize>() -> Vec<Vec<u64>> {
        let w = fill::<T, O, I>(1);
        let bias = fill::<T, O, 1>(2).column(0).into_owned();
        let x = fill::<T, I, B>(3);
        let dy = fill::<T, O, B>(4);
        let gate = fill::<T, I, B>(5);
        let bits = |s: &[T]| s.iter().map(|v| v.to_f64().to_bits()).collect::<Vec<_>>();
        let mut out = Vec::new();
        let mut y = fill::<T, O, B>(9);
        dense_forward(&w, Some(&bias), &x, &mut y);
        out.push(bits(y.as_slice()));
        dense_forward_relu(&w, Some(&bias), &x, &mut y);
        out.push(bits(y.as_slice()));
        let mut dx = fill::<T, I, B>(9);
        dense_input_grad(&w, &dy, &mut dx);
        out.push(bits(dx.as_slice()));
        dense_input_grad_relu(&w, &dy, &gate, &mut dx);
        out.push(bits(dx.as_slice()));
        let mut dw = fill::<T, O, I>(6);
        dense_weight_grad(&dy, &x, &mut dw);
        out.push(bits(dw.as_slice()));
        dense_weight_grad_scaled(&dy, &x, &mut dw, <T as Scalar>::from_f64(-0.375), true);
        out.push(bits(dw.as_slice()));
        dense_weight_grad_scaled(&dy, &x, &mut dw, <T as Scalar>::from_f64(0.5), false);
        out.push(bits(dw.as_slice()));
        out
    }

    /// `all` split in pools of 2, 3 and 4 threads equals it on one thread; `split`
    /// says whether any product of the shape must have been split.
    fn same<T: Scalar, const O: usize, const I: usize, const B: usize>(split: bool) {
        let one = sequential(all::<T, O, I, B>);
        for threads in 2..=4 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let before = par::SPLITS.load(Relaxed);
            let many = pool.install(all::<T, O, I, B>);
            let splits = par::SPLITS.load(Relaxed) - before;
            for (k, (a, b)) in one.iter().zip(&many).enumerate() {
                assert!(
                    a == b,
                    "{O}x{I} batch {B} {:?}, {threads} threads: kernel {k} differs",
                    T::DTYPE
                );
            }
            if split {
                assert!(
                    splits > 0,
                    "{O}x{I} batch {B}, {threads} threads: not split"
                );
            }
        }
    }

    #[test]
    fn split_products_match_one_thread() {
        // Awkward sizes above the split threshold, and the benchmarks' layers.
        same::<f32, 127, 1025, 33>(true);
        same::<f64, 127, 1025, 33>(true);
        same::<f32, 33, 127, 1025>(true);
        same::<f32, 17, 1025, 64>(true);
        same::<f64, 7, 1025, 127>(true);
        same::<f32, 128, 784, 32>(true);
        same::<f32, 128, 784, 64>(true);
        same::<f32, 256, 256, 64>(true);
        same::<f32, 10, 128, 64>(false);
        // One sample, and small batches: never split.
        let before = par::SPLITS.load(Relaxed);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        pool.install(|| {
            all::<f32, 1025, 1025, 1>();
            all::<f32, 127, 33, 3>();
        });
        assert_eq!(
            par::SPLITS.load(Relaxed),
            before,
            "small products were split"
        );
    }

    #[test]
    fn sequential_nests_and_restores() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        pool.install(|| {
            sequential(|| {
                sequential(|| {});
                assert!(par::is_sequential(), "the inner call restored too early");
            });
            assert!(!par::is_sequential());
            let r = std::panic::catch_unwind(|| sequential(|| panic!("inside")));
            assert!(r.is_err());
            assert!(!par::is_sequential(), "not restored after a panic");
        });
    }
}
