//! Vectorisable `exp`, `tanh` and the logistic sigmoid over slices, for the activations.
//!
//! Each element function is written once over `Arith`, branch-free (selects, bit casts,
//! no float-to-int conversion instructions the baseline lacks): on scalars, so the
//! compiler vectorises the slice loops (compiled for AVX2+FMA and for the baseline), and on
//! explicit AVX-512 vectors (a build tuned for a CPU that prefers 256-bit vectors, as
//! `-C target-cpu=native` is on many Intel parts, vectorises those loops at half width:
//! measured 2-3x slower). The instruction set is chosen at run time; all paths compute
//! bitwise the same results.
//!
//! Accuracy against the standard library, measured by the tests over ~2 million points
//! in [-100, 100] plus special values: see the constants `*_MAX_ERR` in the tests.
//! * `exp`: range reduction `x = n ln2 + r`, `|r| <= ln2/2`, with a two-part `ln2`; a
//!   Taylor polynomial (degree 7 for `f32`, 13 for `f64`, truncation below 1e-8 / 5e-18
//!   relative); scaling by `2^n` as two exact powers of two (so subnormal and infinite
//!   results come out right).
//! * `tanh`: for `|x| < 0.3` its Taylor series (6 / 12 terms, truncation below 2e-9 /
//!   5e-18 relative); else `sign(x)·(1 - 2/(e^{2|x|} + 1))`, where the cancellation
//!   amplifies the error of `exp` at most 2.5 times.
//! * sigmoid: `1/(1 + e^{-|x|})`, mirrored for negative `x`.
//!
//! NaN in gives NaN out; infinities give the limits.

// The f64 coefficients are shared by both types as literals; f32 rounds them.
#![allow(clippy::excessive_precision)]

use crate::scalar::Scalar;
use core::any::TypeId;

/// The element functions for one float type. `F`: whether `a·b + c` is one fused
/// multiply-add (for code compiled where the instruction set has one: otherwise
/// `mul_add` would call a slow software routine).
pub(crate) trait VMath: Copy + 'static {
    fn exp_f<const F: bool>(self) -> Self;
    fn tanh_f<const F: bool>(self) -> Self;
    fn sigmoid_f<const F: bool>(self) -> Self;
    /// [`exp_f`](Self::exp_f) without fused multiply-adds.
    #[cfg(test)]
    #[inline(always)]
    fn exp(self) -> Self {
        self.exp_f::<false>()
    }
    /// [`tanh_f`](Self::tanh_f) without fused multiply-adds.
    #[cfg(test)]
    #[inline(always)]
    fn tanh(self) -> Self {
        self.tanh_f::<false>()
    }
    /// [`sigmoid_f`](Self::sigmoid_f) without fused multiply-adds.
    #[cfg(test)]
    #[inline(always)]
    fn sigmoid(self) -> Self {
        self.sigmoid_f::<false>()
    }
}

/// The constants of the element functions for one float type.
trait Consts: Copy + 'static {
    /// `1.5·2^mantissa bits`: adding and subtracting it rounds to an integer.
    const MAGIC: Self;
    const LOG2_E: Self;
    /// `exp` clamps its argument to `[LO, HI]` (beyond, the result is 0 or infinite).
    const LO: Self;
    const HI: Self;
    /// `ln 2 = LN2_HI + LN2_LO`, `LN2_HI` with few significant bits.
    const LN2_HI: Self;
    const LN2_LO: Self;
    /// `exp`'s Taylor coefficients `1/k!`, highest power first.
    const EXP_POLY: &'static [Self];
    /// `tanh`'s odd Taylor series `x·(1 + x²·(...))`, highest power first.
    const TANH_POLY: &'static [Self];
    const ZERO: Self;
    const HALF: Self;
    const ONE: Self;
    const TWO: Self;
    /// Below this `|x|`, `tanh` takes its Taylor series.
    const TANH_SMALL: Self;
    /// `tanh` clamps `|x|` to this: beyond it `1 - 2/(e^{2|x|} + 1)` rounds to 1 (f32:
    /// from `|x| ≈ 9.01`, f64: from `≈ 19.06`), and `e^{2|x|}` needs one power of two.
    const TANH_MAX: Self;
    /// `2·log2(e)`.
    const TWO_LOG2_E: Self;
}

/// What the element functions are written in: one scalar (the slice loops the compiler
/// vectorises) or one explicit vector of them (AVX-512, which builds for a CPU tuned to
/// prefer 256-bit vectors, `-C target-cpu=native` on many Intel parts, would otherwise
/// vectorise at half width). Each operation is the same IEEE operation in both, so every
/// path computes bitwise the same results.
///
/// SAFETY contract of every method: the instruction set of the implementing type is
/// enabled in the caller (nothing for the scalars).
trait Arith: Copy {
    type S: Consts;
    /// All lanes `s`.
    unsafe fn k(s: Self::S) -> Self;
    unsafe fn add(self, b: Self) -> Self;
    unsafe fn sub(self, b: Self) -> Self;
    unsafe fn mul(self, b: Self) -> Self;
    unsafe fn div(self, b: Self) -> Self;
    /// `self·b + c`, fused when `F`.
    unsafe fn madd<const F: bool>(self, b: Self, c: Self) -> Self;
    unsafe fn neg(self) -> Self;
    unsafe fn abs(self) -> Self;
    /// The magnitude of `self` with the sign of `sign`.
    unsafe fn copysign(self, sign: Self) -> Self;
    /// `if self < b { t } else { f }` (NaN compares false).
    unsafe fn lt_select(self, b: Self, t: Self, f: Self) -> Self;
    /// `if self >= b { t } else { f }` (NaN compares false).
    unsafe fn ge_select(self, b: Self, t: Self, f: Self) -> Self;
    /// `2^h` from `self = h + MAGIC` for an integral `h` in the normal exponent range:
    /// the integer in the low mantissa bits moved into the exponent field.
    unsafe fn pow2_of_magic(self) -> Self;
}

