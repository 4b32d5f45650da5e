//! cargo-fuzz target `trailer`: every input goes to `harness::trailer` (`fuzz/harness.rs` says what it checks).
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::trailer(data));
