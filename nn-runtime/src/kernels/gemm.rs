//! The register-tiled matrix product behind every dense-layer kernel, written once over
//! [`Simd`] and instantiated per instruction set.
//!
//! `C (m×n) = α·A (m×k) · B (k×n)` (plus what [`Init`] says), where `A(i, p) = a[i + p·lda]`
//! (columns of `A` are contiguous, so vectors run along `i`), `B(p, j) = b[p·rsb + j·csb]`
//! with `rsb == 1` or `csb == 1` (its elements are broadcast one at a time) and
//! `C(i, j) = c[i + j·ldc]`. A tile of `MV` vectors by `NR` columns of `C` stays in
//! registers for the whole `k` loop; nothing is packed. The transposed product of the
//! input gradient goes through two small stack buffers instead (see
//! [`input_grad_packed`]).

use super::simd::{gate_scalar, Simd};
use crate::scalar::Scalar;

/// What the product is added to.
#[derive(Clone, Copy)]
pub(crate) enum Init<T> {
    /// `C = A·B`.
    Zero,
    /// `C += A·B`.
    Acc,
    /// `C = A·B + bias`, `bias(i)` at `ptr[i]` for `i < m`.
    Bias(*const T),
}

impl<T> Init<T> {
    #[inline(always)]
    fn offset(self, i: usize) -> Self {
        match self {
            // SAFETY: callers only offset by a row index `i < m`, and the bias has `m`
            // elements, so the result stays inside (or one past) the bias allocation.
            Init::Bias(p) => Init::Bias(unsafe { p.add(i) }),
            other => other,
        }
    }
}

/// One product. The caller of [`gemm`] guarantees that every element the formulas above
/// name for `i < m`, `j < n`, `p < k` is inside a live allocation (readable for `a`, `b`
/// and `bias`, writable for `c`), that `c` overlaps none of them, and that
/// `rsb == 1 || csb == 1`.
#[derive(Clone, Copy)]
pub(crate) struct Gemm<T> {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub a: *const T,
    pub lda: usize,
    pub b: *const T,
    pub rsb: usize,
    pub csb: usize,
    pub c: *mut T,
    pub ldc: usize,
    pub init: Init<T>,
    pub relu: bool,
    /// `α`: the product is scaled by it before `init` is added (1 leaves it untouched:
    /// no multiplication is done).
    pub alpha: T,
}

/// How a tile reads its `B(p, j)`, `p < k`, `j < NR`: chosen once per tile so the `k`
/// loop has the cheapest addressing for the layout.
trait BSource<T>: Copy {
    /// `B(p, j)`.
    ///
    /// SAFETY contract: `(p, j)` is inside the tile the source was built for.
    unsafe fn get(&self, p: usize, j: usize) -> T;
}

/// `csb == 1`: row `p` of the tile is `NR` consecutive elements at `b + p·rsb` (the
/// weight gradient's `xᵀ`), read at constant offsets from one moving pointer.
#[derive(Clone, Copy)]
struct Rows<T> {
    b: *const T,
    rsb: usize,
}

impl<T: Copy> BSource<T> for Rows<T> {
    #[inline(always)]
    unsafe fn get(&self, p: usize, j: usize) -> T {
        // SAFETY: the address of `B(p, j)` (`csb == 1`), inside the tile by the contract.
        unsafe { *self.b.add(p * self.rsb + j) }
    }
}

/// `rsb == 1`: column `j` of the tile is consecutive from `b + j·csb` (the forward pass's
/// `x`, whose columns are `csb` apart). Columns are addressed in groups of three from
/// separate base pointers (`base[g] + {0, 1, 2}·csb`, all advancing with `p`), so the
/// addresses of one step do not form a chain of additions through one register.
#[derive(Clone, Copy)]
struct Cols<T> {
    base: [*const T; COL_GROUPS],
    csb: usize,
}

impl<T> Cols<T> {
    #[inline(always)]
    fn new(b: *const T, csb: usize) -> Self {
        // `wrapping_add`: a pointer is only dereferenced at elements the tile contains.
        // `black_box` hides that the bases are `3·csb` apart, which would let the compiler
        // rebuild every address from one of them.
        Cols {
            base: core::array::from_fn(|g| core::hint::black_box(b.wrapping_add(3 * g * csb))),
            csb,
        }
    }
}

impl<T: Copy> BSource<T> for Cols<T> {
    #[inline(always)]
    unsafe fn get(&self, p: usize, j: usize) -> T {
        // SAFETY: `base[j / 3] + (j % 3)·csb + p` is the address of `B(p, j)`
        // (`rsb == 1`), inside the tile by the contract.
        unsafe { *self.base[j / 3].add((j % 3) * self.csb + p) }
    }
}

/// Base pointers of [`Cols`]: tiles of up to 12 columns.
const COL_GROUPS: usize = 4;

/// One `k` step of a tile: `acc[j][v] += A(v-th vector, p) · B(p, j)`.
///
/// SAFETY contract: `ap` points at `A(i0, p)` with `MV·LANES` readable elements (or, when
/// `MASKED`, `(MV-1)·LANES` plus the lanes of `mask` in the last vector); `B(p, j)` is
/// inside the tile of `bs` for `j < NR`.
// Inlined into the instruction-set entry points in optimised builds (so the
// intrinsics inline); separate small frames in debug builds (see `STACK` in mod.rs).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
unsafe fn step<S: Simd, B: BSource<S::T>, const MV: usize, const NR: usize, const MASKED: bool>(
    ap: *const S::T,
    bs: &B,
    p: usize,
    mask: S::M,
    acc: &mut [[S::V; MV]; NR],
) {
    // SAFETY: by the contract above every load is in bounds: vector `v` covers elements
    // `v·L .. v·L+L` of the `MV·L` readable ones (the last one only its masked lanes),
    // and each broadcast reads `B(p, j)` with `j < NR`.
    unsafe {
        let mut av = [S::zero(); MV];
        for (v, a) in av.iter_mut().enumerate() {
            let q = ap.add(v * S::LANES);
            *a = if MASKED && v == MV - 1 {
                S::load_m(q, mask)
            } else {
                S::load(q)
            };
        }
        for (j, accj) in acc.iter_mut().enumerate() {
            let bv = S::splat(bs.get(p, j));
            for (acv, &a) in accj.iter_mut().zip(&av) {
                *acv = S::fma(a, bv, *acv);
            }
        }
    }
}

