//! The arithmetic inside a layer, specialised by the const dimensions.
//!
//! Generated code calls these; they may be made faster without touching the macro.
//! Matrices are nalgebra's column-major `SMatrix`; a batch has one column per sample.
//!
//! # How the work is done
//! * Small products (fewer than [`SIMD_MIN_FLOPS`] multiply-adds) run as static code over
//!   the const dimensions, which the compiler unrolls and vectorises for the build target:
//!   nalgebra's static product for batches, and for one sample a matrix-vector loop with
//!   up to 8 interleaved partial sums and the bias and ReLU fused into its last pass.
//! * Larger ones run a register-tiled micro-kernel (`gemm.rs`) written over a small vector
//!   abstraction (`simd.rs`), chosen at run time: AVX-512F, else AVX2+FMA on x86-64, else
//!   a portable version the compiler vectorises for the baseline target (SSE2, NEON).
//!   A forward pass of one sample (`B == 1`) is a matrix-vector product instead
//!   (`gemm::gemv`): the columns of `w` are streamed once, scaled by `x[i]` and summed in
//!   row panels of up to 8 vectors with 8 independent FMA chains (short panels split the
//!   columns between several partial sums), bias and ReLU in the epilogue. It is then
//!   limited by the bandwidth at which `w` arrives from L2.
//!   `dense_input_grad` (`wᵀ·dy`) transposes blocks of `dy` into an 8 KiB stack panel so it
//!   runs on the same micro-kernel; for batches smaller than one vector it uses dot
//!   products instead.
//!
//! No kernel allocates; the only scratch is that stack panel.
//!
//! # The `parallel` feature
//! With the crate's `parallel` feature, a batched product of at least twice
//! [`PAR_MIN_MACS`] multiply-adds is split by columns of its output over the threads of
//! the current rayon pool (the global one unless the caller runs inside
//! [`ThreadPool::install`](https://docs.rs/rayon/latest/rayon/struct.ThreadPool.html#method.install)),
//! at most one part per thread and at tile boundaries, so the results are bitwise those
//! of one thread; one-sample products are never split. [`sequential`] keeps a call on its
//! thread. A split allocates rayon's job for the part it hands over, so the
//! no-allocation promise holds for builds without the feature (and inside
//! [`sequential`]).
//!
//! # Stack use (`STACK`)
//! The tiles are `#[inline(always)]` in optimised builds, so each instruction-set entry
//! point is one function with the intrinsics inlined. Debug builds do not optimise stack
//! slots, so inlining every tile instance there gave entry points 250 KiB frames; in debug
//! builds the tiles are separate functions instead, and a test runs the kernels on a
//! 128 KiB thread.

mod gemm;
#[cfg(feature = "parallel")]
mod par;
mod simd;
#[cfg(test)]
mod tests;
pub mod vmath;

use crate::activation::Activation;
use crate::scalar::Scalar;
use core::any::TypeId;
use gemm::{Gemm, Init};
use nalgebra::{SMatrix, SVector};
use simd::Simd;

/// With the `parallel` feature, each part of a split product has at least this many
/// multiply-adds (4Mi): about 30-50 µs of one AVX-512 core. Handing work to another thread measured 9 µs (a `rayon::join`
/// of two empty closures) to 40 µs (a worker that had gone to sleep) on the shared
/// 2-vCPU machines this was tuned on, so smaller products ran slower split: the
/// 784-128-10 and 64-256-256-10 batched steps of `BENCHMARKS.md` (at most 6.4Mi
/// multiply-adds a product) stay on one thread, and 1024x1024 layers at batch 64 and
/// more are split.
pub const PAR_MIN_MACS: usize = 1 << 22;

/// Runs `f` with every product it runs on this thread kept on this thread: with the
/// `parallel` feature, none is split over rayon's threads; without it, this only calls
/// `f` (every product already runs on the calling thread), so code can call it either
/// way. For a thread whose latency matters more than its throughput, such as an audio
/// callback, or to compare one thread with several in the same process. Calls nest; the
/// previous setting comes back when `f` returns or unwinds.
///
/// ```
/// use nn_runtime::kernels::{dense_forward, sequential};
/// use nn_runtime::SMatrix;
/// let w = Box::new(SMatrix::<f32, 64, 64>::repeat(0.5));
/// let x = Box::new(SMatrix::<f32, 64, 256>::repeat(1.0));
/// let mut y = Box::new(SMatrix::<f32, 64, 256>::zeros());
/// sequential(|| dense_forward(&w, None, &x, &mut y));
/// assert!(y.iter().all(|&v| v == 32.0));
/// ```
pub fn sequential<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(feature = "parallel")]
    return par::sequential(f);
    #[cfg(not(feature = "parallel"))]
    f()
}

