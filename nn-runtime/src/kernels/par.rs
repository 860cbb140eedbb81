//! The `parallel` feature: large batched products split over rayon's threads.
//!
//! A product is split along the columns of its output (the samples of a forward pass or
//! of an input gradient, the input features of a weight gradient) into as many parts as
//! rayon has threads, at most, and no smaller than [`PAR_MIN_MACS`]: each part is an
//! ordinary product on its own columns, and the parts run in nested
//! [`rayon::in_place_scope`]s: the calling thread runs one part while another thread of
//! the pool takes the other (a `rayon::join` called from outside the pool would instead
//! hand both to the pool and wait, one more hand-over between threads).
//! The split is made inside the instruction-set entry point, where the register tiles are
//! known, at a column where both parts keep every column in the tile (and the kernel) it
//! has in the whole product: each output element is then computed by the same operations
//! as on one thread, so the results are bitwise those of one thread, whatever the number
//! of threads.
//!
//! What is not split: one-sample products (`B == 1`; their matrix-vector product is
//! limited by the bandwidth at which the weights arrive, and splitting it costs more than
//! it saves on small layers), weight gradients of batches below `SMALL_BATCH`, input
//! gradients of batches smaller than two of their tiles (the packed path's tiles are
//! `MV·LANES` samples: 32 in `f32` with AVX-512), and anything below twice
//! [`PAR_MIN_MACS`] multiply-adds.

use super::gemm::{same_tiles, weight_grad_gemm, Gemm, KC};
use super::{Op, PAR_MIN_MACS};
use crate::scalar::Scalar;
use core::cell::Cell;

/// [`PAR_MIN_MACS`], lowered in unit tests so that debug-build tests can split
/// products of a few million multiply-adds.
const MIN_MACS: usize = if cfg!(test) { 1 << 16 } else { PAR_MIN_MACS };

/// The register tiles of the entry point a product runs in (see `entry_points!`).
#[derive(Clone, Copy)]
pub(super) struct Tiles {
    /// Columns of a full tile (`NR`).
    pub nr: usize,
    /// Rows of a full tile (`MV·LANES`): the samples in a block of the packed input
    /// gradient.
    pub rows: usize,
    /// Elements of a vector.
    pub lanes: usize,
}

/// Products split so far (tests check that the large ones were).
#[cfg(test)]
pub(super) static SPLITS: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

thread_local! {
    /// Set inside [`sequential`]: products on this thread are not split.
    static SEQUENTIAL: Cell<bool> = const { Cell::new(false) };
}

/// [`super::sequential`] with the `parallel` feature.
pub(super) fn sequential<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            SEQUENTIAL.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SEQUENTIAL.with(|s| s.replace(true)));
    f()
}

/// Whether products on this thread are kept on it ([`sequential`]).
#[cfg(test)]
pub(super) fn is_sequential() -> bool {
    SEQUENTIAL.with(Cell::get)
}

/// One part of a split product, sent to another thread.
struct Part<T>(Op<T>);

// SAFETY: a `Part` is one part of an operation whose caller (see `run`'s contract)
// guarantees that its inputs stay readable and unwritten and its output writable and
// unaliased until `run` returns; the scope returns only after both parts have finished, and
// the parts write disjoint columns of the output (see `split`). `T` is `f32` or `f64`.
unsafe impl<T: Send> Send for Part<T> {}

impl<T: Scalar> Part<T> {
    /// # Safety
    /// The contract of `run` for this part.
    unsafe fn run(self, ways: usize, tiles: Tiles) {
        // SAFETY: forwarded. A part that is not split again runs on this thread (the
        // same entry point is chosen again: instruction sets do not change at run time).
        unsafe {
            if !run_split(&self.0, ways, tiles) {
                sequential(|| super::run(&self.0))
            }
        }
    }
}

/// Runs `op` split over rayon's threads when it is large enough to pay for it; returns
/// `false` (having done nothing) when it is not. Called by the entry point that runs
/// `op` with `tiles`.
///
/// # Safety
/// The contract of `run` for `op`.
pub(super) unsafe fn try_split<T: Scalar>(op: &Op<T>, tiles: Tiles) -> bool {
    if SEQUENTIAL.with(Cell::get) {
        return false;
    }
    // A test that caps the instruction set on its thread keeps its products there (the
    // workers would use any instruction set).
    #[cfg(test)]
    if super::LEVEL_CAP.with(Cell::get) < 2 {
        return false;
    }
    // SAFETY: forwarded.
    unsafe { run_split(op, rayon::current_num_threads(), tiles) }
}

/// Runs `op` in up to `ways` parts of at least [`PAR_MIN_MACS`] multiply-adds each: two
/// in one scope, each splitting again with its share of the ways. Returns `false`
/// (having done nothing) when `op` cannot be split in two.
///
/// # Safety
/// The contract of `run` for `op`.
unsafe fn run_split<T: Scalar>(op: &Op<T>, ways: usize, tiles: Tiles) -> bool {
    let ways = ways.min(macs(op) / MIN_MACS);
    let left = ways / 2;
    let Some((a, b)) = split(op, left, ways, tiles) else {
        return false;
    };
    #[cfg(test)]
    SPLITS.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    let (a, b) = (Part(a), Part(b));
    // SAFETY: each part covers a subset of `op`'s columns (see `split`), so the contract
    // of `run` for `op` covers it; `in_place_scope` returns once both have run.
    rayon::in_place_scope(move |s| {
        s.spawn(move |_| unsafe { b.run(ways - left, tiles) });
        unsafe { a.run(left, tiles) }
    });
    true
}

