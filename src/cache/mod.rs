//! What the product keeps on disk to answer at once: the account list of each instance,
//! the credentials of `credential_process` favourites between calls, the EKS tokens
//! kubectl asks for, the ECR registry passwords docker asks for, and (only when the user
//! asks) a copy of the access token in the AWS CLI's token cache. Each file is private (0600 in a 0700 directory) and written
//! atomically; none is the only copy of anything. Those that hold secrets (credentials,
//! EKS tokens, ECR passwords, the access token) are written 0600 whatever
//! was there before, never through a symlink, and only into a directory of this user
//! that no one else may write to (`atomic_file::write_secret`).

mod accounts;
mod aws_cli;
mod credentials;
mod ecr_tokens;
mod eks_tokens;

pub use accounts::{AccountsCache, CachedAccounts};
pub use aws_cli::{AwsCliTokenCache, SHARED_TOKEN_MARGIN};
pub use credentials::CredentialsCache;
pub use ecr_tokens::EcrTokenCache;
pub use eks_tokens::EksTokenCache;

/// `<hash>.json` for a cache file keyed by `key`: profile names and start URLs may hold
/// `/` and other characters a file name cannot.
fn hashed_file_name(key: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.as_bytes());
    format!("{}.json", crate::hex(&digest[..16]))
}
