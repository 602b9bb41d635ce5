//! Amazon ECR outlet: docker's registry passwords, through a docker credential helper.
//! (workspace: ecr)
//!
//! Which favourite docker logs in as to a registry: the one chosen for it
//! (`ecr_login`), else the only favourite whose credentials are of the registry's
//! account. Its password is kept on disk while more than 30 minutes of its 12 hours are
//! left, so that a warm answer costs one file read.

use super::{blocking, Workspace};
use crate::cache::EcrTokenCache;
use crate::ecr::{self, AuthorizationToken, HelperEntry, Placed, Registry};
use crate::error::{Error, Result};
use crate::instance::validate_region;
use crate::secret::Secret;
use crate::settings::{EcrFavourite, Favourite};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// A registry password for docker.
#[derive(Debug)]
pub struct DockerLogin {
    /// The user name (`AWS`).
    pub username: String,
    /// The password. A secret.
    pub secret: Secret,
    /// The favourite it was got with.
    pub favourite: String,
    /// Something that went wrong on the way that did not stop the answer (a cache or a
    /// profile that could not be written, a password kept from before handed out because
    /// AWS could not be reached).
    pub warning: Option<Error>,
}

/// What `ecr login` did.
#[derive(Debug)]
pub struct EcrLogin {
    /// The registry's host.
    pub registry: String,
    /// The favourite docker logs in as there.
    pub favourite: String,
    /// Its role (and the role it assumes), in words.
    pub source: String,
    /// The favourites that were docker's login to the registry before.
    pub taken_from: Vec<String>,
    /// Docker's config file.
    pub config_file: PathBuf,
    /// What became of the registry's entry in its `credHelpers`.
    pub entry: HelperEntry,
    /// When the password got now expires.
    pub expires_at: std::time::SystemTime,
    /// Where docker finds the helper on `PATH`, if it does.
    pub helper_on_path: Option<PathBuf>,
    /// Something that went wrong on the way that did not stop it.
    pub warning: Option<Error>,
}

/// Where the docker credential helper's link is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperInstalled {
    /// The link.
    pub path: PathBuf,
    /// Made now (else it was there already).
    pub created: bool,
    /// Its directory is on `PATH`.
    pub dir_on_path: bool,
}

impl Workspace {
    /// The registry password docker gets for `registry`: the one kept from before while
    /// more than 30 minutes are left (one file read, nothing else), else a new one from
    /// ECR with the credentials of the favourite chosen for the registry (as
    /// `credential_process` gets them, signing in if the session is over), kept for the
    /// next call.
    pub async fn docker_login(&self, registry: &Registry) -> Result<DockerLogin> {
        let favourite = self.ecr_favourite(registry)?;
        let (token, warning) = self.ecr_token(&favourite, registry).await?;
        let login = token.login().ok_or_else(|| Error::UnexpectedReply {
            operation: "GetAuthorizationToken",
            detail: "a token that is not base64 of USER:PASSWORD".into(),
        })?;
        Ok(DockerLogin {
            username: login.username,
            secret: login.password,
            favourite: favourite.profile.to_string(),
            warning,
        })
    }

    /// The hosts of the registries a favourite is chosen for, in order.
    pub fn docker_registries(&self) -> Vec<String> {
        let settings = self.settings();
        let mut hosts: Vec<String> = settings
            .favourites
            .iter()
            .flat_map(|f| {
                f.ecr_regions
                    .iter()
                    .filter_map(|r| Registry::new(f.credentials_account(), r))
                    .map(|r| r.host())
            })
            .collect();
        hosts.sort();
        hosts.dedup();
        hosts
    }

    /// Whether `username` and `secret` are the password of `registry` this program
    /// hands out now (docker stores back what it was given after a `docker login`).
    pub async fn is_docker_login(&self, registry: &Registry, username: &str, secret: &str) -> bool {
        use subtle::ConstantTimeEq as _;
        let Ok(favourite) = self.ecr_favourite(registry) else {
            return false;
        };
        let (cache, host, source) = (
            self.ecr_token_cache(),
            registry.host(),
            favourite.target_key(),
        );
        let cached = blocking("read of the ECR password", move || {
            Ok(cache.get(&host, &source))
        })
        .await
        .ok()
        .flatten();
        let now = self.now();
        cached
            .filter(|t| now < t.expires_at)
            .and_then(|t| t.login())
            .is_some_and(|login| {
                login.username == username
                    && bool::from(login.password.expose().as_bytes().ct_eq(secret.as_bytes()))
            })
    }

