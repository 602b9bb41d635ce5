//! `aws-sso-auth`: sign in to AWS IAM Identity Center and get role credentials from a
//! terminal, a script or `credential_process`. Run as `docker-credential-aws-sso` (a link
//! to it by that name), it is docker's credential helper for Amazon ECR.

mod cli;

fn main() -> std::process::ExitCode {
    // Docker runs its helpers by name, with the protocol's one argument: told by the
    // name, before any of the command line's own parsing.
    if cli::ecr::helper::invoked_as_helper(std::env::args_os().next().as_deref()) {
        return cli::ecr::helper::main();
    }
    cli::main()
}
