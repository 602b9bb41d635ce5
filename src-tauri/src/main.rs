//! The aws-sso-tray app: see the library crate.
// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    aws_sso_tray::main()
}