    /// Forgets the password kept for `registry` (the next call gets a new one).
    pub async fn forget_docker_login(&self, registry: &Registry) -> Result<()> {
        let (cache, host) = (self.ecr_token_cache(), registry.host());
        blocking("removal of the ECR password", move || {
            cache.remove(&host).map_err(|source| Error::Io {
                action: "remove",
                path: cache.path_of(&host),
                source,
            })
        })
        .await
    }

    /// Forgets the registry passwords kept for the favourites of `instance` (for its
    /// sign-out: what the session gave goes with it). A failure is logged.
    pub async fn forget_docker_logins_of(&self, instance: &crate::instance::Instance) {
        let (cache, prefix) = (self.ecr_token_cache(), format!("{}|", instance.key()));
        let removed = blocking("removal of ECR passwords", move || {
            cache.remove_sources(&prefix).map_err(|source| Error::Io {
                action: "remove",
                path: cache.dir().to_owned(),
                source,
            })
        })
        .await;
        if let Err(e) = removed {
            tracing::warn!(error = %e, "could not remove kept ECR passwords");
        }
    }

    /// Makes favourite `profile` docker's login to the ECR registry of its account in
    /// `region` (else the favourite's region, else the instance's): gets a password now
    /// (so a role without access is said here, and nothing changes), names the registry
    /// in `credHelpers` of docker's config file, and takes the registry from any other
    /// favourite.
    pub async fn ecr_login(&self, profile: &str, region: Option<&str>) -> Result<EcrLogin> {
        let region = region.map(validate_region).transpose()?;
        let favourite = self
            .settings()
            .find_favourite(profile, &self.shared.paths.settings_file())?
            .clone();
        let region = match region.or_else(|| favourite.region.clone()) {
            Some(r) => r,
            None => validate_region(favourite.instance.region())?,
        };
        let registry =
            Registry::new(favourite.credentials_account(), &region).ok_or_else(|| {
                Error::InvalidRegion {
                    region: region.clone(),
                }
            })?;
        let (token, warning) = self.ecr_token(&favourite, &registry).await?;
        let config_file = self.docker_config_file()?;
        let (file, host) = (config_file.clone(), registry.host());
        let entry = blocking("write of docker's config file", move || {
            ecr::add_cred_helper_to_file(&file, &host, ecr::HELPER_NAME)
        })
        .await?;
        let (name, r) = (profile.to_owned(), region.clone());
        let taken_from = self
            .update_settings(move |s| s.choose_ecr_region(&name, &r))
            .await?;
        Ok(EcrLogin {
            registry: registry.host(),
            favourite: favourite.profile.to_string(),
            source: favourite.source().to_string(),
            taken_from,
            config_file,
            entry,
            expires_at: token.expires_at,
            helper_on_path: self.docker_helper_on_path(),
            warning,
        })
    }

