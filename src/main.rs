//! `aws-sso-auth`: sign in to AWS IAM Identity Center and get role credentials from a
//! terminal, a script or `credential_process`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
