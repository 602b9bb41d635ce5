//! `aws-sso-auth eks …`: tokens for kubectl ([`super::eks_token`]) and clusters in the
//! kubeconfig ([`super::kubeconfig`]).

use super::args::EksCommand;
use aws_sso_device_auth_provider::Error;

pub async fn eks(command: EksCommand) -> Result<(), Error> {
    match command {
        EksCommand::Token(args) => super::eks_token::token(args).await,
        EksCommand::Kubeconfig(args) => super::kubeconfig::kubeconfig(args).await,
        EksCommand::Clusters(args) => super::kubeconfig::clusters(args).await,
    }
}