/// Products with fewer multiply-adds than this run as static code over the const
/// dimensions; larger ones run the run-time-selected SIMD kernels.
pub const SIMD_MIN_FLOPS: usize = 512;

/// The instruction set the SIMD kernels use on this machine: `"avx512f"`, `"avx2+fma"` or
/// `"portable"` (what the compiler vectorises for the build target).
///
/// ```
/// let level = nn_runtime::kernels::simd_level();
/// assert!(["avx512f", "avx2+fma", "portable"].contains(&level));
/// ```
pub fn simd_level() -> &'static str {
    match vmath::level() {
        vmath::Level::V4 => "avx512f",
        vmath::Level::V3 => "avx2+fma",
        vmath::Level::Baseline => "portable",
    }
}

#[cfg(test)]
thread_local! {
    /// Tests cap the instruction set per thread: 0 = portable, 1 = up to AVX2, 2 = any.
    static LEVEL_CAP: core::cell::Cell<u8> = const { core::cell::Cell::new(2) };
}

/// Whether the kernels may use AVX-512 (`2`) or AVX2 (`1`) on this thread.
#[cfg(all(test, target_arch = "x86_64"))]
#[inline(always)]
fn allowed(level: u8) -> bool {
    LEVEL_CAP.with(|c| c.get() >= level)
}
#[cfg(all(not(test), target_arch = "x86_64"))]
#[inline(always)]
fn allowed(_level: u8) -> bool {
    true
}

#[inline(always)]
fn same<T: 'static, U: 'static>() -> bool {
    TypeId::of::<T>() == TypeId::of::<U>()
}

/// The products the layers need, as entry points per instruction set.
enum Op<T> {
    /// A product with `A` in column layout (the forward pass).
    Gemm(Gemm<T>),
    /// `dx = wᵀ·dy`, gated by a ReLU's output when the last pointer is not null:
    /// (w, dy, dx, o, i, b, gate).
    InputGrad(*const T, *const T, *mut T, usize, usize, usize, *const T),
    /// `dw = α·dy·xᵀ (+ dw)`: (dy, x, dw, o, i, b, α, accumulate).
    WeightGrad(*const T, *const T, *mut T, usize, usize, usize, T, bool),
    /// `y = w·x (+ bias)`, ReLU optional, for one sample: (w, x, bias or null, y, o, i,
    /// relu).
    /// The element function, when not `None`, is then applied to `y` in the same entry
    /// point.
    Gemv(
        *const T,
        *const T,
        *const T,
        *mut T,
        usize,
        usize,
        bool,
        Option<vmath::Fun>,
    ),
}

/// Runs `op` with the best instruction set available.
///
/// # Safety
/// `op` must satisfy the contract of [`Gemm`] (for `Op::Gemm`) or of
/// `gemm::input_grad_packed` (for `Op::InputGrad`), `gemm::weight_grad` (for
/// `Op::WeightGrad`) or `gemm::gemv` (for `Op::Gemv`).
#[inline]
unsafe fn run<T: Scalar>(op: &Op<T>) {
    // The input gradient has entry points of its own: its 40 KiB of stack buffers would
    // otherwise be in every entry point's frame, probed page by page on each call (a
    // measurable part of a one-sample product).
    // SAFETY: the caller's contract, forwarded.
    unsafe {
        if let Op::InputGrad(..) = op {
            dispatch!(op, entry::input_grad)
        } else {
            dispatch!(op, entry::products)
        }
    }
}

