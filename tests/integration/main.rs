//! Integration tests: the library, the emulator and the CLI, against the emulator and a
//! real Secret Service. One binary, shared helpers in `util`.

mod ask;
mod awsfiles;
mod cli;
mod credentials_provider;
mod emulator_sdk;
mod populate;
mod provider;
mod renewer;
mod store;
mod sweep;
mod util;
mod workspace;
