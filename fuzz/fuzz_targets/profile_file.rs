//! Arbitrary bytes as a credentials or config file: parse, write a profile, write it
//! again, remove it, checking the invariants of `awsfiles::fuzzing` at each step.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    aws_sso_device_auth_provider::awsfiles::fuzzing::edit_round_trip(data);
});