/// Calls `$entry::v4_f32` etc. (the `#[target_feature]` entry points of module `$entry`)
/// for the best instruction set present, or `$entry::portable_f32` / `portable_f64`.
macro_rules! dispatch {
    ($op:expr, $entry:path) => {{
        use $entry as entry;
        let op = $op;
        // SAFETY: the `same` checks make each cast between `Op<T>` and `Op<f32>`/`Op<f64>`
        // an identity; each entry point is called only after its features were detected.
        #[cfg(target_arch = "x86_64")]
        {
            if same::<T, f32>() {
                let op = &*(op as *const Op<T> as *const Op<f32>);
                if allowed(2) && std::arch::is_x86_feature_detected!("avx512f") {
                    return entry::v4_f32(op);
                }
                if allowed(1)
                    && std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    return entry::v3_f32(op);
                }
            } else if same::<T, f64>() {
                let op = &*(op as *const Op<T> as *const Op<f64>);
                if allowed(2) && std::arch::is_x86_feature_detected!("avx512f") {
                    return entry::v4_f64(op);
                }
                if allowed(1)
                    && std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    return entry::v3_f64(op);
                }
            }
        }
        if same::<T, f32>() {
            return entry::portable_f32(&*(op as *const Op<T> as *const Op<f32>));
        }
        if same::<T, f64>() {
            return entry::portable_f64(&*(op as *const Op<T> as *const Op<f64>));
        }
        unreachable!("Scalar is sealed: f32 and f64 only")
    }};
}
use dispatch;

/// The products other than the input gradient, with `MV × NR` register tiles.
///
/// # Safety
/// As for [`run`]; and `S`'s instruction set must be enabled in the caller.
// Inlined into the instruction-set entry points in optimised builds (so the
// intrinsics inline); separate small frames in debug builds (see `STACK` in mod.rs).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
unsafe fn run_generic<S: Simd, const MV: usize, const NR: usize>(op: &Op<S::T>) {
    // SAFETY: the contracts are forwarded unchanged.
    unsafe {
        #[cfg(feature = "parallel")]
        if par::try_split(op, tiles::<S, MV, NR>()) {
            return;
        }
        match *op {
            Op::Gemm(ref g) => gemm::gemm::<S, MV, NR>(g),
            Op::WeightGrad(dy, x, dw, o, i, b, alpha, acc) => {
                if b < SMALL_BATCH {
                    gemm::weight_grad_small::<S>(dy, x, dw, o, i, b, alpha, acc)
                } else {
                    gemm::weight_grad::<S, MV, NR>(dy, x, dw, o, i, b, alpha, acc)
                }
            }
            Op::Gemv(w, x, bias, y, o, i, relu, f) => {
                gemm::gemv::<S>(w, x, bias, y, o, i, relu);
                if let Some(f) = f {
                    let y = core::slice::from_raw_parts_mut(y, o);
                    #[cfg(target_arch = "x86_64")]
                    if S::AVX512 {
                        // `S::AVX512`: its instruction set, AVX-512F, is enabled here.
                        return vmath::apply_avx512(f, y);
                    }
                    if S::FMA {
                        vmath::apply_inline::<S::T, true>(f, y)
                    } else {
                        vmath::apply_inline::<S::T, false>(f, y)
                    }
                }
            }
            // `run` sends it to `input_grad_generic`'s entry points (inlining it here
            // would put its stack buffers in this frame).
            Op::InputGrad(..) => unreachable!("the input gradient has its own entry points"),
        }
    }
}

/// The register tiles of an entry point, for the `parallel` feature's split.
#[cfg(feature = "parallel")]
#[inline(always)]
fn tiles<S: Simd, const MV: usize, const NR: usize>() -> par::Tiles {
    par::Tiles {
        nr: NR,
        rows: MV * S::LANES,
        lanes: S::LANES,
    }
}

/// The input gradient, with `MV × NR` register tiles (other ops do nothing).
///
/// # Safety
/// As for [`run`]; and `S`'s instruction set must be enabled in the caller.
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
unsafe fn input_grad_generic<S: Simd, const MV: usize, const NR: usize>(op: &Op<S::T>) {
    // SAFETY: the contracts are forwarded unchanged.
    unsafe {
        #[cfg(feature = "parallel")]
        if par::try_split(op, tiles::<S, MV, NR>()) {
            return;
        }
        if let Op::InputGrad(w, dy, dx, o, i, b, gate) = *op {
            if b >= S::LANES && o < b && o <= gemm::KC {
                // Few outputs: transposing w is cheaper than transposing dy and dx.
                gemm::input_grad_wt::<S, MV, NR>(w, dy, dx, o, i, b, gate)
            } else if b >= S::LANES {
                gemm::input_grad_packed::<S, MV, NR>(w, dy, dx, o, i, b, gate)
            } else {
                gemm::input_grad_dot::<S>(w, dy, dx, o, i, b, gate)
            }
        }
    }
}

