//! Amazon EKS outlets: the token kubectl's exec plugin prints ([`token`]), and the
//! entries of a kubeconfig whose user runs it ([`kubeconfig`]).

pub mod kubeconfig;
pub mod token;