/// `Σ c[n-1-k]·r^k` for coefficients `c` listed highest power first (at most 16), by
/// Estrin's scheme: pairs `c_k + c_{k+1}·r`, then pairs of those with `r²`, then with
/// `r⁴`, `r⁸`: a tree of depth log2(degree) rather than Horner's chain of `degree`
/// dependent multiply-adds, for the latency of one short call.
// Inlined in optimised builds; separate frames in debug builds, whose unoptimised stack
// slots would otherwise add up in the kernel entry points (see `STACK` in kernels).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
unsafe fn estrin<A: Arith, const F: bool>(c: &'static [A::S], r: A) -> A {
    let n = c.len();
    debug_assert!(n <= 16);
    // (Loops over arrays rather than closures: a closure is not always inlined, and then
    // each vector coefficient pair is a call.)
    // SAFETY (all arithmetic): the caller's instruction-set contract.
    unsafe {
        // a[k]: the coefficient of r^k (zero beyond the polynomial's degree).
        let mut a = [A::k(A::S::ZERO); 16];
        for (k, ak) in a.iter_mut().enumerate().take(n) {
            *ak = A::k(c[n - 1 - k]);
        }
        let r2 = r.mul(r);
        let r4 = r2.mul(r2);
        // Terms of 2, 4 and 8 coefficients: as many as the degree needs (one term of 8
        // up to degree 7, two beyond).
        let octs = if n <= 8 { 1 } else { 2 };
        let mut pair = [a[0]; 8];
        for (k, p) in pair.iter_mut().enumerate().take(4 * octs) {
            *p = a[2 * k + 1].madd::<F>(r, a[2 * k]);
        }
        let mut quad = [a[0]; 4];
        for (k, q) in quad.iter_mut().enumerate().take(2 * octs) {
            *q = pair[2 * k + 1].madd::<F>(r2, pair[2 * k]);
        }
        let oct0 = quad[1].madd::<F>(r4, quad[0]);
        if octs == 1 {
            oct0
        } else {
            let r8 = r4.mul(r4);
            let oct1 = quad[3].madd::<F>(r4, quad[2]);
            oct1.madd::<F>(r8, oct0)
        }
    }
}

/// `e^r` for `r = x - n·ln2` (`n` integral, `|r| <= ln2/2`): the reduction, exact in its
/// high part (`n·ln2_hi` has few significant bits), then `exp`'s polynomial.
// Inlined in optimised builds; separate frames in debug builds, whose unoptimised stack
// slots would otherwise add up in the kernel entry points (see `STACK` in kernels).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
unsafe fn exp_poly<A: Arith, const F: bool>(n: A, x: A) -> A {
    // SAFETY (all arithmetic): the caller's instruction-set contract.
    unsafe {
        let r = n
            .neg()
            .madd::<F>(A::k(A::S::LN2_LO), n.neg().madd::<F>(A::k(A::S::LN2_HI), x));
        estrin::<A, F>(A::S::EXP_POLY, r)
    }
}

/// `e^x`: range reduction `x = n ln2 + r`, the Taylor polynomial of `e^r`, then `2^n`.
// Inlined in optimised builds; separate frames in debug builds, whose unoptimised stack
// slots would otherwise add up in the kernel entry points (see `STACK` in kernels).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
unsafe fn exp_g<A: Arith, const F: bool>(x: A) -> A {
    // SAFETY (all arithmetic): the caller's instruction-set contract.
    unsafe {
        let k = A::k;
        let magic = k(A::S::MAGIC);
        let x = x.lt_select(k(A::S::LO), k(A::S::LO), x);
        let x = k(A::S::HI).lt_select(x, k(A::S::HI), x);
        // n = round(x / ln2), exact small integer, by the add-magic trick.
        let n = x.mul(k(A::S::LOG2_E)).add(magic).sub(magic);
        let p = exp_poly::<A, F>(n, x);
        // 2^n = 2^h1 · 2^h2 with h1 = round(n/2), both in the normal range (so subnormal
        // and infinite results come out right).
        let h1 = n.mul(k(A::S::HALF)).add(magic).sub(magic);
        let h2 = n.sub(h1);
        p.mul(h1.add(magic).pow2_of_magic())
            .mul(h2.add(magic).pow2_of_magic())
    }
}

/// `tanh x`: its Taylor series for small `|x|`, else `sign(x)·(1 - 2/(e^{2|x|} + 1))`.
// Inlined in optimised builds; separate frames in debug builds, whose unoptimised stack
// slots would otherwise add up in the kernel entry points (see `STACK` in kernels).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
unsafe fn tanh_g<A: Arith, const F: bool>(x: A) -> A {
    // SAFETY (all arithmetic): the caller's instruction-set contract.
    unsafe {
        let k = A::k;
        let a = x.abs();
        let z = a.mul(a);
        let c = A::S::TANH_POLY;
        let mut s = k(c[0]);
        for &ck in &c[1..] {
            s = s.madd::<F>(z, k(ck));
        }
        let small = a.mul(z).madd::<F>(s, a);
        // e^{2|x|} for 0 <= 2|x| <= 2·TANH_MAX (NaN stays NaN): `exp_g`'s reduction and
        // polynomial, without its clamps and split power of two (the result is never
        // subnormal or infinite), and `n` from `|x|` directly; a shorter dependency chain
        // than `exp_g(2|x|)`, which dominates a short layer's activation.
        let c = k(A::S::TANH_MAX).lt_select(a, k(A::S::TANH_MAX), a);
        let magic = k(A::S::MAGIC);
        let n = c.mul(k(A::S::TWO_LOG2_E)).add(magic).sub(magic);
        let e = exp_poly::<A, F>(n, c.add(c)).mul(n.add(magic).pow2_of_magic());
        let one = k(A::S::ONE);
        let large = one.sub(k(A::S::TWO).div(e.add(one)));
        a.lt_select(k(A::S::TANH_SMALL), small, large).copysign(x)
    }
}

/// The logistic sigmoid: `1/(1 + e^{-|x|})`, mirrored for negative `x`.
// Inlined in optimised builds; separate frames in debug builds, whose unoptimised stack
// slots would otherwise add up in the kernel entry points (see `STACK` in kernels).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
unsafe fn sigmoid_g<A: Arith, const F: bool>(x: A) -> A {
    // SAFETY (all arithmetic): the caller's instruction-set contract.
    unsafe {
        let e = exp_g::<A, F>(x.abs().neg());
        let r = A::k(A::S::ONE).div(A::k(A::S::ONE).add(e));
        x.ge_select(A::k(A::S::ZERO), r, e.mul(r))
    }
}