/// The entry points of the products (`products`) and of the input gradient
/// (`input_grad`), each a module of non-generic functions compiled once, in this crate (a
/// generic fallback was compiled, with every tile shape inlined, into each crate that
/// calls a kernel: 40 000 lines of LLVM IR, most of a small network's 38-second release
/// build).
mod entry {
    /// Module `$name`: the `#[target_feature]` entry points `v4_f32`, `v4_f64`, `v3_f32`,
    /// `v3_f64` (x86_64) and `portable_f32`, `portable_f64`, each the generic body for one
    /// instruction set and tile shape.
    macro_rules! entry_points {
        ($name:ident, $body:ident) => {
            pub(super) mod $name {
                use super::super::simd::Portable;
                #[cfg(target_arch = "x86_64")]
                use super::super::simd::{V3F32, V3F64, V4F32, V4F64};
                use super::super::{$body, Op};

                // SAFETY (all four): callers check the named features at run time first;
                // the operand contract is forwarded from `run`.
                #[cfg(target_arch = "x86_64")]
                #[target_feature(enable = "avx512f,fma")]
                pub(in super::super) unsafe fn v4_f32(op: &Op<f32>) {
                    unsafe { $body::<V4F32, 2, 12>(op) }
                }
                #[cfg(target_arch = "x86_64")]
                #[target_feature(enable = "avx512f,fma")]
                pub(in super::super) unsafe fn v4_f64(op: &Op<f64>) {
                    unsafe { $body::<V4F64, 2, 8>(op) }
                }
                #[cfg(target_arch = "x86_64")]
                #[target_feature(enable = "avx2,fma")]
                pub(in super::super) unsafe fn v3_f32(op: &Op<f32>) {
                    unsafe { $body::<V3F32, 2, 6>(op) }
                }
                #[cfg(target_arch = "x86_64")]
                #[target_feature(enable = "avx2,fma")]
                pub(in super::super) unsafe fn v3_f64(op: &Op<f64>) {
                    unsafe { $body::<V3F64, 2, 6>(op) }
                }

                // SAFETY (both): the operand contract is forwarded from `run`; portable
                // code needs no instruction-set check.
                #[inline(never)]
                pub(in super::super) unsafe fn portable_f32(op: &Op<f32>) {
                    unsafe { $body::<Portable<f32, 4>, 2, 4>(op) }
                }
                #[inline(never)]
                pub(in super::super) unsafe fn portable_f64(op: &Op<f64>) {
                    unsafe { $body::<Portable<f64, 4>, 2, 4>(op) }
                }
            }
        };
    }
    entry_points!(products, run_generic);
    entry_points!(input_grad, input_grad_generic);
}

/// Below this batch size the weight gradient is a single pass over `dw` rather than a
/// register-tiled product (the tile's `k` loop would be too short to pay for itself).
const SMALL_BATCH: usize = 4;

/// From this many multiply-adds on, a one-sample dense layer with a vectorised activation
/// runs as one vector product with the activation fused (measured: 16x16 dense+tanh 32 →
/// 19 ns on AVX-512; 8x8 is faster as static code, 23 vs 33 ns).
const FUSED_ACT_MIN: usize = 256;

#[inline(always)]
fn small(o: usize, i: usize, b: usize) -> bool {
    o * i * b < SIMD_MIN_FLOPS
}

/// `y = w * x (+ b)`: the forward pass of a dense layer.
#[inline]
pub fn dense_forward<T: Scalar, const O: usize, const I: usize, const B: usize>(
    w: &SMatrix<T, O, I>,
    b: Option<&SVector<T, O>>,
    x: &SMatrix<T, I, B>,
    y: &mut SMatrix<T, O, B>,
) {
    forward_impl(w, b, x, y, false)
}