/// One `MV·LANES × NR` tile of `C`, starting at row `i0`, column `j0` (the pointers are
/// already offset to it; `bs` reads the tile's columns of `B`); `mr` rows of it are valid.
///
/// SAFETY contract: as for [`Gemm`] restricted to the tile: rows `i0 .. i0+mr`, columns
/// `j0 .. j0+NR`. When `!MASKED`, `mr == MV·LANES`; when `MASKED`,
/// `(MV-1)·LANES < mr <= MV·LANES`.
// Inlined into the instruction-set entry points in optimised builds (so the
// intrinsics inline); separate small frames in debug builds (see `STACK` in mod.rs).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
unsafe fn tile<S: Simd, B: BSource<S::T>, const MV: usize, const NR: usize, const MASKED: bool>(
    g: &Gemm<S::T>,
    a: *const S::T,
    bs: B,
    c: *mut S::T,
    mr: usize,
    init: Init<S::T>,
) {
    let l = S::LANES;
    let k = g.k;
    // SAFETY: all pointer arithmetic below stays inside the tile's elements, which the
    // contract makes valid: A rows `< mr` (masked last vector) and columns `p < k`, B
    // rows `p < k` and columns `j < NR`, C rows `< mr` and columns `j < NR`.
    unsafe {
        let mask = S::mask(if MASKED { mr - (MV - 1) * l } else { l });
        let mut acc = [[S::zero(); MV]; NR];
        let mut p = 0;
        #[allow(clippy::needless_range_loop)]
        if MV * NR < 8 {
            // Too few accumulators to hide the FMA latency: two interleaved sets.
            let mut acc2 = [[S::zero(); MV]; NR];
            while p + 2 <= k {
                step::<S, B, MV, NR, MASKED>(a.add(p * g.lda), &bs, p, mask, &mut acc);
                step::<S, B, MV, NR, MASKED>(a.add((p + 1) * g.lda), &bs, p + 1, mask, &mut acc2);
                p += 2;
            }
            for j in 0..NR {
                for v in 0..MV {
                    acc[j][v] = S::add(acc[j][v], acc2[j][v]);
                }
            }
        }
        while p < k {
            step::<S, B, MV, NR, MASKED>(a.add(p * g.lda), &bs, p, mask, &mut acc);
            p += 1;
        }

        // The epilogue: `r = α·acc + old`, where `old` is the old C, the bias or zero,
        // then the ReLU. One loop nest per case with a straight-line body, so that it is
        // unrolled and the accumulators never leave their registers (a loop the compiler
        // keeps makes it index `acc` in memory, and then it updates that memory inside
        // the `k` loop: one store per FMA).
        let alpha = S::splat(g.alpha);
        macro_rules! epilogue {
            (|$cp:ident, $j:ident, $v:ident| $old:expr, $relu:expr) => {
                for (j, accj) in acc.iter().enumerate() {
                    let cj = c.add(j * g.ldc);
                    for (v, &r) in accj.iter().enumerate() {
                        let ($cp, $j, $v) = (cj.add(v * l), j, v);
                        let _ = ($cp, $j, $v);
                        let mut r = S::fma(r, alpha, $old);
                        if $relu {
                            r = S::max(r, S::zero());
                        }
                        if MASKED && v == MV - 1 {
                            S::store_m($cp, mask, r);
                        } else {
                            S::store($cp, r);
                        }
                    }
                }
            };
        }
        let load = |q: *const S::T, v: usize| {
            if MASKED && v == MV - 1 {
                S::load_m(q, mask)
            } else {
                S::load(q)
            }
        };
        // A masked tile's columns may be closer together than a vector (a layer of 10
        // outputs): loading a column right after storing the one before it then waits
        // for the store (the accesses overlap), measured 6x slower. Its old values are
        // all loaded first. (Masked tiles have one vector a column: `NR` registers.)
        let mut old = [S::zero(); NR];
        if MASKED && matches!(init, Init::Acc) {
            for (j, o) in old.iter_mut().enumerate() {
                *o = load(c.add(j * g.ldc), MV - 1);
            }
        }
        match (init, g.relu) {
            (Init::Zero, false) => epilogue!(|cp, j, v| S::zero(), false),
            (Init::Zero, true) => epilogue!(|cp, j, v| S::zero(), true),
            (Init::Acc, false) if MASKED => epilogue!(|cp, j, v| old[j], false),
            (Init::Acc, true) if MASKED => epilogue!(|cp, j, v| old[j], true),
            (Init::Acc, false) => epilogue!(|cp, j, v| load(cp, v), false),
            (Init::Acc, true) => epilogue!(|cp, j, v| load(cp, v), true),
            (Init::Bias(b), false) => epilogue!(|cp, j, v| load(b.add(v * l), v), false),
            (Init::Bias(b), true) => epilogue!(|cp, j, v| load(b.add(v * l), v), true),
        }
    }
}

/// Columns `j0 .. j0+NR` of `C`, all rows, reading `B` through `bs`.
// Inlined into the instruction-set entry points in optimised builds (so the
// intrinsics inline); separate small frames in debug builds (see `STACK` in mod.rs).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
unsafe fn columns<S: Simd, B: BSource<S::T>, const MV: usize, const NR: usize>(
    g: &Gemm<S::T>,
    bs: B,
    j0: usize,
) {
    let l = S::LANES;
    // SAFETY: `j0 + NR <= n` (the caller's loop condition) and every row offset `i` below
    // satisfies `i < m`, so each tile lies inside the product the `Gemm` contract covers;
    // the `MASKED` tile gets `0 < mr < LANES`, as `tile` requires.
    unsafe {
        let c = g.c.add(j0 * g.ldc);
        let mut i = 0;
        while i + MV * l <= g.m {
            tile::<S, B, MV, NR, false>(g, g.a.add(i), bs, c.add(i), MV * l, g.init.offset(i));
            i += MV * l;
        }
        while i + l <= g.m {
            tile::<S, B, 1, NR, false>(g, g.a.add(i), bs, c.add(i), l, g.init.offset(i));
            i += l;
        }
        if i < g.m {
            tile::<S, B, 1, NR, true>(g, g.a.add(i), bs, c.add(i), g.m - i, g.init.offset(i));
        }
    }
}

/// Columns `j0 .. j0+NR` of `C` with the `B` source that suits its layout.
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
unsafe fn columns_any<S: Simd, const MV: usize, const NR: usize>(g: &Gemm<S::T>, j0: usize) {
    // SAFETY: the caller's contract (`j0 + NR <= n`); both sources address
    // `b + p·rsb + j·csb` for the tile's columns `j0 + j`.
    unsafe {
        let b = g.b.add(j0 * g.csb);
        if g.csb == 1 {
            columns::<S, Rows<S::T>, MV, NR>(g, Rows { b, rsb: g.rsb }, j0)
        } else {
            const { assert!(NR <= 3 * COL_GROUPS) };
            columns::<S, Cols<S::T>, MV, NR>(g, Cols::new(b, g.csb), j0)
        }
    }
}

