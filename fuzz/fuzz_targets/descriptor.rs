//! cargo-fuzz target `descriptor`: every input goes to `harness::descriptor` (`fuzz/harness.rs` says what it checks).
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::descriptor(data));
