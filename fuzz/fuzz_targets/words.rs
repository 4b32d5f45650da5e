//! cargo-fuzz target `words`: every input goes to `harness::words` (`fuzz/harness.rs` says what it checks).
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::words(data));
