//! cargo-fuzz target `manifest`: every input goes to `harness::manifest` (`fuzz/harness.rs` says what it checks).
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::manifest(data));