/// `madd` of the scalar [`Arith`]: `a·b + c`, fused when `F`.
macro_rules! madd {
    ($f:ident, $a:expr, $b:expr, $c:expr) => {
        if $f {
            ($a).mul_add($b, $c)
        } else {
            $a * $b + $c
        }
    };
}

macro_rules! impl_vmath {
    ($t:ty, $mant:expr, $bias:expr, $lo:expr, $hi:expr, $ln2_hi:expr, $ln2_lo:expr,
     $exp_poly:expr, $tanh_poly:expr, $tanh_max:expr) => {
        impl Consts for $t {
            const MAGIC: $t = 1.5 * (1u64 << $mant) as $t;
            const LOG2_E: $t = core::f64::consts::LOG2_E as $t;
            const LO: $t = $lo;
            const HI: $t = $hi;
            const LN2_HI: $t = $ln2_hi;
            const LN2_LO: $t = $ln2_lo;
            const EXP_POLY: &'static [$t] = &$exp_poly;
            const TANH_POLY: &'static [$t] = &$tanh_poly;
            const ZERO: $t = 0.0;
            const HALF: $t = 0.5;
            const ONE: $t = 1.0;
            const TWO: $t = 2.0;
            const TANH_SMALL: $t = 0.3;
            const TANH_MAX: $t = $tanh_max;
            const TWO_LOG2_E: $t = 2.0 * core::f64::consts::LOG2_E as $t;
        }

        // SAFETY (all): plain scalar arithmetic, no instruction-set requirement.
        impl Arith for $t {
            type S = $t;
            #[inline(always)]
            unsafe fn k(s: $t) -> $t {
                s
            }
            #[inline(always)]
            unsafe fn add(self, b: $t) -> $t {
                self + b
            }
            #[inline(always)]
            unsafe fn sub(self, b: $t) -> $t {
                self - b
            }
            #[inline(always)]
            unsafe fn mul(self, b: $t) -> $t {
                self * b
            }
            #[inline(always)]
            unsafe fn div(self, b: $t) -> $t {
                self / b
            }
            #[inline(always)]
            unsafe fn madd<const F: bool>(self, b: $t, c: $t) -> $t {
                madd!(F, self, b, c)
            }
            #[inline(always)]
            unsafe fn neg(self) -> $t {
                -self
            }
            #[inline(always)]
            unsafe fn abs(self) -> $t {
                <$t>::abs(self)
            }
            #[inline(always)]
            unsafe fn copysign(self, sign: $t) -> $t {
                <$t>::copysign(self, sign)
            }
            #[inline(always)]
            unsafe fn lt_select(self, b: $t, t: $t, f: $t) -> $t {
                if self < b {
                    t
                } else {
                    f
                }
            }
            #[inline(always)]
            unsafe fn ge_select(self, b: $t, t: $t, f: $t) -> $t {
                if self >= b {
                    t
                } else {
                    f
                }
            }
            #[inline(always)]
            unsafe fn pow2_of_magic(self) -> $t {
                let k = self.to_bits().wrapping_sub(<$t>::MAGIC.to_bits());
                <$t>::from_bits(k.wrapping_add($bias) << $mant)
            }
        }

        impl VMath for $t {
            #[inline(always)]
            fn exp_f<const F: bool>(self) -> $t {
                // SAFETY: scalar arithmetic needs no instruction set.
                unsafe { exp_g::<$t, F>(self) }
            }
            #[inline(always)]
            fn tanh_f<const F: bool>(self) -> $t {
                // SAFETY: as above.
                unsafe { tanh_g::<$t, F>(self) }
            }
            #[inline(always)]
            fn sigmoid_f<const F: bool>(self) -> $t {
                // SAFETY: as above.
                unsafe { sigmoid_g::<$t, F>(self) }
            }
        }
    };
}

impl_vmath!(
    f32,
    23,
    127u32,
    -104.0,
    89.0,
    0.693_359_375,
    -2.121_944_4e-4,
    [
        1.0 / 5040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0
    ],
    [
        -0.008_863_235_529_902_197,
        0.021_869_488_536_155_203,
        -0.053_968_253_968_253_97,
        0.133_333_333_333_333_33,
        -0.333_333_333_333_333_3
    ],
    10.0
);

impl_vmath!(
    f64,
    52,
    1023u64,
    -746.0,
    710.0,
    6.931_471_803_691_238_164_90e-1,
    1.908_214_929_270_587_700_02e-10,
    [
        1.0 / 6_227_020_800.0,
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0
    ],
    [
        -3.927_832_388_331_683e-05,
        9.691_537_956_929_451e-05,
        -0.000_239_129_114_243_552_48,
        0.000_590_027_440_945_586,
        -0.001_455_834_387_051_318_3,
        0.003_592_128_036_572_481,
        -0.008_863_235_529_902_197,
        0.021_869_488_536_155_203,
        -0.053_968_253_968_253_97,
        0.133_333_333_333_333_33,
        -0.333_333_333_333_333_3
    ],
    20.0
);

/// The AVX-512 vectors the element functions run on where that instruction set is
/// present: explicit 512-bit vectors whatever the build's tuning (see [`Arith`]).
#[cfg(target_arch = "x86_64")]
mod zmm {
    use super::super::simd::{Simd, V4F32, V4F64};
    use super::{exp_g, sigmoid_g, tanh_g, Arith, Consts, Fun};
    use core::arch::x86_64::*;

    /// 16 `f32`.
    #[derive(Clone, Copy)]
    pub(super) struct Z32(__m512);
    /// 8 `f64`.
    #[derive(Clone, Copy)]
    pub(super) struct Z64(__m512d);

    /// A vector type with the loads and stores of its [`Simd`] type.
    pub(super) trait Lanes: Arith {
        /// The kernels' vector type of the same registers.
        type Io: Simd<T = Self::S>;
        fn wrap(v: <Self::Io as Simd>::V) -> Self;
        fn unwrap(self) -> <Self::Io as Simd>::V;
    }

    // SAFETY (all methods below): the intrinsics are AVX-512F ones, compiled with that
    // feature and, by the contract of `Arith`, only called where it is enabled (so
    // present).
    /// The lane-wise binary operations of [`Arith`], one intrinsic each.
    macro_rules! zmm_binary {
        ($z:ident: $($name:ident = $intr:ident),*) => {$(
            #[inline]
            #[target_feature(enable = "avx512f")]
            unsafe fn $name(self, b: $z) -> $z {
                $z($intr(self.0, b.0))
            }
        )*};
    }