/// The whole product with `MV × NR` tiles; leftover columns in tiles of 8, 4, 2 and 1
/// (the last as a matrix-vector product with four vectors per tile).
///
/// SAFETY contract: the one documented on [`Gemm`].
// Inlined into the instruction-set entry points in optimised builds (so the
// intrinsics inline); separate small frames in debug builds (see `STACK` in mod.rs).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) unsafe fn gemm<S: Simd, const MV: usize, const NR: usize>(g: &Gemm<S::T>) {
    let panel_rows = MV * S::LANES;
    let kb = (K_BLOCK_BYTES / (panel_rows * core::mem::size_of::<S::T>())).max(16);
    if g.k <= 2 * kb {
        // SAFETY: the contract is forwarded unchanged.
        return unsafe { gemm_cols::<S, MV, NR>(g) };
    }
    // Long products: blocks of `kb` steps; within a block one panel of `MV` vectors of
    // rows at a time, so its `kb` columns of `A` (16 KiB) stay in L1 across all tiles of
    // the row panel. Bias on the first block only, ReLU on the last only.
    let mut k0 = 0;
    while k0 < g.k {
        let kc = if g.k - k0 < 2 * kb { g.k - k0 } else { kb };
        let last = k0 + kc == g.k;
        let mut i0 = 0;
        while i0 < g.m {
            let mr = panel_rows.min(g.m - i0);
            // SAFETY: the sub-product covers rows `i0 .. i0+mr <= m`, steps
            // `k0 .. k0+kc <= k` and all columns of the original one, so every element
            // it names is one the original contract covers.
            unsafe {
                let sub = Gemm {
                    m: mr,
                    n: g.n,
                    k: kc,
                    a: g.a.add(i0 + k0 * g.lda),
                    lda: g.lda,
                    b: g.b.add(k0 * g.rsb),
                    rsb: g.rsb,
                    csb: g.csb,
                    c: g.c.add(i0),
                    ldc: g.ldc,
                    init: if k0 == 0 {
                        g.init.offset(i0)
                    } else {
                        Init::Acc
                    },
                    relu: g.relu && last,
                    alpha: g.alpha,
                };
                gemm_cols::<S, MV, NR>(&sub);
            }
            i0 += mr;
        }
        k0 += kc;
    }
}

/// The bytes of `A` one `k` block of [`gemm`] keeps in L1 for a row panel.
const K_BLOCK_BYTES: usize = 16 * 1024;

/// Where [`gemm_cols`]'s `nr`-wide column tiles end for `n` columns: where they would
/// leave 4 columns (`nr = 12`), it ends with two 8-wide tiles instead, since a 4-wide
/// tile has too few accumulators to keep the FMAs busy.
#[inline(always)]
const fn wide_end(n: usize, nr: usize) -> usize {
    if nr == 12 && n % 12 == 4 && n >= 16 {
        n - 16
    } else {
        n
    }
}

/// Whether [`gemm`] on columns `0 .. j` and then on `j .. n` (as two products) puts
/// every column in a tile of the same width as the whole product does, with `nr`-wide
/// tiles: then each element is computed by the same operations, bitwise. True when `j`
/// is a whole number of tiles before the whole product's last `nr`-wide tile ends, and
/// the right part's tiles end the same way.
#[cfg(feature = "parallel")]
pub(crate) const fn same_tiles(n: usize, j: usize, nr: usize) -> bool {
    j > 0
        && j < n
        && j.is_multiple_of(nr)
        && j <= wide_end(n, nr)
        && wide_end(n - j, nr) + j == wide_end(n, nr)
}

/// [`gemm`] without `k` blocking: column tiles outside, row tiles inside.
///
/// SAFETY contract: the one documented on [`Gemm`].
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
unsafe fn gemm_cols<S: Simd, const MV: usize, const NR: usize>(g: &Gemm<S::T>) {
    // SAFETY: each call covers columns `j .. j+width` with `j + width <= n`.
    unsafe {
        let wide_end = wide_end(g.n, NR);
        let mut j = 0;
        while j + NR <= wide_end {
            columns_any::<S, MV, NR>(g, j);
            j += NR;
        }
        while NR > 8 && j + 8 <= g.n {
            columns_any::<S, MV, 8>(g, j);
            j += 8;
        }
        while NR > 4 && j + 4 <= g.n {
            columns_any::<S, MV, 4>(g, j);
            j += 4;
        }
        while NR > 2 && j + 2 <= g.n {
            columns_any::<S, MV, 2>(g, j);
            j += 2;
        }
        while j < g.n {
            columns_any::<S, 4, 1>(g, j);
            j += 1;
        }
    }
}

/// The panel of [`input_grad_wt`] holds `KC` vectors (8 KiB with AVX-512), and that path
/// takes layers with at most `KC` outputs.
pub(crate) const KC: usize = 128;

/// Vectors in [`input_grad_packed`]'s panel of `dyᵀ` (32 KiB with AVX-512): 256 steps of
/// the product for `MV = 2`, enough for layers of up to 256 outputs in one block.
const PANEL_VECS: usize = 512;
/// Vectors in [`input_grad_packed`]'s buffer of `dxᵀ` (8 KiB with AVX-512).
const OUT_VECS: usize = 128;

/// `dst[c + r·ldd] = src[r + c·lds]` (plus the old `dst` when `add`) for `r < rows`,
/// `c < cols`: a column-major `rows×cols` block written transposed, in `LANES × LANES`
/// register transposes (partial ones at the edges, with masked loads and stores);
/// [gated](Simd::gate) by `gate[c + r·ldd]` when `gate` is not null.
///
/// SAFETY contract: those elements of `src` (and `gate`) are readable and of `dst`
/// writable, and `dst` overlaps neither.
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn transpose<S: Simd>(
    src: *const S::T,
    lds: usize,
    dst: *mut S::T,
    ldd: usize,
    rows: usize,
    cols: usize,
    add: bool,
    gate: *const S::T,
) {
    let l = S::LANES;
    // SAFETY: block (r0, c0) covers rows `r0 .. r0 + rr <= rows` and columns
    // `c0 .. c0 + cc <= cols`, which is what `transpose_block` reads and writes.
    unsafe {
        let mut c0 = 0;
        while c0 < cols {
            let cc = l.min(cols - c0);
            let mut r0 = 0;
            while r0 < rows {
                let rr = l.min(rows - r0);
                let (s, o) = (src.add(r0 + c0 * lds), c0 + r0 * ldd);
                let g = if gate.is_null() { gate } else { gate.add(o) };
                if rr == l && cc == l {
                    transpose_block::<S, true>(s, lds, dst.add(o), ldd, l, l, add, g);
                } else {
                    transpose_block::<S, false>(s, lds, dst.add(o), ldd, rr, cc, add, g);
                }
                r0 += l;
            }
            c0 += l;
        }
    }
}

