//! The data loaders' cost is bounded by their input and by what the caller declared: a
//! tracking global allocator measures the most heap memory a load holds at once, on
//! crafted inputs (a CSV line of ten million fields, an endless line, a gzip stream that
//! decompresses to far more than its IDX header announces).

use nn_runtime::data::csv::{self, CsvErrorKind, CsvOptions};
#[cfg(feature = "gzip")]
use nn_runtime::data::idx::{self, IdxErrorKind};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Read;

struct Tracking;

thread_local! {
    // Per thread, so that the test harness's other threads are not counted.
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn grow(n: usize) {
    let _ = LIVE.try_with(|l| {
        let v = l.get() + n;
        l.set(v);
        let _ = PEAK.try_with(|p| p.set(p.get().max(v)));
    });
}

fn shrink(n: usize) {
    let _ = LIVE.try_with(|l| l.set(l.get().saturating_sub(n)));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees carry over; the only addition is thread-local bookkeeping, which
// neither allocates (const-initialised `Cell`s) nor touches the memory handed out.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrink(layout.size());
        // SAFETY: `ptr` was returned by `System` through this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as the new block allocated before the old one is freed: the peak of a
        // copying reallocation.
        grow(new_size);
        shrink(layout.size());
        // SAFETY: forwarded unchanged; `ptr` came from `System` with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

/// Runs `f` and returns its result and the most heap bytes held meanwhile beyond what was
/// held before.
fn peak_during<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let r = f();
    (r, PEAK.with(Cell::get) - base)
}

const MIB: usize = 1 << 20;

#[test]
fn a_csv_line_of_ten_million_fields_takes_memory_bounded_by_the_row_width() {
    // 20 MB: "0,0,0,...,0\n" for rows declared 3 columns wide.
    let mut line = "0,".repeat(10_000_000);
    line.pop();
    line.push('\n');
    let options = CsvOptions::new().max_record_bytes(32 * MIB);
    let (r, peak) = peak_during(|| csv::from_reader::<f32, 2, 1, _>(line.as_bytes(), &options));
    let err = r.unwrap_err();
    assert!(
        matches!(
            err.kind,
            CsvErrorKind::Width {
                line: 1,
                expected: 3,
                found: 10_000_000
            }
        ),
        "{err}"
    );
    // The line itself (20 MB, in a buffer that doubles as it grows), not 10 million
    // strings (574 MiB before).
    assert!(peak < 64 * MIB, "peak {} MiB", peak / MIB);
    // With the default limit of 1 MiB, the line is refused after its first MiB.
    let (r, peak) =
        peak_during(|| csv::from_reader::<f32, 2, 1, _>(line.as_bytes(), &CsvOptions::new()));
    let err = r.unwrap_err();
    assert!(
        matches!(err.kind, CsvErrorKind::RecordTooLong { line: 1, limit } if limit == MIB),
        "{err}"
    );
    assert!(peak < 4 * MIB, "peak {} MiB", peak / MIB);
}

/// An endless stream of zero bytes, as `/dev/zero` gives.
struct Zeros;

impl Read for Zeros {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        buf.fill(0);
        Ok(buf.len())
    }
}

#[test]
fn an_endless_csv_line_is_an_error() {
    let (r, peak) = peak_during(|| csv::from_reader::<f64, 2, 1, _>(Zeros, &CsvOptions::new()));
    let err = r.unwrap_err();
    assert!(
        matches!(err.kind, CsvErrorKind::RecordTooLong { line: 1, .. }),
        "{err}"
    );
    assert!(peak < 4 * MIB, "peak {} MiB", peak / MIB);
}

/// A gzip member of `n` zero bytes.
#[cfg(feature = "gzip")]
fn gzip_zeros(prefix: &[u8], n: usize) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut e, prefix).unwrap();
    let zeros = vec![0u8; MIB];
    let mut left = n;
    while left > 0 {
        let k = left.min(MIB);
        std::io::Write::write_all(&mut e, &zeros[..k]).unwrap();
        left -= k;
    }
    e.finish().unwrap()
}

#[cfg(feature = "gzip")]
fn images_header(count: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut v = idx::IMAGES_MAGIC.to_be_bytes().to_vec();
    for d in [count, rows, cols] {
        v.extend(d.to_be_bytes());
    }
    v
}

#[cfg(feature = "gzip")]
#[test]
fn gzip_input_that_outgrows_its_idx_header_stops_at_the_declared_size() {
    // 1000 images of 28x28 announced (784,000 bytes); the stream holds 512 MiB, as
    // members of 1 MiB each that a multi-member decoder reads one after the other.
    let member = gzip_zeros(&[], MIB);
    let mut bomb = gzip_zeros(&images_header(1000, 28, 28), MIB);
    for _ in 1..512 {
        bomb.extend_from_slice(&member);
    }
    assert!(bomb.len() < 2 * MIB, "{} bytes", bomb.len());
    let (r, peak) = peak_during(|| idx::read_images_from(&bomb[..]));
    let err = r.unwrap_err();
    assert!(
        matches!(err.kind, IdxErrorKind::TrailingBytes { .. }),
        "{err}"
    );
    assert!(peak < 4 * MIB, "peak {} MiB", peak / MIB);
}
#[cfg(feature = "gzip")]
#[test]
fn gzip_input_shorter_than_its_idx_header_announces_holds_only_its_compressed_bytes() {
    // 2^31 images of 28x28 announced, 512 MiB there.
    let member = gzip_zeros(&[], MIB);
    let mut bomb = gzip_zeros(&images_header(1 << 31, 28, 28), MIB);
    for _ in 1..512 {
        bomb.extend_from_slice(&member);
    }
    let (r, peak) = peak_during(|| idx::read_images_from(&bomb[..]));
    let err = r.unwrap_err();
    assert!(matches!(err.kind, IdxErrorKind::Truncated { .. }), "{err}");
    // The compressed bytes (about 0.5 MiB), not the 512 MiB they decompress to (which
    // took 1536 MiB before, in a buffer doubling as it grew).
    assert!(peak < 4 * MIB, "peak {} MiB", peak / MIB);
}

#[cfg(feature = "gzip")]
#[test]
fn a_valid_gzip_file_takes_its_data_and_its_compressed_bytes() {
    // 64 images of 32x32 (64 KiB of data), not compressible much.
    let mut raw = images_header(64, 32, 32);
    let mut x = 1u32;
    for _ in 0..64 * 32 * 32 {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        raw.push((x >> 24) as u8);
    }
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut e, &raw).unwrap();
    let gz = e.finish().unwrap();
    let (r, peak) = peak_during(|| idx::read_images_from(&gz[..]));
    let im = r.unwrap();
    assert_eq!(im.pixels(), &raw[16..]);
    assert!(peak < 64 * 1024 + gz.len() + 256 * 1024, "peak {peak}");
}