    /// Docker's config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    pub fn docker_config_file(&self) -> Result<PathBuf> {
        let env = &self.shared.options.env;
        if let Some(dir) = env.get("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(dir).join("config.json"));
        }
        let home = self
            .shared
            .paths
            .home()
            .ok_or(Error::NoHome { variable: "HOME" })?;
        Ok(home.join(".docker").join("config.json"))
    }

    /// Where docker finds `docker-credential-aws-sso` on `PATH`, if it does.
    pub fn docker_helper_on_path(&self) -> Option<PathBuf> {
        let path = self.search_path();
        ecr::find_on_path(path.as_deref(), ecr::HELPER_PROGRAM)
    }

    /// Puts `docker-credential-aws-sso`, a link to this program, in `dir`; by default
    /// beside this program if that directory may be written to, else in
    /// `~/.local/bin`. A link there already is fine; anything else there is left alone,
    /// and refused.
    pub async fn install_docker_helper(&self, dir: Option<PathBuf>) -> Result<HelperInstalled> {
        let program = self.shared.options.cli.clone().ok_or(Error::NoCli)?;
        let fallback = self.shared.paths.home().map(|h| h.join(".local/bin"));
        let path = self.search_path();
        blocking("installation of the docker credential helper", move || {
            if let Some(dir) = dir {
                return installed(ecr::place_helper(&program, &dir), &dir, path.as_deref());
            }
            if let Some(beside) = program.parent() {
                let placed = ecr::place_helper(&program, beside);
                let refused = matches!(&placed, Err(e) if may_not_write(e));
                if !refused || fallback.is_none() {
                    return installed(placed, beside, path.as_deref());
                }
            }
            let dir = fallback.ok_or(Error::NoHome { variable: "HOME" })?;
            installed(ecr::place_helper(&program, &dir), &dir, path.as_deref())
        })
        .await
    }

    /// The value of `PATH`.
    fn search_path(&self) -> Option<OsString> {
        self.shared.options.env.get("PATH").map(OsString::from)
    }

    /// The favourite docker logs in as to `registry`, or why there is none.
    fn ecr_favourite(&self, registry: &Registry) -> Result<Favourite> {
        let settings = self.settings();
        match settings.ecr_favourite(registry.account_id(), registry.region()) {
            EcrFavourite::Chosen(f) | EcrFavourite::Only(f) => Ok(f.clone()),
            EcrFavourite::None => Err(Error::EcrNoFavourite {
                registry: registry.host(),
                account_id: registry.account_id().to_owned(),
            }),
            EcrFavourite::Several(list) => Err(Error::EcrNoChoice {
                registry: registry.host(),
                account_id: registry.account_id().to_owned(),
                favourites: list.iter().map(|f| f.profile.to_string()).collect(),
            }),
        }
    }

    /// The password of `registry` as `favourite`: kept, or got now and kept.
    async fn ecr_token(
        &self,
        favourite: &Favourite,
        registry: &Registry,
    ) -> Result<(AuthorizationToken, Option<Error>)> {
        let (cache, host, source) = (
            self.ecr_token_cache(),
            registry.host(),
            favourite.target_key(),
        );
        let (c, h, s) = (cache.clone(), host.clone(), source.clone());
        // An unreadable file only costs the cold path.
        let cached = blocking("read of the ECR password", move || Ok(c.get(&h, &s))).await?;
        let now = self.now();
        if let Some(token) = cached.as_ref().filter(|t| t.fresh_at(now)) {
            return Ok((token.clone(), None));
        }
        let who = format!("favourite '{}' ({})", favourite.profile, favourite.source());
        let got = async {
            let answer = self
                .favourite_credentials(favourite.profile.as_str())
                .await?;
            let endpoint = crate::Endpoints::from_env(self.shared.options.env.lookup())?.ecr;
            let token =
                ecr::authorization_token(&answer.credentials, registry, endpoint.as_deref(), &who)
                    .await?;
            Ok::<_, Error>((token, answer.warning))
        }
        .await;
        let (token, warning) = match got {
            Ok(got) => got,
            // AWS out of reach: a password that ECR still takes beats none.
            Err(e @ (Error::Network { .. } | Error::Gateway { .. } | Error::Throttled { .. })) => {
                match cached.filter(|t| self.now() < t.expires_at) {
                    Some(kept) => return Ok((kept, Some(e))),
                    None => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        let t = token.clone();
        let written = blocking("write of the ECR password", move || {
            cache
                .put(&host, &source, &t)
                .map_err(|source| Error::WriteFailed {
                    path: cache.path_of(&host),
                    source,
                })
        })
        .await;
        Ok((token, written.err().or(warning)))
    }

    /// The private cache of ECR passwords, beside the credentials cache.
    fn ecr_token_cache(&self) -> EcrTokenCache {
        let credentials = self.shared.paths.credentials_cache_dir();
        let dir = match credentials.parent() {
            Some(cache) => cache.join("ecr-tokens"),
            None => credentials.join("ecr-tokens"),
        };
        EcrTokenCache::new(dir)
    }
}

/// A directory this user may not write to (or a read-only file system).
fn may_not_write(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
    )
}

/// What [`ecr::place_helper`] did in `dir`, as an answer.
fn installed(
    placed: std::io::Result<Placed>,
    dir: &Path,
    path: Option<&std::ffi::OsStr>,
) -> Result<HelperInstalled> {
    let link = dir.join(ecr::HELPER_PROGRAM);
    let created = match placed {
        Ok(Placed::Created) => true,
        Ok(Placed::AlreadyThere) => false,
        Ok(Placed::Taken(detail)) => return Err(Error::HelperPathTaken { path: link, detail }),
        Err(source) => {
            return Err(Error::Io {
                action: "create",
                path: link,
                source,
            })
        }
    };
    Ok(HelperInstalled {
        path: link,
        created,
        dir_on_path: ecr::dir_on_path(path, dir),
    })
}