    macro_rules! zmm_impl {
        ($z:ident, $t:ty, $v:ty, $io:ty,
         set1 = $set1:ident, add = $add:ident, sub = $sub:ident, mul = $mul:ident,
         div = $div:ident, fmadd = $fmadd:ident, cmp = $cmp:ident, blend = $blend:ident,
         castsi = $castsi:ident, casti = $casti:ident, and = $and:ident, or = $or:ident,
         iadd = $iadd:ident, isub = $isub:ident, shl = $shl:ident, seti = $seti:ident,
         mant = $mant:expr, bias = $bias:expr,
         sign = $sign:expr) => {
            impl Arith for $z {
                type S = $t;
                #[inline]
                #[target_feature(enable = "avx512f")]
                unsafe fn k(s: $t) -> $z {
                    $z($set1(s))
                }
                zmm_binary!($z: add = $add, sub = $sub, mul = $mul, div = $div);
                #[inline]
                #[target_feature(enable = "avx512f")]
                unsafe fn madd<const F: bool>(self, b: $z, c: $z) -> $z {
                    if F {
                        $z($fmadd(self.0, b.0, c.0))
                    } else {
                        $z($add($mul(self.0, b.0), c.0))
                    }
                }
                #[inline]
                #[target_feature(enable = "avx512f")]
                unsafe fn neg(self) -> $z {
                    // Flipping the sign bit: exactly `-x`, NaN included.
                    $z($castsi(_mm512_xor_si512($casti(self.0), $seti($sign))))
                }
                #[inline]
                #[target_feature(enable = "avx512f")]
                unsafe fn abs(self) -> $z {
                    $z($castsi($and($casti(self.0), $seti(!$sign))))
                }
                #[inline]
                #[target_feature(enable = "avx512f")]
                unsafe fn copysign(self, sign: $z) -> $z {
                    let mag = $and($casti(self.0), $seti(!$sign));
                    let s = $and($casti(sign.0), $seti($sign));
                    $z($castsi($or(mag, s)))
                }
                #[inline]
                #[target_feature(enable = "avx512f")]
                unsafe fn lt_select(self, b: $z, t: $z, f: $z) -> $z {
                    let m = $cmp::<_CMP_LT_OQ>(self.0, b.0);
                    $z($blend(m, f.0, t.0))
                }
                #[inline]
                #[target_feature(enable = "avx512f")]
                unsafe fn ge_select(self, b: $z, t: $z, f: $z) -> $z {
                    let m = $cmp::<_CMP_GE_OQ>(self.0, b.0);
                    $z($blend(m, f.0, t.0))
                }
                #[inline]
                #[target_feature(enable = "avx512f")]
                unsafe fn pow2_of_magic(self) -> $z {
                    let magic = $casti($set1(<$t as Consts>::MAGIC));
                    let k = $isub($casti(self.0), magic);
                    let e = $iadd(k, $seti($bias));
                    $z($castsi($shl::<$mant>(e)))
                }
            }

            impl Lanes for $z {
                type Io = $io;
                #[inline(always)]
                fn wrap(v: $v) -> $z {
                    $z(v)
                }
                #[inline(always)]
                fn unwrap(self) -> $v {
                    self.0
                }
            }
        };
    }

    zmm_impl!(
        Z32,
        f32,
        __m512,
        V4F32,
        set1 = _mm512_set1_ps,
        add = _mm512_add_ps,
        sub = _mm512_sub_ps,
        mul = _mm512_mul_ps,
        div = _mm512_div_ps,
        fmadd = _mm512_fmadd_ps,
        cmp = _mm512_cmp_ps_mask,
        blend = _mm512_mask_blend_ps,
        castsi = _mm512_castsi512_ps,
        casti = _mm512_castps_si512,
        and = _mm512_and_si512,
        or = _mm512_or_si512,
        iadd = _mm512_add_epi32,
        isub = _mm512_sub_epi32,
        shl = _mm512_slli_epi32,
        seti = _mm512_set1_epi32,
        mant = 23,
        bias = 127,
        sign = i32::MIN
    );
    zmm_impl!(
        Z64,
        f64,
        __m512d,
        V4F64,
        set1 = _mm512_set1_pd,
        add = _mm512_add_pd,
        sub = _mm512_sub_pd,
        mul = _mm512_mul_pd,
        div = _mm512_div_pd,
        fmadd = _mm512_fmadd_pd,
        cmp = _mm512_cmp_pd_mask,
        blend = _mm512_mask_blend_pd,
        castsi = _mm512_castsi512_pd,
        casti = _mm512_castpd_si512,
        and = _mm512_and_si512,
        or = _mm512_or_si512,
        iadd = _mm512_add_epi64,
        isub = _mm512_sub_epi64,
        shl = _mm512_slli_epi64,
        seti = _mm512_set1_epi64,
        mant = 52,
        bias = 1023,
        sign = i64::MIN
    );

    /// `f` over `x` in place, `V::LANES` elements at a time, the last few masked.
    ///
    /// SAFETY contract: AVX-512F is enabled in the caller.
    // Inlined in optimised builds; separate frames in debug builds, whose unoptimised stack
    // slots would otherwise add up in the kernel entry points (see `STACK` in kernels).
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(super) unsafe fn apply<V: Lanes>(f: Fun, x: &mut [V::S]) {
        // SAFETY: the caller's contract.
        unsafe {
            match f {
                Fun::Exp => each::<V, 0>(x),
                Fun::Tanh => each::<V, 1>(x),
                Fun::Sigmoid => each::<V, 2>(x),
            }
        }
    }