/// The multiply-adds of `op`, counting only the products [`split`] can split.
fn macs<T>(op: &Op<T>) -> usize {
    match *op {
        Op::Gemm(ref g) => g.m * g.n * g.k,
        Op::WeightGrad(_, _, _, o, i, b, _, _) if b >= super::SMALL_BATCH => o * i * b,
        Op::InputGrad(_, _, _, o, i, b, _) => o * i * b,
        _ => 0,
    }
}

/// The column nearest to dividing `n` columns as `left : ways - left` at which `ok`
/// holds, searching multiples of `step` outwards from the ideal point; `None` when the
/// ratio leaves a side empty (`left == 0` or `left >= ways`) or no column will do.
fn split_point(
    n: usize,
    left: usize,
    ways: usize,
    step: usize,
    ok: impl Fn(usize) -> bool,
) -> Option<usize> {
    if left == 0 || left >= ways || step == 0 {
        return None;
    }
    let ideal = n * left / ways;
    let below = (1..=ideal / step).rev().map(|t| t * step);
    let above = (ideal / step + 1..)
        .map(|t| t * step)
        .take_while(|&j| j < n);
    // Nearest first: interleave the candidates below and above the ideal point.
    let mut below = below.peekable();
    let mut above = above.peekable();
    loop {
        let next = match (below.peek(), above.peek()) {
            (Some(&b), Some(&a)) if ideal - b <= a - ideal => below.next(),
            (_, Some(_)) => above.next(),
            (Some(_), None) => below.next(),
            (None, None) => return None,
        }?;
        if ok(next) {
            return Some(next);
        }
    }
}

/// `op` as two products on the column ranges `0 .. j` and `j .. n` of its output, `j`
/// dividing them as near `left : ways - left` as the tiles allow; `None` when it cannot
/// be split so. The parts write disjoint columns of `op`'s output, read only what `op`
/// reads, and keep each column in the tile and kernel it has in `op`.
fn split<T: Scalar>(op: &Op<T>, left: usize, ways: usize, tiles: Tiles) -> Option<(Op<T>, Op<T>)> {
    match *op {
        Op::Gemm(g) => split_gemm(g, left, ways, tiles).map(|(a, b)| (Op::Gemm(a), Op::Gemm(b))),
        Op::WeightGrad(dy, x, dw, o, i, b, alpha, acc) if b >= super::SMALL_BATCH => {
            // The tiled weight gradient is this product (`gemm::weight_grad`).
            let g = weight_grad_gemm(dy, x, dw, o, i, b, alpha, acc);
            split_gemm(g, left, ways, tiles).map(|(a, b)| (Op::Gemm(a), Op::Gemm(b)))
        }
        Op::InputGrad(w, dy, dx, o, i, b, gate) => {
            let l = tiles.lanes;
            // The kernel `input_grad_generic` chooses for `bb` samples: `Some(true)` for
            // the transposed-weights path, whose tiles are columns of samples;
            // `Some(false)` for the packed one, in blocks of `tiles.rows` samples; `None`
            // for dot products (not split).
            let path = |bb: usize| (bb >= l).then_some(o < bb && o <= KC);
            let whole = path(b)?;
            let j = if whole {
                split_point(b, left, ways, tiles.nr, |j| {
                    same_tiles(b, j, tiles.nr) && path(j) == Some(true) && path(b - j) == Some(true)
                })
            } else {
                split_point(b, left, ways, tiles.rows, |j| {
                    path(j) == Some(false) && path(b - j) == Some(false)
                })
            }?;
            let at = |p: *const T, off: usize| if p.is_null() { p } else { p.wrapping_add(off) };
            Some((
                Op::InputGrad(w, dy, dx, o, i, j, gate),
                Op::InputGrad(
                    w,
                    dy.wrapping_add(j * o),
                    dx.wrapping_add(j * i),
                    o,
                    i,
                    b - j,
                    at(gate, j * i),
                ),
            ))
        }
        _ => None,
    }
}

/// `g` as its columns `0 .. j` and `j .. n`, split near `left : ways - left` where both
/// parts keep each column's tile.
fn split_gemm<T: Copy>(
    g: Gemm<T>,
    left: usize,
    ways: usize,
    tiles: Tiles,
) -> Option<(Gemm<T>, Gemm<T>)> {
    let j = split_point(g.n, left, ways, tiles.nr, |j| same_tiles(g.n, j, tiles.nr))?;
    let right = Gemm {
        n: g.n - j,
        // `wrapping_add`: these are addresses inside the product's operands (column `j`
        // of `B` and of `C`, `j < n`), dereferenced only by the kernel under its contract.
        b: g.b.wrapping_add(j * g.csb),
        c: g.c.wrapping_add(j * g.ldc),
        ..g
    };
    Some((Gemm { n: j, ..g }, right))
}