/// `y = max(w * x (+ b), 0)`: a dense layer with its ReLU fused into the product's
/// epilogue (equal to [`dense_forward`] followed by [`Relu`](crate::activation::Relu)).
///
/// ```
/// use nn_runtime::kernels::dense_forward_relu;
/// use nn_runtime::{SMatrix, SVector};
/// let w = SMatrix::<f32, 2, 3>::new(1.0, 2.0, 3.0, -1.0, -2.0, -3.0);
/// let b = SVector::<f32, 2>::new(0.5, 0.5);
/// let x = SMatrix::<f32, 3, 1>::new(1.0, 1.0, 1.0);
/// let mut y = SMatrix::<f32, 2, 1>::zeros();
/// dense_forward_relu(&w, Some(&b), &x, &mut y);
/// assert_eq!(y, SMatrix::<f32, 2, 1>::new(6.5, 0.0));
/// ```
#[inline]
pub fn dense_forward_relu<T: Scalar, const O: usize, const I: usize, const B: usize>(
    w: &SMatrix<T, O, I>,
    b: Option<&SVector<T, O>>,
    x: &SMatrix<T, I, B>,
    y: &mut SMatrix<T, O, B>,
) {
    forward_impl(w, b, x, y, true)
}

/// `y = f(w * x (+ b))`: a dense layer followed by an element-wise activation, applied
/// while `y` is still in cache.
#[inline]
pub fn dense_forward_act<
    T: Scalar,
    A: Activation<T>,
    const O: usize,
    const I: usize,
    const B: usize,
>(
    w: &SMatrix<T, O, I>,
    b: Option<&SVector<T, O>>,
    x: &SMatrix<T, I, B>,
    act: &A,
    y: &mut SMatrix<T, O, B>,
) {
    if B == 1 && O * I >= FUSED_ACT_MIN {
        if let Some(f) = act.__vmath() {
            // One sample: the activation in the product's entry point, on outputs still
            // in cache, without a second choice of instruction set (from 16x16 on, this
            // beats the static product followed by the activation's own dispatch).
            return forward_large(w, b, x, y, false, Some(f));
        }
    }
    forward_impl(w, b, x, y, false);
    act.forward_inplace(y.as_mut_slice());
}

// Always inlined, so small products become static code at the call site (a call per
// layer measured as a large part of a small network's batch-1 time); the larger ones are
// a call (inlining those measured slower).
#[inline(always)]
fn forward_impl<T: Scalar, const O: usize, const I: usize, const B: usize>(
    w: &SMatrix<T, O, I>,
    b: Option<&SVector<T, O>>,
    x: &SMatrix<T, I, B>,
    y: &mut SMatrix<T, O, B>,
    relu: bool,
) {
    if small(O, I, B) {
        small_forward(w, b, x, y, relu)
    } else {
        forward_large(w, b, x, y, relu, None)
    }
}

#[inline]
fn forward_large<T: Scalar, const O: usize, const I: usize, const B: usize>(
    w: &SMatrix<T, O, I>,
    b: Option<&SVector<T, O>>,
    x: &SMatrix<T, I, B>,
    y: &mut SMatrix<T, O, B>,
    relu: bool,
    f: Option<vmath::Fun>,
) {
    if B == 1 {
        let op = Op::Gemv(
            w.as_slice().as_ptr(),
            x.as_slice().as_ptr(),
            b.map_or(core::ptr::null(), |b| b.as_slice().as_ptr()),
            y.as_mut_slice().as_mut_ptr(),
            O,
            I,
            relu,
            f,
        );
        // SAFETY: w has O·I elements (column-major, w[r + p·O]), x has I = I·B, the bias
        // (when present) O, y O = O·B; y is a unique borrow and so overlaps nothing else.
        return unsafe { run(&op) };
    }
    debug_assert!(
        f.is_none(),
        "only one-sample products apply an element function"
    );
    let g = Gemm {
        m: O,
        n: B,
        k: I,
        a: w.as_slice().as_ptr(),
        lda: O,
        b: x.as_slice().as_ptr(),
        rsb: 1,
        csb: I,
        c: y.as_mut_slice().as_mut_ptr(),
        ldc: O,
        init: match b {
            Some(b) => Init::Bias(b.as_slice().as_ptr()),
            None => Init::Zero,
        },
        relu,
        alpha: <T as Scalar>::from_f64(1.0),
    };
    // SAFETY: A(i, p) = w[i + p·O] with i < O, p < I: inside w's O·I elements;
    // B(p, j) = x[p + j·I], p < I, j < B: inside x; C(i, j) = y[i + j·O]: inside y, which
    // is a unique borrow and so overlaps nothing else; the bias has O elements.
    unsafe { run(&Op::Gemm(g)) }
}