/// One block of [`transpose`]: `rows × cols` (both at most `LANES`, both `LANES` when
/// `FULL`) through one register transpose.
///
/// SAFETY contract: as for [`transpose`], for this block.
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
#[allow(clippy::too_many_arguments)]
unsafe fn transpose_block<S: Simd, const FULL: bool>(
    src: *const S::T,
    lds: usize,
    dst: *mut S::T,
    ldd: usize,
    rows: usize,
    cols: usize,
    add: bool,
    gate: *const S::T,
) {
    let l = S::LANES;
    // SAFETY: column `c < cols` of `src` is read at its `rows` elements (all `l` when
    // `FULL`, else masked to `rows`); row `r < rows` of `dst` (and `gate`) at its `cols`
    // elements, likewise. The other vectors are zero and never stored.
    unsafe {
        let (mr, mc) = (S::mask(rows), S::mask(cols));
        let load = |p: *const S::T, m: S::M| if FULL { S::load(p) } else { S::load_m(p, m) };
        let mut x = [S::zero(); 16];
        for (c, xc) in x.iter_mut().enumerate().take(l) {
            if FULL || c < cols {
                *xc = load(src.add(c * lds), mr);
            }
        }
        let y = S::transpose(x);
        // Rows closer together than a vector overlap: a load right after the store
        // before it would wait for that store, so then the old values are loaded first.
        let early = add && ldd < l;
        let mut old = [S::zero(); 16];
        if early {
            for (r, o) in old.iter_mut().enumerate().take(l) {
                if FULL || r < rows {
                    *o = load(dst.add(r * ldd), mc);
                }
            }
        }
        for (r, (&v, &o)) in y.iter().zip(&old).enumerate().take(l) {
            if FULL || r < rows {
                let d = dst.add(r * ldd);
                let mut v = v;
                if add {
                    v = S::add(if early { o } else { load(d, mc) }, v);
                }
                if !gate.is_null() {
                    v = S::gate(v, load(gate.add(r * ldd), mc));
                }
                if FULL {
                    S::store(d, v);
                } else {
                    S::store_m(d, mc, v);
                }
            }
        }
    }
}

/// `dx (i×b) = wᵀ (i×o) · dy (o×b)`, all column-major, computed as `dxᵀ = dyᵀ · w`: a
/// block of `MV` vectors of samples of `dy` is transposed into a stack panel, so vectors
/// run along the samples and `w`'s contiguous columns are broadcast; the product (an
/// ordinary [`gemm`]) goes to a stack buffer, which is transposed into `dx`. Both
/// transposes move `(o + i)·b` elements in register blocks, against the `o·i·b`
/// multiply-adds of the product.
///
/// SAFETY contract: `w` has `o·i` readable elements, `dy` has `o·b`, `dx` has `i·b`
/// writable ones and overlaps neither; `gate` is null or has `i·b` readable elements
/// (laid out like `dx`, which is then [gated](Simd::gate) by it).
// Inlined into the instruction-set entry points in optimised builds (so the
// intrinsics inline); separate small frames in debug builds (see `STACK` in mod.rs).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn input_grad_packed<S: Simd, const MV: usize, const NR: usize>(
    w: *const S::T,
    dy: *const S::T,
    dx: *mut S::T,
    o: usize,
    i: usize,
    b: usize,
    gate: *const S::T,
) {
    let jb = MV * S::LANES;
    // Output blocks a whole number of `NR`-wide tiles.
    let (kci, nbc) = (PANEL_VECS / MV, OUT_VECS / MV / NR * NR);
    // SAFETY: the panel holds `kci·jb` elements and receives `panel[jj + p·jb]` for
    // `jj < jr <= jb`, `p < kc <= kci`, read from `dy[o0 + p + (j0 + jj)·o]` with
    // `o0 + p < o`, `j0 + jj < b`. The product reads A = panel (`jr` rows of `kc`
    // columns, leading dimension `jb`) and B(p, n) = w[o0 + p + (n0 + n)·o] with
    // `p < kc`, `n0 + n < i`: inside `w`; it writes `out[jj + n·jb]`, `n < nb <= nbc`,
    // inside the buffer's `nbc·jb` elements, which are then written to
    // `dx[n0 + n + (j0 + jj)·i]`, inside `dx`.
    unsafe {
        let mut panel = [S::zero(); PANEL_VECS];
        let mut out = [S::zero(); OUT_VECS];
        let pp = panel.as_mut_ptr() as *mut S::T;
        let op = out.as_mut_ptr() as *mut S::T;
        let mut j0 = 0;
        while j0 < b {
            let jr = jb.min(b - j0);
            let mut o0 = 0;
            while o0 < o {
                let kc = kci.min(o - o0);
                transpose::<S>(
                    dy.add(o0 + j0 * o),
                    o,
                    pp,
                    jb,
                    kc,
                    jr,
                    false,
                    core::ptr::null(),
                );
                // The gate goes on the last block, once the sums are complete.
                let gate = if o0 + kc == o && !gate.is_null() {
                    gate.add(j0 * i)
                } else {
                    core::ptr::null()
                };
                let mut n0 = 0;
                while n0 < i {
                    let nb = nbc.min(i - n0);
                    let g = Gemm {
                        m: jr,
                        n: nb,
                        k: kc,
                        a: pp as *const S::T,
                        lda: jb,
                        b: w.add(o0 + n0 * o),
                        rsb: 1,
                        csb: o,
                        c: op,
                        ldc: jb,
                        init: Init::Zero,
                        relu: false,
                        alpha: <S::T as Scalar>::from_f64(1.0),
                    };
                    gemm::<S, MV, NR>(&g);
                    let gn = if gate.is_null() { gate } else { gate.add(n0) };
                    transpose::<S>(op, jb, dx.add(n0 + j0 * i), i, jr, nb, o0 > 0, gn);
                    n0 += nb;
                }
                o0 += kc;
            }
            j0 += jr;
        }
    }
}

/// `dx (i×b) = wᵀ (i×o) · dy (o×b)`, all column-major, for `w` with few rows
/// (`o <= KC`): blocks of `w`'s columns (contiguous in memory) are transposed into a stack
/// panel, which is then an ordinary column-major `A` for [`gemm`] with `dy` as `B` and `dx`
/// written in place. For `o` below the batch this moves `o·i` elements instead of the
/// `i·b` transposed stores of [`input_grad_packed`] (a 10x128 layer at batch 32: measured
/// 1.8x faster).
///
/// SAFETY contract: as for [`input_grad_packed`], and `1 <= o <= KC`.
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn input_grad_wt<S: Simd, const MV: usize, const NR: usize>(
    w: *const S::T,
    dy: *const S::T,
    dx: *mut S::T,
    o: usize,
    i: usize,
    b: usize,
    gate: *const S::T,
) {
    let l = S::LANES;
    debug_assert!((1..=KC).contains(&o));
    // Rows of wᵀ per block: as many whole vectors as fit in the panel (`KC·l` elements),
    // at least one vector's worth, since `o <= KC`.
    let o = o.clamp(1, KC);
    let rows = ((KC * l / o) / l * l).max(l);
    // SAFETY: block `n0 .. n0 + nb` (`n0 + nb <= i`) reads `w[c + (n0 + r)·o]` with
    // `c < o`, `r < nb`: inside `w`; writes `panel[r + c·nb]` with `r + c·nb < nb·o
    // <= rows·o <= KC·l`, the panel's size. The product reads A = panel (`nb×o`, leading
    // dimension `nb`), B(p, j) = dy[p + j·o] with `p < o`, `j < b`, and writes
    // C(r, j) = dx[n0 + r + j·i] with `n0 + r < i`, `j < b`: inside `dx`.
    unsafe {
        let mut panel = [S::zero(); KC];
        let pp = panel.as_mut_ptr() as *mut S::T;
        let mut n0 = 0;
        while n0 < i {
            let nb = rows.min(i - n0);
            // panel[r + c·nb] = w[c + (n0 + r)·o]: the block of w's columns, transposed.
            transpose::<S>(w.add(n0 * o), o, pp, nb, o, nb, false, core::ptr::null());
            let g = Gemm {
                m: nb,
                n: b,
                k: o,
                a: pp as *const S::T,
                lda: nb,
                b: dy,
                rsb: 1,
                csb: o,
                c: dx.add(n0),
                ldc: i,
                init: Init::Zero,
                relu: false,
                alpha: <S::T as Scalar>::from_f64(1.0),
            };
            gemm::<S, MV, NR>(&g);
            n0 += nb;
        }
        if !gate.is_null() {
            gate_inplace::<S>(dx, gate, i * b);
        }
    }
}

