//! The FMA peak of one core, measured with independent chains of fused multiply-adds in
//! registers, in f32 and in f64 (shared by the benchmark targets through `#[path]`).
// Each target measures the peak of its own float type and leaves the other unused.
#![allow(dead_code)]

use std::hint::black_box;

/// Chains per measurement: enough to cover the FMA latency on every x86 core we know.
const CHAINS: usize = 16;

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::CHAINS;
    use core::arch::x86_64::*;

    /// `n` rounds of `CHAINS` AVX-512 FMAs on 16 lanes; returns a value that depends on all.
    #[target_feature(enable = "avx512f")]
    pub fn avx512(n: usize, a: f32, b: f32) -> f32 {
        let (va, vb) = (_mm512_set1_ps(a), _mm512_set1_ps(b));
        let mut acc = [_mm512_set1_ps(1.0); CHAINS];
        for _ in 0..n {
            for x in acc.iter_mut() {
                *x = _mm512_fmadd_ps(*x, va, vb);
            }
        }
        let mut s = _mm512_setzero_ps();
        for x in acc {
            s = _mm512_add_ps(s, x);
        }
        _mm512_reduce_add_ps(s)
    }

    /// `n` rounds of `CHAINS` AVX2 FMAs on 8 lanes.
    #[target_feature(enable = "avx2,fma")]
    pub fn avx2(n: usize, a: f32, b: f32) -> f32 {
        let (va, vb) = (_mm256_set1_ps(a), _mm256_set1_ps(b));
        let mut acc = [_mm256_set1_ps(1.0); CHAINS];
        for _ in 0..n {
            for x in acc.iter_mut() {
                *x = _mm256_fmadd_ps(*x, va, vb);
            }
        }
        let mut s = _mm256_setzero_ps();
        for x in acc {
            s = _mm256_add_ps(s, x);
        }
        let mut out = [0.0f32; 8];
        // SAFETY: `out` has exactly 8 elements.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr(), s) };
        out.iter().sum()
    }

    /// `n` rounds of `CHAINS` SSE2 multiply-then-add pairs on 4 lanes (the baseline
    /// target has no FMA): two flops per lane per pair, like an FMA.
    pub fn sse2(n: usize, a: f32, b: f32) -> f32 {
        // SAFETY: SSE2 is part of the x86-64 baseline.
        unsafe {
            let (va, vb) = (_mm_set1_ps(a), _mm_set1_ps(b));
            let mut acc = [_mm_set1_ps(1.0); CHAINS];
            for _ in 0..n {
                for x in acc.iter_mut() {
                    *x = _mm_add_ps(_mm_mul_ps(*x, va), vb);
                }
            }
            let mut s = _mm_setzero_ps();
            for x in acc {
                s = _mm_add_ps(s, x);
            }
            let mut out = [0.0f32; 4];
            _mm_storeu_ps(out.as_mut_ptr(), s);
            out.iter().sum()
        }
    }

    /// `n` rounds of `CHAINS` AVX-512 FMAs on 8 f64 lanes.
    #[target_feature(enable = "avx512f")]
    pub fn avx512_f64(n: usize, a: f64, b: f64) -> f64 {
        let (va, vb) = (_mm512_set1_pd(a), _mm512_set1_pd(b));
        let mut acc = [_mm512_set1_pd(1.0); CHAINS];
        for _ in 0..n {
            for x in acc.iter_mut() {
                *x = _mm512_fmadd_pd(*x, va, vb);
            }
        }
        let mut s = _mm512_setzero_pd();
        for x in acc {
            s = _mm512_add_pd(s, x);
        }
        _mm512_reduce_add_pd(s)
    }

    /// `n` rounds of `CHAINS` AVX2 FMAs on 4 f64 lanes.
    #[target_feature(enable = "avx2,fma")]
    pub fn avx2_f64(n: usize, a: f64, b: f64) -> f64 {
        let (va, vb) = (_mm256_set1_pd(a), _mm256_set1_pd(b));
        let mut acc = [_mm256_set1_pd(1.0); CHAINS];
        for _ in 0..n {
            for x in acc.iter_mut() {
                *x = _mm256_fmadd_pd(*x, va, vb);
            }
        }
        let mut s = _mm256_setzero_pd();
        for x in acc {
            s = _mm256_add_pd(s, x);
        }
        let mut out = [0.0f64; 4];
        // SAFETY: `out` has exactly 4 elements.
        unsafe { _mm256_storeu_pd(out.as_mut_ptr(), s) };
        out.iter().sum()
    }

    /// `n` rounds of `CHAINS` SSE2 multiply-then-add pairs on 2 f64 lanes.
    pub fn sse2_f64(n: usize, a: f64, b: f64) -> f64 {
        // SAFETY: SSE2 is part of the x86-64 baseline.
        unsafe {
            let (va, vb) = (_mm_set1_pd(a), _mm_set1_pd(b));
            let mut acc = [_mm_set1_pd(1.0); CHAINS];
            for _ in 0..n {
                for x in acc.iter_mut() {
                    *x = _mm_add_pd(_mm_mul_pd(*x, va), vb);
                }
            }
            let mut s = _mm_setzero_pd();
            for x in acc {
                s = _mm_add_pd(s, x);
            }
            let mut out = [0.0f64; 2];
            _mm_storeu_pd(out.as_mut_ptr(), s);
            out.iter().sum()
        }
    }
}

/// Rounds per call of the peak benchmarks.
pub const ROUNDS: usize = 4096;