/// Small products: for one sample [`small_gemv`]; for batches nalgebra's static product,
/// which the compiler unrolls completely (measured 4-7x faster than plain loops at 4x4 and
/// 16x16), then bias and ReLU.
#[inline(always)]
fn small_forward<T: Scalar, const O: usize, const I: usize, const B: usize>(
    w: &SMatrix<T, O, I>,
    b: Option<&SVector<T, O>>,
    x: &SMatrix<T, I, B>,
    y: &mut SMatrix<T, O, B>,
    relu: bool,
) {
    if B == 1 {
        let (x, y) = (x.as_slice(), y.as_mut_slice());
        let b = b.map(|b| b.as_slice());
        // The number of partial sums as a constant of each instance (see `small_gemv`).
        return match small_gemv_chains(O, I) {
            8 => small_gemv::<T, O, I, 8>(w, x, b, y, relu),
            4 => small_gemv::<T, O, I, 4>(w, x, b, y, relu),
            2 => small_gemv::<T, O, I, 2>(w, x, b, y, relu),
            _ => small_gemv::<T, O, I, 1>(w, x, b, y, relu),
        };
    }
    w.mul_to(x, y);
    if let Some(b) = b {
        for mut col in y.column_iter_mut() {
            col += b;
        }
    }
    if relu {
        let zero = <T as Scalar>::from_f64(0.0);
        // Same form as `activation::Relu` (NaN becomes 0), which vectorises.
        for v in y.as_mut_slice() {
            *v = if *v > zero { *v } else { zero };
        }
    }
}

/// How many independent partial sums [`small_gemv`] keeps for `o` rows of `i` columns:
/// enough chains to hide the add latency while the sums still fit in eight 128-bit
/// registers, and at most half the columns. Always a power of two.
const fn small_gemv_chains(o: usize, i: usize) -> usize {
    let u = if o <= 4 {
        8
    } else if o <= 8 {
        4
    } else if o <= 16 {
        2
    } else {
        1
    };
    if i >= 2 * u {
        u
    } else {
        1
    }
}

/// `y = w·x (+ b)`, ReLU optional, for one sample, in one pass over `y`: `U` interleaved
/// partial sums of `w`'s columns (column `p` goes to sum `p mod U`), added at the end with
/// the bias and the ReLU. nalgebra's product keeps one sum per row, so a short, wide layer
/// (4 outputs of 50 inputs) is a chain of 50 dependent additions; this cuts it to `50/U`,
/// and writes `y` once instead of once per step.
#[inline(always)]
fn small_gemv<T: Scalar, const O: usize, const I: usize, const U: usize>(
    w: &SMatrix<T, O, I>,
    x: &[T],
    b: Option<&[T]>,
    y: &mut [T],
    relu: bool,
) {
    let zero = <T as Scalar>::from_f64(0.0);
    let w = w.as_slice();
    let mut acc = [[zero; O]; U];
    // The bias starts the first sum, off the critical path at the end.
    if let Some(b) = b {
        acc[0].copy_from_slice(&b[..O]);
    }
    let full = I - I % U;
    for p0 in (0..full).step_by(U) {
        for (k, sum) in acc.iter_mut().enumerate() {
            let p = p0 + k;
            let xp = x[p];
            for (s, &wv) in sum.iter_mut().zip(&w[p * O..(p + 1) * O]) {
                *s += wv * xp;
            }
        }
    }
    for p in full..I {
        let xp = x[p];
        for (s, &wv) in acc[0].iter_mut().zip(&w[p * O..(p + 1) * O]) {
            *s += wv * xp;
        }
    }
    // Add the partial sums as a tree (U is a power of two): log2(U) dependent additions.
    let mut n = U;
    while n > 1 {
        n /= 2;
        let (low, high) = acc.split_at_mut(n);
        for (s, t) in low.iter_mut().zip(&high[..n]) {
            for (a, &b) in s.iter_mut().zip(t) {
                *a += b;
            }
        }
    }
    for (out, &v) in y.iter_mut().zip(&acc[0]) {
        // Same form as `activation::Relu` (NaN becomes 0).
        let positive = v > zero;
        *out = if relu && !positive { zero } else { v };
    }
}