    /// Function `K` (0: exp, 1: tanh, 2: sigmoid) of one vector.
    ///
    /// SAFETY contract: AVX-512F is enabled in the caller.
    // Inlined in optimised builds; separate frames in debug builds, whose unoptimised stack
    // slots would otherwise add up in the kernel entry points (see `STACK` in kernels).
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline(always))]
    unsafe fn eval<V: Arith, const K: u8>(v: V) -> V {
        // SAFETY: the caller's contract.
        unsafe {
            match K {
                0 => exp_g::<V, true>(v),
                1 => tanh_g::<V, true>(v),
                _ => sigmoid_g::<V, true>(v),
            }
        }
    }

    /// SAFETY contract: AVX-512F is enabled in the caller.
    // Inlined in optimised builds; separate frames in debug builds, whose unoptimised stack
    // slots would otherwise add up in the kernel entry points (see `STACK` in kernels).
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline(always))]
    unsafe fn each<V: Lanes, const K: u8>(x: &mut [V::S]) {
        let (n, p) = (x.len(), x.as_mut_ptr());
        let l = V::Io::LANES;
        let mut i = 0;
        // SAFETY: AVX-512F by the contract (the instruction set of `V::Io`); the full
        // vectors cover elements `i .. i + l <= n` and the masked last one the
        // `0 < n - i < l` elements from `i`, all inside `x` (the memory contract of
        // `Simd`).
        unsafe {
            while i + l <= n {
                let v = eval::<V, K>(V::wrap(V::Io::load(p.add(i))));
                V::Io::store(p.add(i), v.unwrap());
                i += l;
            }
            if i < n {
                let m = V::Io::mask(n - i);
                let v = eval::<V, K>(V::wrap(V::Io::load_m(p.add(i), m)));
                V::Io::store_m(p.add(i), m, v.unwrap());
            }
        }
    }
}

/// `f` over `x` in place in explicit AVX-512 vectors.
///
/// # Safety
/// AVX-512F must be enabled in the caller (a function compiled with it, entered after
/// the run-time check).
#[cfg(target_arch = "x86_64")]
// Inlined in optimised builds; separate frames in debug builds, whose unoptimised stack
// slots would otherwise add up in the kernel entry points (see `STACK` in kernels).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) unsafe fn apply_avx512<T: 'static>(f: Fun, x: &mut [T]) {
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        // SAFETY: `T` is `f32` (same `TypeId`), so the cast is an identity; AVX-512F by
        // the caller's contract.
        unsafe { zmm::apply::<zmm::Z32>(f, &mut *(x as *mut [T] as *mut [f32])) }
    } else if TypeId::of::<T>() == TypeId::of::<f64>() {
        // SAFETY: `T` is `f64` (same `TypeId`); AVX-512F as above.
        unsafe { zmm::apply::<zmm::Z64>(f, &mut *(x as *mut [T] as *mut [f64])) }
    } else {
        unreachable!("Scalar is sealed: f32 and f64 only")
    }
}

/// Which element function a slice pass applies (named by
/// [`Activation`](crate::activation::Activation) implementations so that a kernel can
/// apply it in the same pass as a product; not part of the stable API).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fun {
    /// `e^x`.
    Exp,
    Tanh,
    Sigmoid,
}

/// Elements per vectorised block: one AVX-512 vector of `f32` (two of `f64`).
const W: usize = 16;

/// `f` over one block of `N`; a fixed-size loop the compiler turns into vector code.
#[inline(always)]
fn block<T: VMath, const N: usize, const F: bool>(f: Fun, b: &mut [T; N]) {
    match f {
        Fun::Exp => b.iter_mut().for_each(|v| *v = v.exp_f::<F>()),
        Fun::Tanh => b.iter_mut().for_each(|v| *v = v.tanh_f::<F>()),
        Fun::Sigmoid => b.iter_mut().for_each(|v| *v = v.sigmoid_f::<F>()),
    }
}

/// `f` over a slice: blocks of `W`, then of 4 (so a layer of 4 or 10 outputs is still
/// vectorised), then element by element. (A zero-padded last block measured slower: the
/// narrow stores that fill it cannot forward to the wide load that reads it.)
#[inline(always)]
fn apply<T: VMath, const F: bool>(f: Fun, x: &mut [T]) {
    let mut chunks = x.chunks_exact_mut(W);
    for c in &mut chunks {
        let b: &mut [T; W] = c.try_into().expect("chunks_exact yields W elements");
        block::<T, W, F>(f, b);
    }
    let mut quads = chunks.into_remainder().chunks_exact_mut(4);
    for c in &mut quads {
        let b: &mut [T; 4] = c.try_into().expect("chunks_exact yields 4 elements");
        block::<T, 4, F>(f, b);
    }
    for v in quads.into_remainder() {
        let b: &mut [T; 1] = core::slice::from_mut(v).try_into().expect("one element");
        block::<T, 1, F>(f, b);
    }
}

/// Whether the baseline target has a fused multiply-add instruction.
const BASELINE_FMA: bool = cfg!(any(target_arch = "aarch64", target_feature = "fma"));

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{apply, softmax_col, Fun, Scalar, VMath};
    // SAFETY (all): callers check the named features at run time first; the bodies are
    // safe code.
    #[target_feature(enable = "avx512f,fma")]
    pub(super) unsafe fn v4<T: VMath>(f: Fun, x: &mut [T]) {
        // SAFETY: AVX-512F is enabled here.
        unsafe { super::apply_avx512(f, x) }
    }
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn v3<T: VMath>(f: Fun, x: &mut [T]) {
        apply::<T, true>(f, x)
    }
    #[target_feature(enable = "avx512f,fma")]
    pub(super) unsafe fn softmax_v4<T: VMath + Scalar, const R: usize>(col: &mut [T; R]) {
        softmax_col::<T, R, true, true>(col, 16)
    }
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn softmax_v3<T: VMath + Scalar, const R: usize>(col: &mut [T; R]) {
        softmax_col::<T, R, true, false>(col, 8)
    }
}

/// The vector instruction sets the kernels and element functions are compiled for.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) enum Level {
    /// AVX-512F (with FMA).
    V4,
    /// AVX2 and FMA.
    V3,
    /// The build target's own.
    Baseline,
}

/// The best [`Level`] present on this machine.
#[inline]
pub(crate) fn level() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return Level::V4;
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Level::V3;
        }
    }
    Level::Baseline
}

/// `f` over `x` with the best instruction set present (slices of fewer than 4 elements
/// stay on the baseline target).
#[inline]
fn run<T: VMath>(f: Fun, x: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    if x.len() >= 4 {
        match level() {
            // SAFETY: AVX-512F is present (`level` checked it).
            Level::V4 => return unsafe { x86::v4(f, x) },
            // SAFETY: AVX2 and FMA are present (`level` checked them).
            Level::V3 => return unsafe { x86::v3(f, x) },
            Level::Baseline => {}
        }
    }
    apply::<T, BASELINE_FMA>(f, x)
}

