//! The unpublished workspace package: it owns the examples, integration tests and
//! benchmarks. Its library only compiles the README's code blocks as doctests, so the
//! README cannot drift from the library.

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