/// `x[n] = x[n] · (gate[n] > 0 ? 1 : 0)` for `n < len` ([`Simd::gate`]).
///
/// SAFETY contract: `x` has `len` writable elements, `gate` `len` readable ones.
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
unsafe fn gate_inplace<S: Simd>(x: *mut S::T, gate: *const S::T, len: usize) {
    let l = S::LANES;
    // SAFETY: full vectors at `n .. n + l <= len`, then the masked tail of `len - n < l`.
    unsafe {
        let mut n = 0;
        while n + l <= len {
            S::store(x.add(n), S::gate(S::load(x.add(n)), S::load(gate.add(n))));
            n += l;
        }
        if n < len {
            let m = S::mask(len - n);
            let v = S::gate(S::load_m(x.add(n), m), S::load_m(gate.add(n), m));
            S::store_m(x.add(n), m, v);
        }
    }
}

/// `Q` dot products `dx[i0 + q + j·i] = w[:, i0 + q] · dy[:, j]`, [gated](Simd::gate)
/// by `gate[q]` when `gate` (offset like `out`) is not null.
///
/// SAFETY contract: as for [`input_grad_dot`], with `i0 + Q <= i` and `j < b`.
// Inlined into the instruction-set entry points in optimised builds (so the
// intrinsics inline); separate small frames in debug builds (see `STACK` in mod.rs).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
unsafe fn dots<S: Simd, const Q: usize>(
    w: *const S::T,
    d: *const S::T,
    out: *mut S::T,
    gate: *const S::T,
    o: usize,
    tail_mask: S::M,
) {
    let l = S::LANES;
    let full = o - o % l;
    // SAFETY: columns `q < Q` of `w` start at `w + q·o` and have `o` elements; we read
    // full vectors at offsets `p + l <= full <= o` and the masked tail `o - full` lanes
    // at `full`; `out + q` for `q < Q` is inside `dx` by the contract.
    unsafe {
        let mut acc = [S::zero(); Q];
        let mut p = 0;
        while p < full {
            let dv = S::load(d.add(p));
            for (q, a) in acc.iter_mut().enumerate() {
                *a = S::fma(S::load(w.add(q * o + p)), dv, *a);
            }
            p += l;
        }
        if full < o {
            let dv = S::load_m(d.add(full), tail_mask);
            for (q, a) in acc.iter_mut().enumerate() {
                *a = S::fma(S::load_m(w.add(q * o + full), tail_mask), dv, *a);
            }
        }
        for (q, a) in acc.iter().enumerate() {
            let v = S::reduce(*a);
            *out.add(q) = if gate.is_null() {
                v
            } else {
                gate_scalar(v, *gate.add(q))
            };
        }
    }
}

/// `dx = wᵀ · dy` as dot products along the contiguous columns: for small batches.
///
/// SAFETY contract: as for [`input_grad_packed`].
// Inlined into the instruction-set entry points in optimised builds (so the
// intrinsics inline); separate small frames in debug builds (see `STACK` in mod.rs).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn input_grad_dot<S: Simd>(
    w: *const S::T,
    dy: *const S::T,
    dx: *mut S::T,
    o: usize,
    i: usize,
    b: usize,
    gate: *const S::T,
) {
    let l = S::LANES;
    // SAFETY: every call passes `i0 + Q <= i` and `j < b`, which is what `dots` needs;
    // the mask has `o % l` lanes and is only used when that is nonzero.
    unsafe {
        let tail = S::mask(if o.is_multiple_of(l) { l } else { o % l });
        for j in 0..b {
            let d = dy.add(j * o);
            let out = dx.add(j * i);
            let gate_at = |i0: usize| {
                if gate.is_null() {
                    gate
                } else {
                    gate.add(j * i + i0)
                }
            };
            let mut i0 = 0;
            while i0 + 8 <= i {
                dots::<S, 8>(w.add(i0 * o), d, out.add(i0), gate_at(i0), o, tail);
                i0 += 8;
            }
            while i0 + 4 <= i {
                dots::<S, 4>(w.add(i0 * o), d, out.add(i0), gate_at(i0), o, tail);
                i0 += 4;
            }
            while i0 < i {
                dots::<S, 1>(w.add(i0 * o), d, out.add(i0), gate_at(i0), o, tail);
                i0 += 1;
            }
        }
    }
}

/// `dw (o×i) = α·dy (o×b) · xᵀ (+ dw when `acc`)`: the weight gradient (or, with `dw`
/// the weights and `α = -lr`, a fused SGD step), a column-layout product with `dy` as
/// `A` and the rows of `xᵀ` (contiguous) as `B`.
///
/// SAFETY contract: `dy` has `o·b` readable elements, `x` has `i·b`, `dw` has `o·i`
/// writable ones and overlaps neither.
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn weight_grad<S: Simd, const MV: usize, const NR: usize>(
    dy: *const S::T,
    x: *const S::T,
    dw: *mut S::T,
    o: usize,
    i: usize,
    b: usize,
    alpha: S::T,
    acc: bool,
) {
    let g = weight_grad_gemm(dy, x, dw, o, i, b, alpha, acc);
    // SAFETY: A(r, p) = dy[r + p·o], r < o, p < b: inside dy; B(p, n) = x[p·i + n],
    // p < b, n < i: inside x; C(r, n) = dw[r + n·o]: inside dw.
    unsafe { gemm::<S, MV, NR>(&g) }
}

/// `dw (o×i) = α·dy (o×b) · xᵀ (+ dw when `acc`)` as a [`Gemm`]: its columns are `dw`'s,
/// one per input feature (the `parallel` feature splits them).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn weight_grad_gemm<T>(
    dy: *const T,
    x: *const T,
    dw: *mut T,
    o: usize,
    i: usize,
    b: usize,
    alpha: T,
    acc: bool,
) -> Gemm<T> {
    Gemm {
        m: o,
        n: i,
        k: b,
        a: dy,
        lda: o,
        b: x,
        rsb: i,
        csb: 1,
        c: dw,
        ldc: o,
        init: if acc { Init::Acc } else { Init::Zero },
        relu: false,
        alpha,
    }
}