/// Applies `f` in place to a slice of `f32` or `f64`: with `dispatch`, the best
/// instruction set present; without, the baseline target's code inline, without the
/// run-time choice (cheaper for a handful of elements). Always inlined, so a constant
/// `dispatch` leaves only one of the two paths at the call site.
#[inline(always)]
fn map_inplace_on<T: Scalar, const F: bool>(f: Fun, x: &mut [T], dispatch: bool) {
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        // SAFETY: `T` is `f32` (same `TypeId`), so the cast is an identity.
        let x = unsafe { &mut *(x as *mut [T] as *mut [f32]) };
        if dispatch {
            run(f, x)
        } else {
            apply::<f32, F>(f, x)
        }
    } else if TypeId::of::<T>() == TypeId::of::<f64>() {
        // SAFETY: `T` is `f64` (same `TypeId`).
        let x = unsafe { &mut *(x as *mut [T] as *mut [f64]) };
        if dispatch {
            run(f, x)
        } else {
            apply::<f64, F>(f, x)
        }
    } else {
        unreachable!("Scalar is sealed: f32 and f64 only")
    }
}

/// Longest column [`softmax_short`] takes.
pub(crate) const SOFTMAX_SHORT: usize = 16;

/// Reduces the first `N` (`0 < N <= SOFTMAX_SHORT`) elements of `v` pairwise,
/// `f(v[k], v[n - h + k])`, down to one: for a constant `N` the compiler unrolls it into
/// `log2(N)` dependent steps.
#[inline(always)]
fn tree_reduce<T: Copy, const N: usize>(v: &[T; SOFTMAX_SHORT], f: impl Fn(T, T) -> T) -> T {
    let mut a = *v;
    let mut n = N;
    while n > 1 {
        let h = n / 2;
        // Pairs (k, n-h+k) for k < h; an odd middle element stays for the next round.
        for k in 0..h {
            a[k] = f(a[k], a[n - h + k]);
        }
        n -= h;
    }
    a[0]
}

/// The softmax of one column of `R` (`0 < R <= SOFTMAX_SHORT`) in place, on a copy padded
/// to a whole number of blocks of `block` elements (a vector of the instruction set: no
/// exponential takes a one-at-a-time tail; the padding is never read).
/// (In place, the narrow stores of one step and the wide loads of the next cannot be
/// forwarded, which measured slower than the arithmetic.) `Z`: the caller has enabled
/// AVX-512F, and the exponentials are explicit vectors of it.
#[inline(always)]
fn softmax_col<T, const R: usize, const F: bool, const Z: bool>(col: &mut [T; R], block: usize)
where
    T: VMath + Scalar,
{
    let mut buf = [T::zero(); SOFTMAX_SHORT];
    buf[..R].copy_from_slice(col);
    // Maximum and sum as trees: log2(R) dependent steps instead of R.
    let m = tree_reduce::<T, R>(&buf, |a, b| if b > a { b } else { a });
    let padded = R.next_multiple_of(block).min(SOFTMAX_SHORT);
    let shifted = &mut buf[..padded];
    shifted.iter_mut().for_each(|e| *e -= m);
    #[cfg(target_arch = "x86_64")]
    if Z {
        // SAFETY: `Z`: the caller has enabled AVX-512F.
        unsafe { apply_avx512(Fun::Exp, shifted) };
    }
    if !Z || cfg!(not(target_arch = "x86_64")) {
        shifted.iter_mut().for_each(|e| *e = e.exp_f::<F>());
    }
    let s = tree_reduce::<T, R>(&buf, |a, b| a + b);
    let inv = T::one() / s;
    for (o, &e) in col.iter_mut().zip(buf.iter()) {
        *o = e * inv;
    }
}

/// The softmax of one short column (`R <= SOFTMAX_SHORT`; a few classes for one sample)
/// in place: up to four classes in one vector of the baseline target, in line; more with
/// the best instruction set present (with AVX-512 the padded column is one vector of
/// exponentials (f32), with fused multiply-adds).
#[inline]
pub(crate) fn softmax_short<T: Scalar, const R: usize>(col: &mut [T; R]) {
    // Constant: folded away (a `const` assertion would fail for every longer column
    // whose call is compiled but never taken).
    assert!(R > 0 && R <= SOFTMAX_SHORT, "a short column");
    fn on<T: VMath + Scalar, const R: usize>(col: &mut [T; R]) {
        if R <= 4 {
            // One vector of the baseline target, in line: measured faster in a network
            // (dense(4) then softmax at batch 1: 87 vs 99 ns in a default build, 75 vs
            // 87 ns with target-cpu=native) than a call into the AVX-512 code, whose
            // 16-lane exponential is wasted on four classes. (From ten classes on, the
            // one AVX-512 vector wins with native flags: 58 vs 75 ns.)
            return softmax_col::<T, R, BASELINE_FMA, false>(col, 4);
        }
        #[cfg(target_arch = "x86_64")]
        match level() {
            // SAFETY: AVX-512F is present (`level` checked it).
            Level::V4 => return unsafe { x86::softmax_v4(col) },
            // SAFETY: AVX2 and FMA are present (`level` checked them).
            Level::V3 => return unsafe { x86::softmax_v3(col) },
            Level::Baseline => {}
        }
        softmax_col::<T, R, BASELINE_FMA, false>(col, 4)
    }
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        // SAFETY: `T` is `f32` (same `TypeId`), so the cast is an identity.
        on(unsafe { &mut *(col as *mut [T; R] as *mut [f32; R]) })
    } else if TypeId::of::<T>() == TypeId::of::<f64>() {
        // SAFETY: `T` is `f64` (same `TypeId`).
        on(unsafe { &mut *(col as *mut [T; R] as *mut [f64; R]) })
    } else {
        unreachable!("Scalar is sealed: f32 and f64 only")
    }
}

/// `f` in place, in the code of the caller's instruction set, always inlined (no
/// run-time choice): for kernels that have already chosen theirs. `F`: whether that
/// instruction set has fused multiply-adds.
#[inline(always)]
pub(crate) fn apply_inline<T: Scalar, const F: bool>(f: Fun, x: &mut [T]) {
    map_inplace_on::<T, F>(f, x, false)
}

/// `e^x` in place.
///
/// Slices shorter than [`SHORT_EXP`] (a softmax over a few classes) run the baseline
/// target's code inline, skipping the run-time instruction-set choice.
#[inline]
pub fn exp_inplace<T: Scalar>(x: &mut [T]) {
    map_inplace_on::<T, BASELINE_FMA>(Fun::Exp, x, x.len() >= SHORT_EXP)
}