/// `dx = wᵀ * dy`: the input gradient of a dense layer (overwrites `dx`).
#[inline]
pub fn dense_input_grad<T: Scalar, const O: usize, const I: usize, const B: usize>(
    w: &SMatrix<T, O, I>,
    dy: &SMatrix<T, O, B>,
    dx: &mut SMatrix<T, I, B>,
) {
    input_grad_impl(w, dy, None, dx)
}

/// `dx = (wᵀ * dy) · [relu_out > 0]`: the gradient back through a dense layer and the
/// ReLU before it, given that ReLU's output (the dense layer's input), in one pass
/// (overwrites `dx`). Equal, element for element, to [`dense_input_grad`] followed by
/// [`Relu`](crate::activation::Relu)'s backward pass.
///
/// ```
/// use nn_runtime::kernels::dense_input_grad_relu;
/// use nn_runtime::SMatrix;
/// let w = SMatrix::<f32, 1, 2>::new(2.0, 3.0);
/// let dy = SMatrix::<f32, 1, 1>::new(1.0);
/// let relu_out = SMatrix::<f32, 2, 1>::new(0.5, 0.0); // the second unit is off
/// let mut dx = SMatrix::<f32, 2, 1>::zeros();
/// dense_input_grad_relu(&w, &dy, &relu_out, &mut dx);
/// assert_eq!(dx, SMatrix::<f32, 2, 1>::new(2.0, 0.0));
/// ```
#[inline]
pub fn dense_input_grad_relu<T: Scalar, const O: usize, const I: usize, const B: usize>(
    w: &SMatrix<T, O, I>,
    dy: &SMatrix<T, O, B>,
    relu_out: &SMatrix<T, I, B>,
    dx: &mut SMatrix<T, I, B>,
) {
    input_grad_impl(w, dy, Some(relu_out), dx)
}

#[inline]
fn input_grad_impl<T: Scalar, const O: usize, const I: usize, const B: usize>(
    w: &SMatrix<T, O, I>,
    dy: &SMatrix<T, O, B>,
    gate: Option<&SMatrix<T, I, B>>,
    dx: &mut SMatrix<T, I, B>,
) {
    if small(O, I, B) {
        w.tr_mul_to(dy, dx);
        if let Some(g) = gate {
            for (d, &y) in dx.as_mut_slice().iter_mut().zip(g.as_slice()) {
                *d = simd::gate_scalar(*d, y);
            }
        }
        return;
    }
    let op = Op::InputGrad(
        w.as_slice().as_ptr(),
        dy.as_slice().as_ptr(),
        dx.as_mut_slice().as_mut_ptr(),
        O,
        I,
        B,
        gate.map_or(core::ptr::null(), |g| g.as_slice().as_ptr()),
    );
    // SAFETY: w has O·I elements, dy O·B, dx I·B and the gate (when present) I·B, laid
    // out like dx; dx is a unique borrow.
    unsafe { run(&op) }
}

/// `dw += dy * xᵀ`: accumulates the weight gradient of a dense layer.
#[inline]
pub fn dense_weight_grad<T: Scalar, const O: usize, const I: usize, const B: usize>(
    dy: &SMatrix<T, O, B>,
    x: &SMatrix<T, I, B>,
    dw: &mut SMatrix<T, O, I>,
) {
    dense_weight_grad_scaled(dy, x, dw, <T as Scalar>::from_f64(1.0), true)
}

