//! cargo-fuzz target `venv_key`: every input goes to `harness::venv_key` (`fuzz/harness.rs` says what it checks).
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::venv_key(data));