/// Below this length [`exp_inplace`], [`tanh_inplace`] and [`sigmoid_inplace`] do not
/// choose an instruction set at run time.
pub const SHORT_EXP: usize = 8;
/// `tanh x` in place.
///
/// ```
/// let mut v = [0.0f32, 0.5, -3.0];
/// nn_runtime::kernels::vmath::tanh_inplace(&mut v);
/// assert!((v[1] - 0.5f32.tanh()).abs() <= 2.0 * f32::EPSILON);
/// ```
#[inline]
pub fn tanh_inplace<T: Scalar>(x: &mut [T]) {
    map_inplace_on::<T, BASELINE_FMA>(Fun::Tanh, x, x.len() >= SHORT_EXP)
}
/// `1 / (1 + e^-x)` in place.
#[inline]
pub fn sigmoid_inplace<T: Scalar>(x: &mut [T]) {
    map_inplace_on::<T, BASELINE_FMA>(Fun::Sigmoid, x, x.len() >= SHORT_EXP)
}

#[cfg(test)]
mod tests {
    use super::{Fun, VMath};

    /// Distance in units in the last place, measured on the exact (f64 or better) value.
    fn ulps32(got: f32, want: f64) -> f64 {
        if got.is_nan() || want.is_nan() {
            return if got.is_nan() && want.is_nan() {
                0.0
            } else {
                f64::INFINITY
            };
        }
        if got as f64 == want {
            return 0.0;
        }
        let w = want as f32;
        if w.is_infinite() {
            return if got == w { 0.0 } else { f64::INFINITY };
        }
        let ulp = (f32::from_bits(w.abs().to_bits() + 1) - w.abs()).max(f32::from_bits(1)) as f64;
        (got as f64 - want).abs() / ulp
    }

    fn points() -> impl Iterator<Item = f64> {
        let n = 1 << 21;
        (0..=n)
            .map(move |i| -100.0 + 200.0 * i as f64 / n as f64)
            .chain((0..2000).map(|i| (i as f64 - 1000.0) * 1e-3))
            .chain((0..200).map(|i| 1e-30 * 1.5f64.powi(i)))
            .chain([
                0.0, -0.0, 1e-300, 88.0, 88.72, 89.0, -87.3, -103.0, -104.0, 709.7, -745.0, -800.0,
                1e3,
            ])
    }

    /// f32 max error in ulp (against the f64 standard library, which is exact to well
    /// below an f32 ulp).
    const F32_MAX_ULP: f64 = 4.0;
    /// f64 max relative error (against the f64 standard library).
    const F64_MAX_REL: f64 = 1e-15;

    #[test]
    fn f32_accuracy() {
        let mut worst = [0.0f64; 3];
        for x in points() {
            let xf = x as f32;
            let xd = xf as f64;
            let cases = [
                (xf.exp(), xd.exp()),
                (VMath::tanh(xf), xd.tanh()),
                (xf.sigmoid(), 1.0 / (1.0 + (-xd).exp())),
            ];
            // Without and with fused multiply-adds (the vector paths use them).
            let got = [
                VMath::exp(xf),
                VMath::tanh(xf),
                VMath::sigmoid(xf),
                xf.exp_f::<true>(),
                xf.tanh_f::<true>(),
                xf.sigmoid_f::<true>(),
            ];
            for (k, ((_, want), g)) in cases.iter().cycle().zip(got).enumerate() {
                let k = k % 3;
                // Below the normal range, compare absolutely (subnormal results): within
                // two of the smallest subnormal (the polynomial's relative error of ~1e-7
                // plus the final rounding).
                let e = if want.abs() < f32::MIN_POSITIVE as f64 {
                    if (g as f64 - want).abs() <= 2.0 * f32::from_bits(1) as f64 {
                        0.0
                    } else {
                        f64::INFINITY
                    }
                } else {
                    ulps32(g, *want)
                };
                assert!(
                    e <= F32_MAX_ULP,
                    "fn {k} at {xf:e}: got {g:e}, want {want:e} ({e} ulp)"
                );
                worst[k] = worst[k].max(e);
            }
        }
        eprintln!(
            "f32 max ulp: exp {:.2}, tanh {:.2}, sigmoid {:.2}",
            worst[0], worst[1], worst[2]
        );
    }

    #[test]
    fn f64_accuracy() {
        let mut worst = [0.0f64; 3];
        for x in points().chain((0..20000).map(|i| -740.0 + 0.0724 * i as f64)) {
            let want = [
                x.exp(),
                x.tanh(),
                if x >= 0.0 {
                    1.0 / (1.0 + (-x).exp())
                } else {
                    x.exp() / (1.0 + x.exp())
                },
            ];
            let got = [
                VMath::exp(x),
                VMath::tanh(x),
                VMath::sigmoid(x),
                x.exp_f::<true>(),
                x.tanh_f::<true>(),
                x.sigmoid_f::<true>(),
            ];
            for (n, &g) in got.iter().enumerate() {
                let (k, w) = (n % 3, want[n % 3]);
                let e = if w == g {
                    0.0
                } else if w.abs() < f64::MIN_POSITIVE {
                    if (g - w).abs() <= 2.0 * f64::from_bits(1) {
                        0.0
                    } else {
                        f64::INFINITY
                    }
                } else {
                    ((g - w) / w).abs()
                };
                assert!(
                    e <= F64_MAX_REL,
                    "fn {k} at {x:e}: got {g:e}, want {w:e} (rel {e:e})"
                );
                worst[k] = worst[k].max(e);
            }
        }
        eprintln!(
            "f64 max rel: exp {:.2e}, tanh {:.2e}, sigmoid {:.2e}",
            worst[0], worst[1], worst[2]
        );
    }