/// `dw = alpha * dy * xᵀ`, plus the old `dw` when `accumulate`: the weight gradient of a
/// dense layer, written (`accumulate == false`: `dw` is never read, so it need not be
/// zeroed first) or added. With `dw` the layer's own weights and `alpha = -lr` it is a
/// fused stochastic-gradient-descent step that never stores the gradient.
///
/// ```
/// use nn_runtime::kernels::dense_weight_grad_scaled;
/// use nn_runtime::SMatrix;
/// let dy = SMatrix::<f32, 2, 1>::new(1.0, -2.0);
/// let x = SMatrix::<f32, 3, 1>::new(1.0, 0.5, 0.0);
/// let mut w = SMatrix::<f32, 2, 3>::repeat(1.0);
/// dense_weight_grad_scaled(&dy, &x, &mut w, -0.5, true); // w -= 0.5 · dy xᵀ
/// assert_eq!(w, SMatrix::<f32, 2, 3>::new(0.5, 0.75, 1.0, 2.0, 1.5, 1.0));
/// ```
#[inline]
pub fn dense_weight_grad_scaled<T: Scalar, const O: usize, const I: usize, const B: usize>(
    dy: &SMatrix<T, O, B>,
    x: &SMatrix<T, I, B>,
    dw: &mut SMatrix<T, O, I>,
    alpha: T,
    accumulate: bool,
) {
    if small(O, I, B) {
        if B == 0 && !accumulate {
            dw.fill(<T as Scalar>::from_f64(0.0));
        }
        // dw = alpha dy xᵀ (+ dw), one rank-1 update per sample (static, unrolled); with
        // beta = 0 nalgebra never reads dw.
        for (j, (dyc, xc)) in dy.column_iter().zip(x.column_iter()).enumerate() {
            let beta = if j == 0 && !accumulate { 0.0 } else { 1.0 };
            dw.ger(alpha, &dyc, &xc, <T as Scalar>::from_f64(beta));
        }
        return;
    }
    let op = Op::WeightGrad(
        dy.as_slice().as_ptr(),
        x.as_slice().as_ptr(),
        dw.as_mut_slice().as_mut_ptr(),
        O,
        I,
        B,
        alpha,
        accumulate,
    );
    // SAFETY: dy has O·B elements, x I·B, dw O·I; dw is a unique borrow.
    unsafe { run(&op) }
}

/// `db += Σ_columns dy`: accumulates the bias gradient of a dense layer.
#[inline]
pub fn bias_grad<T: Scalar, const O: usize, const B: usize>(
    dy: &SMatrix<T, O, B>,
    db: &mut SVector<T, O>,
) {
    bias_grad_scaled(dy, db, <T as Scalar>::from_f64(1.0), true)
}

/// `db = alpha * Σ_columns dy`, plus the old `db` when `accumulate`: the bias gradient of
/// a dense layer, written or added (with `db` the bias and `alpha = -lr`, a fused SGD
/// step).
#[inline]
pub fn bias_grad_scaled<T: Scalar, const O: usize, const B: usize>(
    dy: &SMatrix<T, O, B>,
    db: &mut SVector<T, O>,
    alpha: T,
    accumulate: bool,
) {
    if O * B >= SIMD_MIN_FLOPS {
        // `db = α·dy·1 (+ db)`: a product with one column whose `B(p, 0)` is the same
        // element for every `p` (`rsb == 0`), so the row sums run in the vector kernel
        // chosen at run time (a 256-output layer at batch 32: measured ~1.75 -> ~0.5 µs
        // in a default build, whose static loop gets SSE2 only). Multiplying by one and
        // adding is exact; the result differs from the loop below only in rounding: the
        // sums run in another order and α scales the sum once instead of every term.
        let one = <T as Scalar>::from_f64(1.0);
        let g = Gemm {
            m: O,
            n: 1,
            k: B,
            a: dy.as_slice().as_ptr(),
            lda: O,
            b: &one,
            rsb: 0,
            csb: 1,
            c: db.as_mut_slice().as_mut_ptr(),
            ldc: O,
            init: if accumulate { Init::Acc } else { Init::Zero },
            relu: false,
            alpha,
        };
        // SAFETY: A(i, p) = dy[i + p·O] for i < O, p < B is inside dy's O·B elements;
        // B(p, 0) = one for every p; C(i, 0) = db[i], i < O, inside db, a unique borrow
        // that overlaps neither; csb == 1.
        unsafe { run(&Op::Gemm(g)) }
        return;
    }
    let dy = dy.as_slice();
    let db = db.as_mut_slice();
    if !accumulate {
        db.fill(<T as Scalar>::from_f64(0.0));
    }
    let one = <T as Scalar>::from_f64(1.0);
    if alpha == one {
        for j in 0..B {
            for (d, &g) in db.iter_mut().zip(&dy[j * O..(j + 1) * O]) {
                *d += g;
            }
        }
    } else {
        for j in 0..B {
            for (d, &g) in db.iter_mut().zip(&dy[j * O..(j + 1) * O]) {
                *d += alpha * g;
            }
        }
    }
}
