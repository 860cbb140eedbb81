//! A thin vector abstraction over the instruction sets the kernels use.
//!
//! Each implementation is a zero-sized marker type. The AVX-512 and AVX2 ones wrap
//! `core::arch` intrinsics; their methods carry `#[target_feature]`, so they may only be
//! called (and are only inlined) inside a function compiled with the same features,
//! entered after a run-time check (`is_x86_feature_detected!`). The portable one works on
//! small arrays the compiler vectorises for the baseline target (SSE2, NEON).
//!
//! Memory contract of every method: `load`/`store` touch exactly `LANES` consecutive
//! elements from the pointer; `load_m`/`store_m` touch only the first `n` elements, where
//! `n` is the count the mask was built from (`mask(n)`, `1 <= n <= LANES`).

use crate::scalar::Scalar;

/// One instruction set for one element type.
pub(crate) trait Simd: Copy {
    /// The element type.
    type T: Scalar;
    /// A vector of `LANES` elements.
    type V: Copy;
    /// A lane mask built by [`Simd::mask`].
    type M: Copy;
    /// The number of elements in a vector.
    const LANES: usize;
    /// Whether [`fma`](Simd::fma) and scalar `mul_add` are single instructions here.
    const FMA: bool;
    /// Vector registers of the instruction set (32 with AVX-512, 16 with AVX2 and SSE2):
    /// how many vectors a kernel may keep live without spilling.
    const REGS: usize;
    /// Whether this is an AVX-512 type (the element functions then take explicit AVX-512
    /// vectors too: see `vmath::apply_avx512`).
    const AVX512: bool = false;

    /// All lanes zero.
    unsafe fn zero() -> Self::V;
    /// All lanes `x`.
    unsafe fn splat(x: Self::T) -> Self::V;
    /// Loads `LANES` elements from `p` (any alignment).
    unsafe fn load(p: *const Self::T) -> Self::V;
    /// Stores `LANES` elements to `p` (any alignment).
    unsafe fn store(p: *mut Self::T, v: Self::V);
    /// A mask selecting the first `n` lanes, `1 <= n <= LANES`.
    unsafe fn mask(n: usize) -> Self::M;
    /// Loads the masked lanes, zero elsewhere; reads only the masked elements.
    unsafe fn load_m(p: *const Self::T, m: Self::M) -> Self::V;
    /// Stores the masked lanes; writes only the masked elements.
    unsafe fn store_m(p: *mut Self::T, m: Self::M, v: Self::V);
    /// `a * b + c`, fused where the instruction set has it.
    unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `a + b`.
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    /// `a * b`.
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    /// Lane-wise maximum (used for the ReLU epilogue with `b = 0`).
    unsafe fn max(a: Self::V, b: Self::V) -> Self::V;
    /// The sum of all lanes.
    unsafe fn reduce(v: Self::V) -> Self::T;
    /// `v · (g > 0 ? 1 : 0)` lane-wise: the ReLU gate of a gradient `v` by the ReLU's
    /// output `g`, as a product so that non-finite gradients stay non-finite, exactly as
    /// [`Relu`](crate::activation::Relu)'s backward pass computes it.
    unsafe fn gate(v: Self::V, g: Self::V) -> Self::V;

    /// The `LANES × LANES` transpose of the first `LANES` vectors of `x` (vector `c`,
    /// lane `r` goes to vector `r`, lane `c`); the other vectors are unspecified.
    unsafe fn transpose(x: [Self::V; 16]) -> [Self::V; 16];
}

/// The index vectors of one stage of a butterfly transpose of `N × N` elements with
/// two-source permutes: stage `s` swaps bit `s` of the row and lane numbers. Rows `i`
/// and `i + h` (`h = 2^s`, bit `s` of `i` clear) become `permute(row i, lo, row i+h)` and
/// `permute(row i, hi, row i+h)`, where index `N + x` selects lane `x` of the second
/// source.
#[cfg(target_arch = "x86_64")]
const fn butterfly<const N: usize>(s: u32) -> [[i64; N]; 2] {
    let h = 1usize << s;
    let (mut lo, mut hi) = ([0i64; N], [0i64; N]);
    let mut l = 0;
    while l < N {
        if l & h == 0 {
            lo[l] = l as i64;
            hi[l] = (l + h) as i64;
        } else {
            lo[l] = (N + l - h) as i64;
            hi[l] = (N + l) as i64;
        }
        l += 1;
    }
    [lo, hi]
}