    #[test]
    fn special_values() {
        assert!(VMath::exp(f32::NAN).is_nan() && VMath::tanh(f64::NAN).is_nan());
        assert!(VMath::sigmoid(f32::NAN).is_nan());
        assert_eq!(VMath::exp(f32::INFINITY), f32::INFINITY);
        assert_eq!(VMath::exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(VMath::tanh(f32::INFINITY), 1.0);
        assert_eq!(VMath::tanh(f64::NEG_INFINITY), -1.0);
        assert_eq!(VMath::sigmoid(f64::NEG_INFINITY), 0.0);
        assert_eq!(VMath::sigmoid(f32::INFINITY), 1.0);
        assert!(VMath::tanh(-0.0f64).is_sign_negative());
    }

    #[test]
    fn slices_match_elements_on_every_path() {
        let xs: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) * 0.037).collect();
        let mut a = xs.clone();
        super::tanh_inplace(&mut a);
        for (x, y) in xs.iter().zip(&a) {
            assert!(ulps32(*y, (*x as f64).tanh()) <= F32_MAX_ULP);
        }
        let mut b: Vec<f64> = xs.iter().map(|&v| v as f64).collect();
        super::exp_inplace(&mut b);
        for (x, y) in xs.iter().zip(&b) {
            assert!(((y - (*x as f64).exp()) / y).abs() <= F64_MAX_REL);
        }
    }

    /// The explicit AVX-512 vectors compute bitwise what the scalar functions (with fused
    /// multiply-adds) do, on every slice length up to three vectors (the masked tails),
    /// over the accuracy test's points and the special values.
    #[test]
    fn avx512_matches_the_scalar_functions_bitwise() {
        #[cfg(target_arch = "x86_64")]
        {
            if !std::arch::is_x86_feature_detected!("avx512f") {
                eprintln!("skipped: no AVX-512F on this machine");
                return;
            }
            fn same<T: VMath + PartialEq + core::fmt::Debug>(got: &[T], want: &[T], what: &str) {
                for (k, (g, w)) in got.iter().zip(want).enumerate() {
                    #[allow(clippy::eq_op)]
                    let both_nan = g != g && w != w;
                    assert!(both_nan || g == w, "{what}, element {k}: {g:?} vs {w:?}");
                }
            }
            let special = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0];
            let xs: Vec<f64> = points().chain(special).collect();
            for f in [Fun::Exp, Fun::Tanh, Fun::Sigmoid] {
                let one32 = |x: f32| match f {
                    Fun::Exp => x.exp_f::<true>(),
                    Fun::Tanh => x.tanh_f::<true>(),
                    Fun::Sigmoid => x.sigmoid_f::<true>(),
                };
                let one64 = |x: f64| match f {
                    Fun::Exp => x.exp_f::<true>(),
                    Fun::Tanh => x.tanh_f::<true>(),
                    Fun::Sigmoid => x.sigmoid_f::<true>(),
                };
                let mut a: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
                let want: Vec<f32> = a.iter().map(|&x| one32(x)).collect();
                // SAFETY: AVX-512F is present (checked above).
                unsafe { super::x86::v4(f, &mut a) };
                same(&a, &want, &format!("{f:?} f32"));
                let mut b = xs.clone();
                let want: Vec<f64> = b.iter().map(|&x| one64(x)).collect();
                // SAFETY: as above.
                unsafe { super::x86::v4(f, &mut b) };
                same(&b, &want, &format!("{f:?} f64"));
                for n in 1..=48 {
                    let mut a: Vec<f32> = xs[..n].iter().map(|&x| x as f32 * 0.37).collect();
                    let want: Vec<f32> = a.iter().map(|&x| one32(x)).collect();
                    let mut b: Vec<f64> = xs[..n].iter().map(|&x| x * 0.37).collect();
                    let want64: Vec<f64> = b.iter().map(|&x| one64(x)).collect();
                    // SAFETY: as above.
                    unsafe {
                        super::x86::v4(f, &mut a);
                        super::x86::v4(f, &mut b);
                    }
                    same(&a, &want, &format!("{f:?} f32, length {n}"));
                    same(&b, &want64, &format!("{f:?} f64, length {n}"));
                }
            }
        }
    }

    /// The short softmax on every instruction set present, every length it takes, against
    /// an f64 reference: shifted so large logits do not overflow, NaN propagated.
    #[test]
    fn short_softmax_on_every_path() {
        fn check<const R: usize>() {
            let logits: [f32; R] = core::array::from_fn(|k| ((k * 7 % 11) as f32 - 5.0) * 3.1);
            for shift in [0.0f32, 80.0, -80.0, 1e30] {
                let x = logits.map(|v| v + shift);
                let m = x.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
                let e: Vec<f64> = x.iter().map(|&v| (v as f64 - m).exp()).collect();
                let sum: f64 = e.iter().sum();
                let mut paths: Vec<[f32; R]> = vec![x, x];
                super::softmax_short(&mut paths[0]);
                super::softmax_col::<f32, R, false, false>(&mut paths[1], 4);
                #[cfg(target_arch = "x86_64")]
                {
                    if std::arch::is_x86_feature_detected!("avx512f") {
                        let mut v = x;
                        // SAFETY: AVX-512F is present.
                        unsafe { super::x86::softmax_v4(&mut v) };
                        paths.push(v);
                    }
                    if std::arch::is_x86_feature_detected!("avx2")
                        && std::arch::is_x86_feature_detected!("fma")
                    {
                        let mut v = x;
                        // SAFETY: AVX2 and FMA are present.
                        unsafe { super::x86::softmax_v3(&mut v) };
                        paths.push(v);
                    }
                }
                for p in &paths {
                    for (k, (&got, &want)) in p.iter().zip(&e).enumerate() {
                        let want = want / sum;
                        let err = (got as f64 - want).abs();
                        // A few ulps, plus the rounding of `x - max` in f32, which `exp`
                        // turns into a relative error of |x - max| ulps.
                        let ulps = 4.0 + (x[k] as f64 - m).abs();
                        assert!(
                            err <= ulps * f32::EPSILON as f64 * want.max(f32::MIN_POSITIVE as f64),
                            "R={R} shift={shift} k={k}: {got} vs {want}"
                        );
                    }
                }
            }
            let mut nan = logits;
            nan[R / 2] = f32::NAN;
            super::softmax_short(&mut nan);
            assert!(nan.iter().all(|v| v.is_nan()), "R={R}: NaN in, NaN out");
            // f64 too.
            let mut d: [f64; R] = logits.map(f64::from);
            super::softmax_short(&mut d);
            assert!((d.iter().sum::<f64>() - 1.0).abs() <= 1e-14 * R as f64);
        }
        check::<1>();
        check::<2>();
        check::<3>();
        check::<4>();
        check::<7>();
        check::<10>();
        check::<16>();
    }
}