/// `dw (o×i) = α·dy (o×b) · xᵀ (+ dw when `acc`)` for small batches: one pass over `dw`,
/// each vector of it loaded once (or started at zero), updated with the `b` samples,
/// stored once.
///
/// SAFETY contract: `dy` has `o·b` readable elements, `x` has `i·b`, `dw` has `o·i`
/// writable ones and overlaps neither. Correct for `b <= 4` only (the caller sends batches
/// below `SMALL_BATCH`).
// Inlined into the instruction-set entry points in optimised builds (so the
// intrinsics inline); separate small frames in debug builds (see `STACK` in mod.rs).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn weight_grad_small<S: Simd>(
    dy: *const S::T,
    x: *const S::T,
    dw: *mut S::T,
    o: usize,
    i: usize,
    b: usize,
    alpha: S::T,
    acc: bool,
) {
    let l = S::LANES;
    // Short columns (up to 4 vectors): `α·dy` stays in registers and each column of `dw`
    // is a few loads, FMAs and stores, with no per-column loop control (measured 2x
    // faster on the 16x784 first layer of 784-16-16-10). One sample: up to half the
    // register file of `α·dy` (16 vectors with AVX-512, 8 with AVX2), so each column of
    // `dw` costs only its own loads and stores, not a second load of `dy` per vector.
    // SAFETY (all arms): the contract of this function, with `b <= 3` (debug-asserted
    // below) and `o <= NV·LANES`, the conditions of `weight_grad_regs`.
    macro_rules! regs {
        ($($nv:literal),*; $($nv1:literal),*) => {
            match (o.div_ceil(l), b) {
                $(
                    ($nv, 1) => return unsafe { weight_grad_regs::<S, $nv, 1>(dy, x, dw, o, i, alpha, acc) },
                    ($nv, 2) => return unsafe { weight_grad_regs::<S, $nv, 2>(dy, x, dw, o, i, alpha, acc) },
                    ($nv, 3) => return unsafe { weight_grad_regs::<S, $nv, 3>(dy, x, dw, o, i, alpha, acc) },
                )*
                $(
                    ($nv1, 1) if $nv1 <= S::REGS / 2 => {
                        return unsafe { weight_grad_regs::<S, $nv1, 1>(dy, x, dw, o, i, alpha, acc) }
                    }
                )*
                _ => {}
            }
        };
    }
    regs!(1, 2, 3, 4; 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
    // Longer columns: the sample count and `acc` as constants, four vectors a step.
    // SAFETY (all arms): the contract of this function, with `b == NB`.
    unsafe {
        match (b, acc) {
            (1, true) => weight_grad_wide::<S, 1, true>(dy, x, dw, o, i, alpha),
            (1, false) => weight_grad_wide::<S, 1, false>(dy, x, dw, o, i, alpha),
            (2, true) => weight_grad_wide::<S, 2, true>(dy, x, dw, o, i, alpha),
            (2, false) => weight_grad_wide::<S, 2, false>(dy, x, dw, o, i, alpha),
            (_, true) => weight_grad_wide::<S, 3, true>(dy, x, dw, o, i, alpha),
            (_, false) => weight_grad_wide::<S, 3, false>(dy, x, dw, o, i, alpha),
        }
    }
}

/// [`weight_grad_small`] for `NB` samples, any `o`: each column of `dw` is
/// `Σ_j α·x[n + j·i] · dy_j (+ dw when ACC)`, four vectors a step, then single vectors and a
/// masked tail.
///
/// SAFETY contract: as [`weight_grad_small`], with `b == NB`.
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
unsafe fn weight_grad_wide<S: Simd, const NB: usize, const ACC: bool>(
    dy: *const S::T,
    x: *const S::T,
    dw: *mut S::T,
    o: usize,
    i: usize,
    alpha: S::T,
) {
    let l = S::LANES;
    // SAFETY: vectors at rows `r .. r + l` with `r + l <= o` (the loop conditions), and
    // the tail rows `r .. o` masked to `o - r < l` lanes: inside column `n < i` of `dw` and
    // `j < NB` of `dy` (`o` elements each); `x[n + j·i]` with `n < i`, `j < NB == b`.
    unsafe {
        let step = |col: *mut S::T, r: usize, xs: &[S::V; NB]| {
            let mut a = if ACC { S::load(col.add(r)) } else { S::zero() };
            for (j, &xv) in xs.iter().enumerate() {
                a = S::fma(S::load(dy.add(j * o + r)), xv, a);
            }
            S::store(col.add(r), a);
        };
        for n in 0..i {
            let col = dw.add(n * o);
            let mut xs = [S::zero(); NB];
            for (j, xv) in xs.iter_mut().enumerate() {
                *xv = S::splat(*x.add(n + j * i) * alpha);
            }
            let mut r = 0;
            while r + 4 * l <= o {
                step(col, r, &xs);
                step(col, r + l, &xs);
                step(col, r + 2 * l, &xs);
                step(col, r + 3 * l, &xs);
                r += 4 * l;
            }
            while r + l <= o {
                step(col, r, &xs);
                r += l;
            }
            if r < o {
                let m = S::mask(o - r);
                let mut a = if ACC {
                    S::load_m(col.add(r), m)
                } else {
                    S::zero()
                };
                for (j, &xv) in xs.iter().enumerate() {
                    a = S::fma(S::load_m(dy.add(j * o + r), m), xv, a);
                }
                S::store_m(col.add(r), m, a);
            }
        }
    }
}

/// [`weight_grad_small`] for columns of `NV` vectors (`(NV-1)·LANES < o <= NV·LANES`, the
/// last one masked when `o` is not a multiple of `LANES`) and `NB` samples: `α·dy` is
/// loaded once into `NV·NB` registers, then each column `n` of `dw` is
/// `Σ_j α·dy_j · x[n + j·i] (+ dw)`.
///
/// SAFETY contract: as [`weight_grad_small`], with `b == NB` and `o` as above.
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
#[allow(clippy::too_many_arguments)]
unsafe fn weight_grad_regs<S: Simd, const NV: usize, const NB: usize>(
    dy: *const S::T,
    x: *const S::T,
    dw: *mut S::T,
    o: usize,
    i: usize,
    alpha: S::T,
    acc: bool,
) {
    let l = S::LANES;
    debug_assert!(o > (NV - 1) * l && o <= NV * l);
    let masked = !o.is_multiple_of(l);
    // SAFETY: vector `v < NV` of a column covers rows `v·l .. v·l + l`; for `v < NV - 1`
    // that is below `(NV-1)·l < o`, and the last one is masked to `o - (NV-1)·l` lanes when
    // `o` is not a multiple of `l` (else it ends at `NV·l == o`). So every access stays in
    // column `j < NB` of `dy` (`o` elements) or column `n < i` of `dw`; `x[n + j·i]` has
    // `n < i`, `j < NB == b`.
    unsafe {
        let tail = S::mask(o - (NV - 1) * l);
        let a = S::splat(alpha);
        let mut d = [[S::zero(); NV]; NB];
        for (j, dj) in d.iter_mut().enumerate() {
            for (v, dv) in dj.iter_mut().enumerate() {
                let p = dy.add(j * o + v * l);
                let raw = if masked && v == NV - 1 {
                    S::load_m(p, tail)
                } else {
                    S::load(p)
                };
                *dv = S::mul(raw, a);
            }
        }
        for n in 0..i {
            let col = dw.add(n * o);
            let mut xs = [S::zero(); NB];
            for (j, xv) in xs.iter_mut().enumerate() {
                *xv = S::splat(*x.add(n + j * i));
            }
            for v in 0..NV {
                let p = col.add(v * l);
                let last = masked && v == NV - 1;
                let mut c = match (acc, last) {
                    (false, _) => S::zero(),
                    (true, false) => S::load(p),
                    (true, true) => S::load_m(p, tail),
                };
                for (dj, &xj) in d.iter().zip(&xs) {
                    c = S::fma(dj[v], xj, c);
                }
                if last {
                    S::store_m(p, tail, c);
                } else {
                    S::store(p, c);
                }
            }
        }
    }
}

/// One panel of `MV` vectors of rows of `y = w·x (+ bias)` (`ReLU` optional), streaming
/// the `k` columns of `w` with `KU` independent accumulator sets (steps `p ≡ u mod KU`
/// go to set `u`), so `MV·KU` FMA chains hide the FMA latency however few rows there are.
///
/// SAFETY contract: `w` points at row `i0` of column 0 of a column-major matrix with
/// leading dimension `lda`; rows `i0 .. i0+mr` of columns `p < k` are readable at
/// `w + r + p·lda` (`r < mr`); `x` has `k` readable elements; `y` (and `bias`, when not
/// null) have `mr` elements from the panel's first row, `y` writable and overlapping
/// nothing else. When `!MASKED`, `mr == MV·LANES`; when `MASKED`,
/// `(MV-1)·LANES < mr <= MV·LANES`.
// Inlined into the instruction-set entry points in optimised builds (so the
// intrinsics inline); separate small frames in debug builds (see `STACK` in mod.rs).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
#[allow(clippy::too_many_arguments)]
unsafe fn gemv_panel<
    S: Simd,
    const MV: usize,
    const KU: usize,
    const MASKED: bool,
    const CONTIG: bool,
>(
    w: *const S::T,
    lda: usize,
    x: *const S::T,
    k: usize,
    bias: *const S::T,
    y: *mut S::T,
    mr: usize,
    relu: bool,
) {
    let l = S::LANES;
    // A panel as tall as the matrix (`CONTIG`, `lda == MV·LANES`) is one contiguous
    // stream: a constant stride lets every load be an offset from one moving pointer.
    let lda = if CONTIG { MV * l } else { lda };
    // SAFETY: every `w` load reads column `p < k` (`p + u < k` in the unrolled loop, the
    // loop condition) at rows `v·l .. v·l+l` for `v < MV`, all `< mr` except in the last
    // vector of a `MASKED` panel, which reads only its `mr - (MV-1)·l` masked lanes;
    // `x` is read at `p < k`; `bias` and `y` at the same rows as `w`, with the same mask.
    unsafe {
        let mask = S::mask(if MASKED { mr - (MV - 1) * l } else { l });
        let load = |p: *const S::T, v: usize| {
            if MASKED && v == MV - 1 {
                S::load_m(p, mask)
            } else {
                S::load(p)
            }
        };
        let mut sum = [S::zero(); MV];
        let bytes = k * lda * core::mem::size_of::<S::T>();
        if CONTIG && bytes > ALTERNATE_MIN_BYTES && bytes <= ALTERNATE_MAX_BYTES {
            // SAFETY: a `CONTIG` panel is never `MASKED` (see `gemv`), so its `k`
            // columns are `k·lda` readable elements from `w`; `x` has `k`.
            gemv_sums_alternating::<S, MV, KU>(w, x, k, &mut sum);
        } else {
            let acc = gemv_sums::<S, MV, KU, MASKED>(w, lda, x, 0, k, mask);
            // Hand the sums to the epilogue through memory, written once after the loop
            // (see `tile`: keeps the register allocator from updating spill slots inside
            // the loop).
            for (s, r) in sum.iter_mut().zip(acc) {
                core::ptr::write_volatile(s, r);
            }
        }
        for (v, &r) in sum.iter().enumerate() {
            let mut r = r;
            if !bias.is_null() {
                r = S::add(r, load(bias.add(v * l), v));
            }
            if relu {
                r = S::max(r, S::zero());
            }
            let yp = y.add(v * l);
            if MASKED && v == MV - 1 {
                S::store_m(yp, mask, r);
            } else {
                S::store(yp, r);
            }
        }
    }
}

/// Columns `p0 .. p1` of a [`gemv_panel`]: `Σ_p w(:, p)·x[p]` over them, in `KU`
/// accumulator sets (steps `p ≡ p0 + u mod KU` go to set `u`) added as a tree at the end.
///
/// SAFETY contract: as [`gemv_panel`]'s for the columns `p0 .. p1` (`p1 <= k`), with
/// `mask` the panel's.
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
unsafe fn gemv_sums<S: Simd, const MV: usize, const KU: usize, const MASKED: bool>(
    w: *const S::T,
    lda: usize,
    x: *const S::T,
    p0: usize,
    p1: usize,
    mask: S::M,
) -> [S::V; MV] {
    let l = S::LANES;
    // SAFETY: every `w` load reads column `p0 <= p < p1` (`p + u < p1` in the unrolled
    // loop, the loop condition) at rows `v·l .. v·l+l` of the panel (the last vector of a
    // `MASKED` panel only at its masked lanes); `x` is read at the same `p`.
    unsafe {
        let load = |p: *const S::T, v: usize| {
            if MASKED && v == MV - 1 {
                S::load_m(p, mask)
            } else {
                S::load(p)
            }
        };
        let mut acc = [[S::zero(); MV]; KU];
        let mut p = p0;
        while p + KU <= p1 {
            for (u, accu) in acc.iter_mut().enumerate() {
                let col = w.add((p + u) * lda);
                let xv = S::splat(*x.add(p + u));
                for (v, a) in accu.iter_mut().enumerate() {
                    *a = S::fma(load(col.add(v * l), v), xv, *a);
                }
            }
            p += KU;
        }
        while p < p1 {
            let col = w.add(p * lda);
            let xv = S::splat(*x.add(p));
            for (v, a) in acc[0].iter_mut().enumerate() {
                *a = S::fma(load(col.add(v * l), v), xv, *a);
            }
            p += 1;
        }
        // Added as a tree (`KU` is a power of two): log2(KU) dependent additions instead
        // of KU - 1 at the end of every block of columns (measured 10% of a 16x784
        // product's time as a chain). Written out here and in `small_gemv` rather than
        // through a helper taking the addition as a closure: a closure does not get the
        // entry point's instruction set, and `S::add` in one measured the layer 1.7x
        // slower.
        const { assert!(KU.is_power_of_two()) };
        let mut n = KU;
        while n > 1 {
            n /= 2;
            let (low, high) = acc.split_at_mut(n);
            for (s, t) in low.iter_mut().zip(&high[..n]) {
                for (a, &b) in s.iter_mut().zip(t) {
                    *a = S::add(*a, b);
                }
            }
        }
        acc[0]
    }
}

/// Above this many bytes of weights, and up to [`ALTERNATE_MAX_BYTES`], a one-sample
/// product whose weights are one contiguous stream reads them in alternating directions
/// ([`gemv_sums_alternating`]).
const ALTERNATE_MIN_BYTES: usize = 32 * 1024;
/// Beyond this, L1 holds too small a part of the weights for the alternation to pay
/// (measured 4% slower on the 401 KiB 128x784 layer).
const ALTERNATE_MAX_BYTES: usize = 128 * 1024;

/// Blocks of columns in [`gemv_sums_alternating`].
const ALTERNATE_BLOCKS: usize = 8;

/// The column sums of a contiguous [`gemv_panel`] whose weights are larger than L1 may
/// be: in [`ALTERNATE_BLOCKS`] blocks of columns, taken in the opposite order from the
/// last call with these weights, so the blocks read last (still in L1) are read first.
/// Streamed in one direction every call, a matrix slightly larger than L1 misses on every
/// line (each line is evicted just before it is needed again): a 16x784 layer (49 KiB)
/// ran 1.3x faster on an AVX-512 Xeon with 48 KiB of L1. Each block is summed on its own
/// and the block sums are added as a tree of fixed shape over the block indices, so the
/// result is bitwise the same in both directions.
///
/// SAFETY contract: `w` has `k·MV·LANES` readable elements (`k` unmasked columns of
/// `MV` vectors, one after another), `x` has `k`.
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
unsafe fn gemv_sums_alternating<S: Simd, const MV: usize, const KU: usize>(
    w: *const S::T,
    x: *const S::T,
    k: usize,
    sum: &mut [S::V; MV],
) {
    let lda = MV * S::LANES;
    let kc = k.div_ceil(ALTERNATE_BLOCKS);
    let reverse = alternate(w as usize);
    let mut part = [[S::zero(); MV]; ALTERNATE_BLOCKS];
    for n in 0..ALTERNATE_BLOCKS {
        let c = if reverse { ALTERNATE_BLOCKS - 1 - n } else { n };
        let (p0, p1) = ((c * kc).min(k), ((c + 1) * kc).min(k));
        // SAFETY: columns `p0 .. p1` with `p1 <= k`, unmasked: inside `w` and `x` by the
        // contract (the mask is unused unmasked).
        part[c] = unsafe { gemv_sums::<S, MV, KU, false>(w, lda, x, p0, p1, S::mask(S::LANES)) };
    }
    // The block sums added as a tree of fixed shape (not dependent on the direction),
    // written out for the reason given in `gemv_sums`.
    const { assert!(ALTERNATE_BLOCKS.is_power_of_two()) };
    let mut n = ALTERNATE_BLOCKS;
    while n > 1 {
        n /= 2;
        let (low, high) = part.split_at_mut(n);
        for (s, t) in low.iter_mut().zip(&high[..n]) {
            for (a, &b) in s.iter_mut().zip(t) {
                // SAFETY: plain vector arithmetic on values.
                *a = unsafe { S::add(*a, b) };
            }
        }
    }
    *sum = part[0];
}

/// The direction [`gemv_sums_alternating`] reads the weights at `key` (their address) in:
/// `true` (reversed) when the last call with them read forwards, else `false`. A small
/// table of the last addresses seen, each with its direction in the lowest bit (weights
/// are at least 4-byte aligned); a collision or another thread's call only costs the
/// cache hits, never correctness, since both directions give the same result.
fn alternate(key: usize) -> bool {
    use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    static LAST: [AtomicUsize; 16] = [const { AtomicUsize::new(0) }; 16];
    let slot = &LAST[(key >> 6) % LAST.len()];
    let last = slot.load(Relaxed);
    let reverse = last & !1 == key && last & 1 == 0;
    slot.store(key | usize::from(reverse), Relaxed);
    reverse
}

/// `y (o) = w (o×i) · x (i) (+ bias)`, `ReLU` optional: the batch-1 forward pass. Rows in
/// panels of up to 8 vectors, each streaming all `i` columns of `w` once, with enough
/// independent accumulators (`MV·KU = 8`) to keep the FMA units busy.
///
/// SAFETY contract: `w` has `o·i` readable elements (column-major, `w[r + p·o]`), `x` has
/// `i`, `bias` is null or has `o`, `y` has `o` writable elements and overlaps none of them.
// Inlined into the instruction-set entry points in optimised builds (so the
// intrinsics inline); separate small frames in debug builds (see `STACK` in mod.rs).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) unsafe fn gemv<S: Simd>(
    w: *const S::T,
    x: *const S::T,
    bias: *const S::T,
    y: *mut S::T,
    o: usize,
    i: usize,
    relu: bool,
) {
    let l = S::LANES;
    // SAFETY: each panel covers rows `r .. r+mr` with `r + mr <= o` (the loop conditions;
    // the masked one gets `0 < mr = o - r < l`), so its `w` (leading dimension `o`, `i`
    // columns), `bias` and `y` accesses are inside the caller's allocations; `bias`
    // stays null when it is null.
    unsafe {
        let at = |r: usize| if bias.is_null() { bias } else { bias.add(r) };
        // One panel as tall as the matrix: its columns are one contiguous stream.
        match o / l {
            8 if o == 8 * l => {
                return gemv_panel::<S, 8, 2, false, true>(w, o, x, i, bias, y, o, relu)
            }
            4 if o == 4 * l => {
                return gemv_panel::<S, 4, 4, false, true>(w, o, x, i, bias, y, o, relu)
            }
            2 if o == 2 * l => {
                return gemv_panel::<S, 2, 8, false, true>(w, o, x, i, bias, y, o, relu)
            }
            1 if o == l => return gemv_panel::<S, 1, 8, false, true>(w, o, x, i, bias, y, o, relu),
            _ => {}
        }
        let mut r = 0;
        while r + 8 * l <= o {
            gemv_panel::<S, 8, 2, false, false>(w.add(r), o, x, i, at(r), y.add(r), 8 * l, relu);
            r += 8 * l;
        }
        if r + 4 * l <= o {
            gemv_panel::<S, 4, 4, false, false>(w.add(r), o, x, i, at(r), y.add(r), 4 * l, relu);
            r += 4 * l;
        }
        if r + 2 * l <= o {
            gemv_panel::<S, 2, 8, false, false>(w.add(r), o, x, i, at(r), y.add(r), 2 * l, relu);
            r += 2 * l;
        }
        if r + l <= o {
            gemv_panel::<S, 1, 8, false, false>(w.add(r), o, x, i, at(r), y.add(r), l, relu);
            r += l;
        }
        if r < o {
            gemv_panel::<S, 1, 8, true, false>(w.add(r), o, x, i, at(r), y.add(r), o - r, relu);
        }
    }
}
