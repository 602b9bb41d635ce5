//! Integration tests: the library, the emulator and the CLI, against the emulator and a
//! real Secret Service. One binary, shared helpers in `util`.

mod architecture;
// Unix sockets, D-Bus and runuser.
#[cfg(target_os = "linux")]
mod ask;
mod awsfiles;
mod boundary;
// The CLI helpers, and botocore.
#[cfg(unix)]
mod chain;
// Shell scripts as $BROWSER, `kill`, Unix symlinks.
#[cfg(unix)]
mod cli;
// Shell scripts and python3 as browsers on PATH, and the CLI helpers.
#[cfg(unix)]
mod console;
mod credentials_provider;
// The CLI helpers, Unix symlinks and modes, python3 and the docker client.
#[cfg(unix)]
mod docker;
// The CLI helpers, awscli (botocore) and kubectl.
#[cfg(unix)]
mod eks_token;
mod emulator_eks_ecr;
mod emulator_sdk;
// The CLI helpers, botocore, Unix sockets and runuser.
#[cfg(target_os = "linux")]
mod exec;
// exec with Node.js and the AWS SDKs for JavaScript and Rust.
#[cfg(target_os = "linux")]
mod exec_clients;
// The real `exec` process, raw requests to its endpoint, and runuser.
#[cfg(target_os = "linux")]
mod exec_refusals;
// Shell scripts as $BROWSER, Unix modes and symlinks.
#[cfg(unix)]
mod handoff;
// The CLI helpers; a second loopback address.
#[cfg(unix)]
mod hardening;
// The CLI helpers, and Node.js with the AWS SDK for JavaScript.
#[cfg(unix)]
mod js_sdk;
// The CLI helpers, Unix modes, and kubectl.
#[cfg(unix)]
mod kubeconfig;
// Botocore, and the CLI helpers.
#[cfg(target_os = "linux")]
mod populate;
mod provider;
mod renewer;
mod rules;
mod settings_limits;
mod store;
// Unix symlinks, and the CLI helpers.
#[cfg(unix)]
mod sweep;
mod util;
mod workspace;
