#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| expense_fuzz::money(data));