/// The flops of one call of a peak benchmark with `lanes` lanes.
pub fn peak_flops(lanes: usize) -> u64 {
    (ROUNDS * CHAINS * lanes * 2) as u64
}

/// One f32 peak loop: its instruction set, its lanes, and a call of it.
type Loop = (&'static str, usize, fn() -> f32);

/// The f32 peak loops this machine can run, widest first. A loop that needs AVX-512F or
/// AVX2+FMA is listed only when that was detected at run time, which makes its call sound.
fn f32_loops() -> Vec<Loop> {
    let mut loops: Vec<Loop> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: AVX-512F was detected at run time just above.
            loops.push(("avx512f", 16, || unsafe {
                x86::avx512(ROUNDS, black_box(0.999), black_box(1e-3))
            }));
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: AVX2 and FMA were detected at run time just above.
            loops.push(("avx2", 8, || unsafe {
                x86::avx2(ROUNDS, black_box(0.999), black_box(1e-3))
            }));
        }
        loops.push(("sse2", 4, || {
            x86::sse2(ROUNDS, black_box(0.999), black_box(1e-3))
        }));
    }
    loops
}

/// Registers the peak benchmarks that this machine can run, as `<group>/<isa>`. Each
/// bench target measures it first (`peak`) and last (`peak_end`): the machine is shared,
/// and the report takes the best.
pub fn bench_peak(c: &mut criterion::Criterion, group: &str) {
    let mut g = c.benchmark_group(group);
    g.warm_up_time(std::time::Duration::from_millis(300));
    g.measurement_time(std::time::Duration::from_secs(1));
    for (isa, lanes, run) in f32_loops() {
        g.throughput(criterion::Throughput::Elements(peak_flops(lanes)));
        g.bench_function(isa, |bch| bch.iter(run));
    }
    g.finish();
}

/// Registers `peak` in the group `g`: the FMA peak of the widest instruction set this
/// machine has, measured right beside the group's other functions. The machine is shared
/// and its load changes during a run, so the report computes the share of peak of a cell
/// with a share-of-peak target (the batched network cells, the 64x64 dense+tanh layer)
/// against this measurement, taken under the same load, and also shows the run's peak.
/// Restores the group's throughput to `flops` for the functions after it.
pub fn bench_beside(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    flops: u64,
) {
    if let Some(&(_, lanes, run)) = f32_loops().first() {
        g.throughput(criterion::Throughput::Elements(peak_flops(lanes)));
        g.bench_function("peak", |bch| bch.iter(run));
    }
    g.throughput(criterion::Throughput::Elements(flops));
}

/// The f64 peak, registered like [`bench_peak`] as `<group>/<isa>` (the f64 target uses the
/// groups `f64/peak` and `f64/peak_end`): half the lanes of the f32 peak per instruction.
pub fn bench_peak_f64(c: &mut criterion::Criterion, group: &str) {
    let mut g = c.benchmark_group(group);
    g.warm_up_time(std::time::Duration::from_millis(300));
    g.measurement_time(std::time::Duration::from_secs(1));
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            g.throughput(criterion::Throughput::Elements(peak_flops(8)));
            // SAFETY: AVX-512F was detected at run time just above.
            g.bench_function("avx512f", |bch| {
                bch.iter(|| unsafe { x86::avx512_f64(ROUNDS, black_box(0.999), black_box(1e-3)) })
            });
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            g.throughput(criterion::Throughput::Elements(peak_flops(4)));
            // SAFETY: AVX2 and FMA were detected at run time just above.
            g.bench_function("avx2", |bch| {
                bch.iter(|| unsafe { x86::avx2_f64(ROUNDS, black_box(0.999), black_box(1e-3)) })
            });
        }
        g.throughput(criterion::Throughput::Elements(peak_flops(2)));
        g.bench_function("sse2", |bch| {
            bch.iter(|| x86::sse2_f64(ROUNDS, black_box(0.999), black_box(1e-3)))
        });
    }
    g.finish();
}

/// The sum of `buf`, read with the widest vector loads the core has (AVX-512 if detected),
/// eight independent sums: a read of `buf` limited only by where it comes from. Used as the
/// memory floor of a batch-1 layer whose weights do not fit in L1.
pub fn stream_sum(buf: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: AVX-512F was detected at run time just above.
            return unsafe { x86_stream::avx512(buf) };
        }
    }
    let mut acc = [0.0f32; 32];
    let mut chunks = buf.chunks_exact(32);
    for c in &mut chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    acc.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

#[cfg(target_arch = "x86_64")]
mod x86_stream {
    use core::arch::x86_64::*;

    /// Eight 16-lane sums over `buf`, then the tail.
    #[target_feature(enable = "avx512f")]
    pub fn avx512(buf: &[f32]) -> f32 {
        let mut acc = [_mm512_setzero_ps(); 8];
        let mut blocks = buf.chunks_exact(128);
        for b in &mut blocks {
            for (k, a) in acc.iter_mut().enumerate() {
                // SAFETY: `b` has 128 elements, so elements `16k .. 16k+16` (k < 8) are in
                // bounds; unaligned loads are allowed.
                *a = _mm512_add_ps(*a, unsafe { _mm512_loadu_ps(b.as_ptr().add(16 * k)) });
            }
        }
        let mut s = _mm512_setzero_ps();
        for a in acc {
            s = _mm512_add_ps(s, a);
        }
        _mm512_reduce_add_ps(s) + blocks.remainder().iter().sum::<f32>()
    }
}
