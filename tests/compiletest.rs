//! Compile-time diagnostics of `network!`: every error case must fail to compile with the
//! committed message, every pass case must compile.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/parse/*.rs");
    t.compile_fail("tests/ui/validate/*.rs");
    t.compile_fail("tests/ui/types/*.rs");
}