/// [`butterfly`] as 32-bit indices (for permutes of 32-bit lanes).
#[cfg(target_arch = "x86_64")]
const fn butterfly32<const N: usize>(s: u32) -> [[i32; N]; 2] {
    let b = butterfly::<N>(s);
    let mut out = [[0i32; N]; 2];
    let mut l = 0;
    while l < N {
        out[0][l] = b[0][l] as i32;
        out[1][l] = b[1][l] as i32;
        l += 1;
    }
    out
}

/// `v · (g > 0 ? 1 : 0)`: [`Simd::gate`] on one element.
#[inline(always)]
pub(crate) fn gate_scalar<T: Scalar>(v: T, g: T) -> T {
    let one = <T as Scalar>::from_f64(1.0);
    let zero = <T as Scalar>::from_f64(0.0);
    v * if g > zero { one } else { zero }
}

/// Portable vectors of `N` elements: plain arrays the compiler vectorises.
#[derive(Clone, Copy)]
pub(crate) struct Portable<T, const N: usize>(core::marker::PhantomData<T>);

#[inline(always)]
fn mul_add<T: Scalar>(a: T, b: T, c: T) -> T {
    // Fused only where the baseline target has an FMA instruction; elsewhere `mul_add`
    // would call a slow software routine.
    #[cfg(target_arch = "aarch64")]
    {
        a.mul_add(b, c)
    }
    #[cfg(not(target_arch = "aarch64"))]
    {
        a * b + c
    }
}

impl<T: Scalar, const N: usize> Simd for Portable<T, N> {
    type T = T;
    type V = [T; N];
    type M = usize;
    const LANES: usize = N;
    const FMA: bool = cfg!(target_arch = "aarch64");
    // One `[T; N]` of 4 lanes is one SSE2 / NEON register; 16 is the smaller file.
    const REGS: usize = 16;

