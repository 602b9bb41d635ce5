//! Amazon ECR outlet: docker's registry passwords, through a docker credential helper.
//!
//! Docker runs `docker-credential-aws-sso` (this project's command line under that name)
//! for the registries `credHelpers` of its config file names; the helper answers with the
//! password of the favourite chosen for the registry (`GetAuthorizationToken` with its
//! credentials, kept in a private cache while more than 30 minutes of its 12 hours are
//! left). `registry` reads docker's server URLs strictly, `token` gets and reads the
//! password, `docker_config` adds the registry to `credHelpers` as text, `helper` puts
//! the helper's link beside the program.

mod docker_config;
mod helper;
mod registry;
mod token;

pub use docker_config::{add_cred_helper, add_cred_helper_to_file, HelperEntry, Refusal};
pub use helper::{dir_on_path, find_on_path, place_helper, Placed};
pub use registry::Registry;
pub use token::{authorization_token, AuthorizationToken, Login, TOKEN_MARGIN};

/// The name docker runs the helper by: `docker-credential-` and the name in
/// `credHelpers`.
pub const HELPER_PROGRAM: &str = "docker-credential-aws-sso";

/// The helper's name in docker's `credHelpers`.
pub const HELPER_NAME: &str = "aws-sso";

/// The user name of every ECR registry password.
pub const ECR_USER: &str = "AWS";