    #[inline(always)]
    unsafe fn zero() -> [T; N] {
        [<T as Scalar>::from_f64(0.0); N]
    }
    #[inline(always)]
    unsafe fn splat(x: T) -> [T; N] {
        [x; N]
    }
    #[inline(always)]
    unsafe fn load(p: *const T) -> [T; N] {
        // SAFETY: the caller guarantees `N` readable elements at `p`; `read_unaligned`
        // has no alignment requirement beyond that of `T`, which `p` has.
        unsafe { core::ptr::read_unaligned(p as *const [T; N]) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut T, v: [T; N]) {
        // SAFETY: the caller guarantees `N` writable elements at `p`.
        unsafe { core::ptr::write_unaligned(p as *mut [T; N], v) }
    }
    #[inline(always)]
    unsafe fn mask(n: usize) -> usize {
        n
    }
    #[inline(always)]
    unsafe fn load_m(p: *const T, m: usize) -> [T; N] {
        let mut v = [<T as Scalar>::from_f64(0.0); N];
        for (i, x) in v.iter_mut().enumerate().take(m) {
            // SAFETY: `i < m`, and the caller guarantees `m` readable elements at `p`.
            *x = unsafe { *p.add(i) };
        }
        v
    }
    #[inline(always)]
    unsafe fn store_m(p: *mut T, m: usize, v: [T; N]) {
        for (i, x) in v.iter().enumerate().take(m) {
            // SAFETY: `i < m`, and the caller guarantees `m` writable elements at `p`.
            unsafe { *p.add(i) = *x };
        }
    }
    #[inline(always)]
    unsafe fn fma(a: [T; N], b: [T; N], c: [T; N]) -> [T; N] {
        let mut r = c;
        for i in 0..N {
            r[i] = mul_add(a[i], b[i], c[i]);
        }
        r
    }
    #[inline(always)]
    unsafe fn add(a: [T; N], b: [T; N]) -> [T; N] {
        let mut r = a;
        for i in 0..N {
            r[i] = a[i] + b[i];
        }
        r
    }
    #[inline(always)]
    unsafe fn mul(a: [T; N], b: [T; N]) -> [T; N] {
        let mut r = a;
        for i in 0..N {
            r[i] = a[i] * b[i];
        }
        r
    }
    #[inline(always)]
    unsafe fn max(a: [T; N], b: [T; N]) -> [T; N] {
        let mut r = a;
        for i in 0..N {
            r[i] = if a[i] > b[i] { a[i] } else { b[i] };
        }
        r
    }
    #[inline(always)]
    unsafe fn reduce(v: [T; N]) -> T {
        let mut s = <T as Scalar>::from_f64(0.0);
        for x in v {
            s += x;
        }
        s
    }
    #[inline(always)]
    unsafe fn gate(v: [T; N], g: [T; N]) -> [T; N] {
        let mut r = v;
        for i in 0..N {
            r[i] = gate_scalar(v[i], g[i]);
        }
        r
    }
    #[inline(always)]
    unsafe fn transpose(x: [[T; N]; 16]) -> [[T; N]; 16] {
        let mut y = x;
        for (c, xc) in x.iter().enumerate().take(N) {
            for (r, v) in xc.iter().enumerate() {
                y[r][c] = *v;
            }
        }
        y
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::*;

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{butterfly, butterfly32, Simd};
    use core::arch::x86_64::*;

    /// AVX-512F, `f32` (16 lanes).
    #[derive(Clone, Copy)]
    pub(crate) struct V4F32;
    /// AVX-512F, `f64` (8 lanes).
    #[derive(Clone, Copy)]
    pub(crate) struct V4F64;
    /// AVX2 + FMA, `f32` (8 lanes).
    #[derive(Clone, Copy)]
    pub(crate) struct V3F32;
    /// AVX2 + FMA, `f64` (4 lanes).
    #[derive(Clone, Copy)]
    pub(crate) struct V3F64;

    // SAFETY (all methods below): every intrinsic is available because each method is
    // compiled with the instruction set it uses (`#[target_feature]`) and, by the module
    // contract, only called after the run-time check found that set. Pointer arguments
    // follow the memory contract stated at the top of this file, which the callers prove.
    // Masked AVX-512 and AVX2 loads/stores never touch (nor fault on) masked-off lanes.

    impl Simd for V4F32 {
        type T = f32;
        type V = __m512;
        type M = __mmask16;
        const LANES: usize = 16;
        const FMA: bool = true;
        const REGS: usize = 32;
        const AVX512: bool = true;
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn zero() -> __m512 {
            _mm512_setzero_ps()
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn splat(x: f32) -> __m512 {
            _mm512_set1_ps(x)
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn load(p: *const f32) -> __m512 {
            unsafe { _mm512_loadu_ps(p) }
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn store(p: *mut f32, v: __m512) {
            unsafe { _mm512_storeu_ps(p, v) }
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn mask(n: usize) -> __mmask16 {
            ((1u32 << n) - 1) as __mmask16
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn load_m(p: *const f32, m: __mmask16) -> __m512 {
            unsafe { _mm512_maskz_loadu_ps(m, p) }
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn store_m(p: *mut f32, m: __mmask16, v: __m512) {
            unsafe { _mm512_mask_storeu_ps(p, m, v) }
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn fma(a: __m512, b: __m512, c: __m512) -> __m512 {
            _mm512_fmadd_ps(a, b, c)
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn add(a: __m512, b: __m512) -> __m512 {
            _mm512_add_ps(a, b)
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn mul(a: __m512, b: __m512) -> __m512 {
            _mm512_mul_ps(a, b)
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn max(a: __m512, b: __m512) -> __m512 {
            _mm512_max_ps(a, b)
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn reduce(v: __m512) -> f32 {
            _mm512_reduce_add_ps(v)
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn gate(v: __m512, g: __m512) -> __m512 {
            let on = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(g, _mm512_setzero_ps());
            _mm512_mul_ps(v, _mm512_maskz_mov_ps(on, _mm512_set1_ps(1.0)))
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn transpose(x: [__m512; 16]) -> [__m512; 16] {
            // Four butterfly stages of 16 two-source permutes (see `butterfly`), each a
            // function of constant shape, so every vector stays in a register.
            #[inline]
            #[target_feature(enable = "avx512f")]
            fn stage<const S: u32>(x: [__m512; 16]) -> [__m512; 16] {
                let [lo, hi] = const { butterfly32::<16>(S) };
                // SAFETY: each array holds 16 `i32`s, the size of an `__m512i`.
                let (lo, hi) = unsafe {
                    (
                        _mm512_loadu_si512(lo.as_ptr().cast()),
                        _mm512_loadu_si512(hi.as_ptr().cast()),
                    )
                };
                let h = 1usize << S;
                core::array::from_fn(|i| {
                    if i & h == 0 {
                        _mm512_permutex2var_ps(x[i], lo, x[i + h])
                    } else {
                        _mm512_permutex2var_ps(x[i - h], hi, x[i])
                    }
                })
            }
            stage::<3>(stage::<2>(stage::<1>(stage::<0>(x))))
        }
    }

    impl Simd for V4F64 {
        type T = f64;
        type V = __m512d;
        type M = __mmask8;
        const LANES: usize = 8;
        const FMA: bool = true;
        const REGS: usize = 32;
        const AVX512: bool = true;
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn zero() -> __m512d {
            _mm512_setzero_pd()
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn splat(x: f64) -> __m512d {
            _mm512_set1_pd(x)
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn load(p: *const f64) -> __m512d {
            unsafe { _mm512_loadu_pd(p) }
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn store(p: *mut f64, v: __m512d) {
            unsafe { _mm512_storeu_pd(p, v) }
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn mask(n: usize) -> __mmask8 {
            ((1u32 << n) - 1) as __mmask8
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn load_m(p: *const f64, m: __mmask8) -> __m512d {
            unsafe { _mm512_maskz_loadu_pd(m, p) }
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn store_m(p: *mut f64, m: __mmask8, v: __m512d) {
            unsafe { _mm512_mask_storeu_pd(p, m, v) }
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn fma(a: __m512d, b: __m512d, c: __m512d) -> __m512d {
            _mm512_fmadd_pd(a, b, c)
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn add(a: __m512d, b: __m512d) -> __m512d {
            _mm512_add_pd(a, b)
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn mul(a: __m512d, b: __m512d) -> __m512d {
            _mm512_mul_pd(a, b)
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn max(a: __m512d, b: __m512d) -> __m512d {
            _mm512_max_pd(a, b)
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn reduce(v: __m512d) -> f64 {
            _mm512_reduce_add_pd(v)
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn gate(v: __m512d, g: __m512d) -> __m512d {
            let on = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(g, _mm512_setzero_pd());
            _mm512_mul_pd(v, _mm512_maskz_mov_pd(on, _mm512_set1_pd(1.0)))
        }
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn transpose(x: [__m512d; 16]) -> [__m512d; 16] {
            // Three butterfly stages of 8 two-source permutes (as for `f32`).
            #[inline]
            #[target_feature(enable = "avx512f")]
            fn stage<const S: u32>(x: [__m512d; 8]) -> [__m512d; 8] {
                let [lo, hi] = const { butterfly::<8>(S) };
                // SAFETY: each array holds 8 `i64`s, the size of an `__m512i`.
                let (lo, hi) = unsafe {
                    (
                        _mm512_loadu_si512(lo.as_ptr().cast()),
                        _mm512_loadu_si512(hi.as_ptr().cast()),
                    )
                };
                let h = 1usize << S;
                core::array::from_fn(|i| {
                    if i & h == 0 {
                        _mm512_permutex2var_pd(x[i], lo, x[i + h])
                    } else {
                        _mm512_permutex2var_pd(x[i - h], hi, x[i])
                    }
                })
            }
            let y = stage::<2>(stage::<1>(stage::<0>(core::array::from_fn(|i| x[i]))));
            core::array::from_fn(|i| if i < 8 { y[i] } else { x[i] })
        }
    }

    /// The AVX2 mask for the first `n` of `lanes` 32-bit (or, pairwise, 64-bit) lanes.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn mask32(n: usize) -> __m256i {
        let idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), idx)
    }

    impl Simd for V3F32 {
        type T = f32;
        type V = __m256;
        type M = __m256i;
        const LANES: usize = 8;
        const FMA: bool = true;
        const REGS: usize = 16;
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn zero() -> __m256 {
            _mm256_setzero_ps()
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn splat(x: f32) -> __m256 {
            _mm256_set1_ps(x)
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn load(p: *const f32) -> __m256 {
            unsafe { _mm256_loadu_ps(p) }
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn store(p: *mut f32, v: __m256) {
            unsafe { _mm256_storeu_ps(p, v) }
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn mask(n: usize) -> __m256i {
            mask32(n)
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn load_m(p: *const f32, m: __m256i) -> __m256 {
            unsafe { _mm256_maskload_ps(p, m) }
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn store_m(p: *mut f32, m: __m256i, v: __m256) {
            unsafe { _mm256_maskstore_ps(p, m, v) }
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn fma(a: __m256, b: __m256, c: __m256) -> __m256 {
            _mm256_fmadd_ps(a, b, c)
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn add(a: __m256, b: __m256) -> __m256 {
            _mm256_add_ps(a, b)
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn mul(a: __m256, b: __m256) -> __m256 {
            _mm256_mul_ps(a, b)
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn max(a: __m256, b: __m256) -> __m256 {
            _mm256_max_ps(a, b)
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn reduce(v: __m256) -> f32 {
            let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
            let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
            let s = _mm_add_ss(s, _mm_shuffle_ps::<1>(s, s));
            _mm_cvtss_f32(s)
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn gate(v: __m256, g: __m256) -> __m256 {
            let on = _mm256_cmp_ps::<_CMP_GT_OQ>(g, _mm256_setzero_ps());
            _mm256_mul_ps(v, _mm256_and_ps(on, _mm256_set1_ps(1.0)))
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn transpose(x: [__m256; 16]) -> [__m256; 16] {
            // Pairs interleaved, then pairs of pairs, then the 128-bit halves exchanged.
            let t = [
                _mm256_unpacklo_ps(x[0], x[1]),
                _mm256_unpackhi_ps(x[0], x[1]),
                _mm256_unpacklo_ps(x[2], x[3]),
                _mm256_unpackhi_ps(x[2], x[3]),
                _mm256_unpacklo_ps(x[4], x[5]),
                _mm256_unpackhi_ps(x[4], x[5]),
                _mm256_unpacklo_ps(x[6], x[7]),
                _mm256_unpackhi_ps(x[6], x[7]),
            ];
            let u = [
                _mm256_shuffle_ps::<0x44>(t[0], t[2]),
                _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
                _mm256_shuffle_ps::<0x44>(t[1], t[3]),
                _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
                _mm256_shuffle_ps::<0x44>(t[4], t[6]),
                _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
                _mm256_shuffle_ps::<0x44>(t[5], t[7]),
                _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
            ];
            let mut y = x;
            y[0] = _mm256_permute2f128_ps::<0x20>(u[0], u[4]);
            y[1] = _mm256_permute2f128_ps::<0x20>(u[1], u[5]);
            y[2] = _mm256_permute2f128_ps::<0x20>(u[2], u[6]);
            y[3] = _mm256_permute2f128_ps::<0x20>(u[3], u[7]);
            y[4] = _mm256_permute2f128_ps::<0x31>(u[0], u[4]);
            y[5] = _mm256_permute2f128_ps::<0x31>(u[1], u[5]);
            y[6] = _mm256_permute2f128_ps::<0x31>(u[2], u[6]);
            y[7] = _mm256_permute2f128_ps::<0x31>(u[3], u[7]);
            y
        }
    }

    impl Simd for V3F64 {
        type T = f64;
        type V = __m256d;
        type M = __m256i;
        const LANES: usize = 4;
        const FMA: bool = true;
        const REGS: usize = 16;
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn zero() -> __m256d {
            _mm256_setzero_pd()
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn splat(x: f64) -> __m256d {
            _mm256_set1_pd(x)
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn load(p: *const f64) -> __m256d {
            unsafe { _mm256_loadu_pd(p) }
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn store(p: *mut f64, v: __m256d) {
            unsafe { _mm256_storeu_pd(p, v) }
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn mask(n: usize) -> __m256i {
            // Each 64-bit lane is selected by its sign bit: duplicate the 32-bit mask of
            // the lane's index into both halves.
            let m = mask32(n);
            _mm256_permutevar8x32_epi32(m, _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3))
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn load_m(p: *const f64, m: __m256i) -> __m256d {
            unsafe { _mm256_maskload_pd(p, m) }
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn store_m(p: *mut f64, m: __m256i, v: __m256d) {
            unsafe { _mm256_maskstore_pd(p, m, v) }
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn fma(a: __m256d, b: __m256d, c: __m256d) -> __m256d {
            _mm256_fmadd_pd(a, b, c)
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn add(a: __m256d, b: __m256d) -> __m256d {
            _mm256_add_pd(a, b)
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn mul(a: __m256d, b: __m256d) -> __m256d {
            _mm256_mul_pd(a, b)
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn max(a: __m256d, b: __m256d) -> __m256d {
            _mm256_max_pd(a, b)
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn reduce(v: __m256d) -> f64 {
            let s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd::<1>(v));
            let s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
            _mm_cvtsd_f64(s)
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn gate(v: __m256d, g: __m256d) -> __m256d {
            let on = _mm256_cmp_pd::<_CMP_GT_OQ>(g, _mm256_setzero_pd());
            _mm256_mul_pd(v, _mm256_and_pd(on, _mm256_set1_pd(1.0)))
        }
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn transpose(x: [__m256d; 16]) -> [__m256d; 16] {
            // Pairs interleaved, then the 128-bit halves exchanged.
            let t = [
                _mm256_unpacklo_pd(x[0], x[1]),
                _mm256_unpackhi_pd(x[0], x[1]),
                _mm256_unpacklo_pd(x[2], x[3]),
                _mm256_unpackhi_pd(x[2], x[3]),
            ];
            let mut y = x;
            y[0] = _mm256_permute2f128_pd::<0x20>(t[0], t[2]);
            y[1] = _mm256_permute2f128_pd::<0x20>(t[1], t[3]);
            y[2] = _mm256_permute2f128_pd::<0x31>(t[0], t[2]);
            y[3] = _mm256_permute2f128_pd::<0x31>(t[1], t[3]);
            y
        }
    }
}
