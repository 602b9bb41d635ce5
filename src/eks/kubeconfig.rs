//! A kubeconfig edited as text, keeping everything of the person's but our entries.
//!
//! For a favourite and an EKS cluster, kubectl needs three entries: the cluster, named by
//! its ARN as `aws eks update-kubeconfig` names it (`server`,
//! `certificate-authority-data`); a user named `aws-sso-auth:FAVOURITE:ARN` whose exec
//! plugin runs `aws-sso-auth eks token … --profile FAVOURITE`; and a context that joins
//! them, named `FAVOURITE@CLUSTER` unless the person names it.
//!
//! The person's kubeconfig holds years of hand edits, comments and other tools' entries,
//! so it is never parsed and written back: the text is edited where our items go (the
//! item of the top-level `clusters:`, `contexts:` or `users:` sequence whose `name:` is
//! ours is replaced, or an item is appended at the sequence's end with its own
//! indentation; a missing key, `key: []` or `key: null` becomes a block sequence). Then
//! the result is parsed and compared with the original parsed and changed as intended: any
//! other difference, and nothing is written. Every string we add is a JSON-style
//! double-quoted scalar (valid YAML), so no name can inject YAML.
//!
//! A file that is not YAML, or whose shape is not a kubeconfig's, is the person's: an
//! error names it (and the line), and it is left as it is.

use crate::atomic_file;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};
use yaml_rust2::yaml::Hash;
use yaml_rust2::{Yaml, YamlLoader};

/// The start of the name of every kubeconfig user this project writes.
pub const USER_PREFIX: &str = "aws-sso-auth:";

/// The exec plugin's API that kubectl 1.20 and later take (`v1` needs 1.22).
pub const EXEC_API_VERSION: &str = "client.authentication.k8s.io/v1beta1";

/// The program name that the exec users run.
const PROGRAM: &str = "aws-sso-auth";

/// The three lists of a kubeconfig whose items are named.
const LISTS: [&str; 3] = ["clusters", "contexts", "users"];

const CURRENT_CONTEXT: &str = "current-context";

/// The entries of one favourite for one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterEntries {
    /// The cluster's ARN, which names its kubeconfig cluster.
    pub cluster_arn: String,
    /// The cluster's name, as `eks token --cluster` takes it.
    pub cluster_name: String,
    /// The API server's URL.
    pub server: String,
    /// The base64 of the PEM of the cluster's certificate authority.
    pub certificate_authority_data: String,
    /// The favourite's profile name.
    pub profile: String,
    /// The cluster's region.
    pub region: String,
    /// The absolute path of the `aws-sso-auth` program kubectl runs.
    pub command: String,
    /// The context's name.
    pub context: String,
}

impl ClusterEntries {
    /// The name of the user: `aws-sso-auth:FAVOURITE:ARN`.
    pub fn user_name(&self) -> String {
        format!("{USER_PREFIX}{}:{}", self.profile, self.cluster_arn)
    }

    /// The context's name when the person names none: `FAVOURITE@CLUSTER`.
    pub fn default_context(profile: &str, cluster_name: &str) -> String {
        format!("{profile}@{cluster_name}")
    }

    /// The arguments of the exec plugin.
    pub fn args(&self) -> Vec<String> {
        [
            "eks",
            "token",
            "--cluster",
            &self.cluster_name,
            "--profile",
            &self.profile,
            "--region",
            &self.region,
        ]
        .map(str::to_owned)
        .to_vec()
    }

    fn cluster_item(&self) -> V {
        V::M(vec![
            (
                "cluster",
                V::M(vec![
                    (
                        "certificate-authority-data",
                        V::S(self.certificate_authority_data.clone()),
                    ),
                    ("server", V::S(self.server.clone())),
                ]),
            ),
            ("name", V::S(self.cluster_arn.clone())),
        ])
    }

    fn context_item(&self) -> V {
        V::M(vec![
            (
                "context",
                V::M(vec![
                    ("cluster", V::S(self.cluster_arn.clone())),
                    ("user", V::S(self.user_name())),
                ]),
            ),
            ("name", V::S(self.context.clone())),
        ])
    }

    fn user_item(&self) -> V {
        V::M(vec![
            ("name", V::S(self.user_name())),
            (
                "user",
                V::M(vec![(
                    "exec",
                    V::M(vec![
                        ("apiVersion", V::S(EXEC_API_VERSION.to_owned())),
                        ("args", V::L(self.args())),
                        ("command", V::S(self.command.clone())),
                    ]),
                )]),
            ),
        ])
    }
}

/// Which entries a removal takes: a favourite's users (known by their exec arguments
/// `eks token … --profile FAVOURITE`), optionally only those for one cluster (and region),
/// the contexts that use them, and the clusters named by an EKS ARN that no other context
/// uses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Removal {
    /// The favourite's profile name.
    pub profile: String,
    /// Only the users for this cluster name.
    #[serde(default)]
    pub cluster: Option<String>,
    /// Only the users for this region.
    #[serde(default)]
    pub region: Option<String>,
}

impl Removal {
    /// Every entry of the favourite.
    pub fn favourite(profile: &str) -> Self {
        Self {
            profile: profile.to_owned(),
            cluster: None,
            region: None,
        }
    }
}

/// Named entries of a kubeconfig.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Entries {
    /// Context names.
    pub contexts: Vec<String>,
    /// User names.
    pub users: Vec<String>,
    /// Cluster names.
    pub clusters: Vec<String>,
}

impl Entries {
    /// No entry at all.
    pub fn is_empty(&self) -> bool {
        self.contexts.is_empty() && self.users.is_empty() && self.clusters.is_empty()
    }
}

/// What adding a favourite's entries did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Added {
    /// The kubeconfig.
    pub path: PathBuf,
    /// The context's name.
    pub context: String,
    /// The cluster's name (its ARN).
    pub cluster: String,
    /// The user's name.
    pub user: String,
    /// The file was written (false: it held these entries already).
    pub changed: bool,
    /// `current-context` was set to the context (the file had none).
    pub current_context_set: bool,
    /// The file's `current-context` now, if it has one.
    pub current_context: Option<String>,
}

/// What removing a favourite's entries did (or, for [`Kubeconfig::entries`], would do).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Removed {
    /// The kubeconfig.
    pub path: PathBuf,
    /// The entries removed.
    pub entries: Entries,
    /// `current-context` named a removed context, and is now empty.
    pub current_context_cleared: bool,
    /// The file was written.
    pub changed: bool,
}

/// A cluster to add to the kubeconfig for a favourite, as a person gives it (the window
/// sends this shape as it is, in camelCase).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeconfigRequest {
    /// The favourite's profile name.
    pub profile: String,
    /// The cluster's name.
    pub cluster: String,
    /// The cluster's region (default: the favourite's, else its instance's).
    #[serde(default)]
    pub region: Option<String>,
    /// The context's name (default: `FAVOURITE@CLUSTER`).
    #[serde(default)]
    pub alias: Option<String>,
}

/// The EKS clusters a favourite's role sees in one region.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EksClusters {
    /// The favourite.
    pub profile: String,
    /// The region.
    pub region: String,
    /// The clusters' names, as EKS lists them.
    pub clusters: Vec<String>,
}

/// The kubeconfig this project edits: the first file `KUBECONFIG` names, else
/// `~/.kube/config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kubeconfig {
    path: PathBuf,
    /// `KUBECONFIG` names other files too, whose `current-context` kubectl may use.
    others: bool,
}

impl Kubeconfig {
    /// The file at `path`, alone.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            others: false,
        }
    }

    /// Where kubectl looks first: the first file of `KUBECONFIG` (a list separated as
    /// `PATH` is: `:`, or `;` on Windows), else `.kube/config` in the home directory
    /// (`HOME`, else `USERPROFILE`).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        if let Some(list) = get("KUBECONFIG").filter(|v| !v.is_empty()) {
            let files: Vec<PathBuf> = std::env::split_paths(&list)
                .filter(|p| !p.as_os_str().is_empty())
                .collect();
            if let Some(first) = files.first() {
                return Ok(Self {
                    path: first.clone(),
                    others: files.len() > 1,
                });
            }
        }
        let home = crate::env::home_dir(get).ok_or(Error::NoHome {
            variable: "KUBECONFIG",
        })?;
        Ok(Self::new(home.join(".kube").join("config")))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds (or updates) the entries of `entries`; `current-context` is set to its
    /// context only when the file has none (and `KUBECONFIG` names no other file).
    pub fn add(&self, entries: &ClusterEntries) -> Result<Added> {
        let may_set = !self.others;
        let (outcome, changed) = self.update(|text| add_text(text, entries, may_set))?;
        Ok(Added {
            path: self.path.clone(),
            context: entries.context.clone(),
            cluster: entries.cluster_arn.clone(),
            user: entries.user_name(),
            changed,
            current_context_set: outcome.current_context_set,
            current_context: outcome.current_context,
        })
    }

    /// Removes the entries `removal` names.
    pub fn remove(&self, removal: &Removal) -> Result<Removed> {
        let (outcome, changed) = self.update(|text| remove_text(text, removal))?;
        Ok(Removed {
            path: self.path.clone(),
            entries: outcome.entries,
            current_context_cleared: outcome.current_context_cleared,
            changed,
        })
    }

    /// The entries [`Self::remove`] would remove, read without a lock; a missing file has
    /// none.
    pub fn entries(&self, removal: &Removal) -> Result<Removed> {
        let target =
            atomic_file::resolve(&self.path).map_err(|e| self.io("follow the links of", e))?;
        let text = self.read(&target)?;
        let (_, outcome) = remove_text(&text, removal).map_err(|e| e.into_error(&self.path))?;
        Ok(Removed {
            path: self.path.clone(),
            entries: outcome.entries,
            current_context_cleared: outcome.current_context_cleared,
            changed: false,
        })
    }

    fn io(&self, action: &'static str, source: std::io::Error) -> Error {
        Error::Io {
            action,
            path: self.path.clone(),
            source,
        }
    }

    /// The file's text ("" when it does not exist).
    fn read(&self, target: &Path) -> Result<String> {
        let bytes = match std::fs::read(target) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(String::new()),
            Err(e) => return Err(self.io("read", e)),
        };
        String::from_utf8(bytes).map_err(|e| {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            Error::KubeconfigUnreadable {
                path: self.path.clone(),
                problem: format!(
                    "is not UTF-8 text (line {})",
                    valid.iter().filter(|&&b| b == b'\n').count() + 1
                ),
            }
        })
    }

    /// Edits the file with `edit` under its lock, writing it atomically if the text
    /// changed. A rehearsal without the lock comes first, so that an edit that fails
    /// creates neither the directory nor the lock file.
    fn update<R>(
        &self,
        edit: impl Fn(&str) -> std::result::Result<(String, R), EditError>,
    ) -> Result<(R, bool)> {
        let target =
            atomic_file::resolve(&self.path).map_err(|e| self.io("follow the links of", e))?;
        let rehearsal = self.read(&target)?;
        edit(&rehearsal).map_err(|e| e.into_error(&self.path))?;
        let lock = atomic_file::lock_for_update(&self.path).map_err(|e| self.io("lock", e))?;
        let original = self.read(lock.target())?;
        let (text, outcome) = edit(&original).map_err(|e| e.into_error(&self.path))?;
        if text == original {
            return Ok((outcome, false));
        }
        if let Ok(m) = std::fs::metadata(lock.target()) {
            if m.permissions().readonly() {
                return Err(Error::ReadOnlyFile {
                    path: self.path.clone(),
                });
            }
        }
        lock.replace(text.as_bytes())
            .map_err(|source| Error::WriteFailed {
                path: self.path.clone(),
                source,
            })?;
        Ok((outcome, true))
    }
}

/// Why a text was not edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// Not YAML, or not a kubeconfig's shape: what is wrong, with its line.
    Unreadable(String),
    /// The edit would change more than our entries (or cannot be made safely here).
    Unsafe {
        /// The line near which.
        line: usize,
        /// What is unusual there.
        reason: String,
    },
    /// A context of that name is the person's (its user is not one of ours).
    ContextTaken {
        /// The context's name.
        name: String,
        /// Its line.
        line: usize,
    },
}

impl EditError {
    fn into_error(self, path: &Path) -> Error {
        let path = path.to_owned();
        match self {
            EditError::Unreadable(problem) => Error::KubeconfigUnreadable { path, problem },
            EditError::Unsafe { line, reason } => {
                Error::KubeconfigUnsafeEdit { path, line, reason }
            }
            EditError::ContextTaken { name, line } => Error::KubeContextTaken { path, name, line },
        }
    }
}

type Edited<R> = std::result::Result<(String, R), EditError>;

/// What [`add_text`] did besides the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddOutcome {
    /// `current-context` was set to ours.
    pub current_context_set: bool,
    /// `current-context` after the edit.
    pub current_context: Option<String>,
}

/// What [`remove_text`] did besides the text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemoveOutcome {
    /// The entries removed.
    pub entries: Entries,
    /// `current-context` named a removed context and was emptied.
    pub current_context_cleared: bool,
}

/// `text` with `entries` in it: each item replaced where it differs, added where missing,
/// kept where it already says what ours says (so a second run changes nothing);
/// `current-context` set to the context when the file has none and `may_set_current`.
pub fn add_text(text: &str, entries: &ClusterEntries, may_set_current: bool) -> Edited<AddOutcome> {
    let doc = Doc::parse(text)?;
    let mut plan = Plan::new(&doc);
    let server = entries.server.clone();
    let ca = entries.certificate_authority_data.clone();
    plan.upsert(
        "clusters",
        &entries.cluster_arn,
        &entries.cluster_item(),
        |item| {
            let c = &item["cluster"];
            c["server"].as_str() == Some(&server)
                && c["certificate-authority-data"].as_str() == Some(&ca)
        },
    )?;
    let user = entries.user_name();
    // The context of that name is ours to replace only if it runs one of our users.
    if let Some((i, item)) = plan.find("contexts", &entries.context)? {
        let ours = item["context"]["user"]
            .as_str()
            .is_some_and(|u| u.starts_with(USER_PREFIX));
        if !ours {
            return Err(EditError::ContextTaken {
                name: entries.context.clone(),
                line: doc.item_line("contexts", i),
            });
        }
    }
    let arn = entries.cluster_arn.clone();
    let user_name = user.clone();
    plan.upsert(
        "contexts",
        &entries.context,
        &entries.context_item(),
        |item| {
            let c = &item["context"];
            c["cluster"].as_str() == Some(&arn) && c["user"].as_str() == Some(&user_name)
        },
    )?;
    let exec = entries.user_item().to_yaml();
    plan.upsert("users", &user, &entries.user_item(), |item| {
        let (mine, theirs) = (&exec["user"]["exec"], &item["user"]["exec"]);
        ["apiVersion", "args", "command"]
            .iter()
            .all(|k| mine[*k] == theirs[*k])
    })?;
    let current = doc.current_context();
    let mut outcome = AddOutcome {
        current_context_set: false,
        current_context: current.clone(),
    };
    if current.is_none() && may_set_current && plan.set_current_context(&entries.context)? {
        outcome.current_context_set = true;
        outcome.current_context = Some(entries.context.clone());
    }
    Ok((plan.finish()?, outcome))
}

/// `text` without the entries `removal` names.
pub fn remove_text(text: &str, removal: &Removal) -> Edited<RemoveOutcome> {
    let doc = Doc::parse(text)?;
    let Some(root) = &doc.value else {
        return Ok((text.to_owned(), RemoveOutcome::default()));
    };
    let list = |key: &str| {
        root.get(&ystr(key))
            .and_then(Yaml::as_vec)
            .cloned()
            .unwrap_or_default()
    };
    let (users, contexts, clusters) = (list("users"), list("contexts"), list("clusters"));
    let name_of = |item: &Yaml| item["name"].as_str().map(str::to_owned);
    let gone_users: Vec<usize> = (0..users.len())
        .filter(|&i| is_favourites_user(&users[i], removal))
        .collect();
    let gone_user_names: Vec<String> = gone_users
        .iter()
        .filter_map(|&i| name_of(&users[i]))
        .collect();
    let gone_contexts: Vec<usize> = (0..contexts.len())
        .filter(|&i| {
            contexts[i]["context"]["user"]
                .as_str()
                .is_some_and(|u| gone_user_names.iter().any(|g| g == u))
        })
        .collect();
    let cluster_of = |item: &Yaml| item["context"]["cluster"].as_str().map(str::to_owned);
    let kept_clusters: Vec<String> = (0..contexts.len())
        .filter(|i| !gone_contexts.contains(i))
        .filter_map(|i| cluster_of(&contexts[i]))
        .collect();
    let mut gone_cluster_names: Vec<String> = Vec::new();
    for &i in &gone_contexts {
        if let Some(c) = cluster_of(&contexts[i]) {
            if is_eks_arn(&c) && !kept_clusters.contains(&c) && !gone_cluster_names.contains(&c) {
                gone_cluster_names.push(c);
            }
        }
    }
    let gone_clusters: Vec<usize> = (0..clusters.len())
        .filter(|&i| name_of(&clusters[i]).is_some_and(|n| gone_cluster_names.contains(&n)))
        .collect();
    let names = |items: &[Yaml], gone: &[usize]| -> Vec<String> {
        gone.iter()
            .map(|&i| name_of(&items[i]).unwrap_or_default())
            .collect()
    };
    let entries = Entries {
        contexts: names(&contexts, &gone_contexts),
        users: names(&users, &gone_users),
        clusters: names(&clusters, &gone_clusters),
    };
    let mut plan = Plan::new(&doc);
    plan.remove("clusters", &gone_clusters)?;
    plan.remove("contexts", &gone_contexts)?;
    plan.remove("users", &gone_users)?;
    let cleared = doc
        .current_context()
        .is_some_and(|c| entries.contexts.contains(&c));
    if cleared && !plan.set_current_context("")? {
        return Err(EditError::Unsafe {
            line: doc.key_line(CURRENT_CONTEXT).unwrap_or(1),
            reason: "the current-context there cannot be emptied".into(),
        });
    }
    Ok((
        plan.finish()?,
        RemoveOutcome {
            entries,
            current_context_cleared: cleared,
        },
    ))
}

/// A user whose exec plugin runs `aws-sso-auth eks token … --profile FAVOURITE` (for the
/// cluster and region the removal names, if it names them).
fn is_favourites_user(item: &Yaml, removal: &Removal) -> bool {
    let exec = &item["user"]["exec"];
    let Some(args) = exec["args"].as_vec() else {
        return false;
    };
    let args: Vec<&str> = args.iter().filter_map(Yaml::as_str).collect();
    let program = exec["command"].as_str().map(program_name);
    let named = item["name"]
        .as_str()
        .is_some_and(|n| n.starts_with(USER_PREFIX));
    let flag = |name: &str| flag_value(&args, name);
    args.len() >= 2
        && args[..2] == ["eks", "token"]
        && (program.as_deref() == Some(PROGRAM) || named)
        && flag("--profile") == Some(removal.profile.as_str())
        && removal
            .cluster
            .as_deref()
            .is_none_or(|c| flag("--cluster") == Some(c))
        && removal
            .region
            .as_deref()
            .is_none_or(|r| flag("--region") == Some(r))
}

/// The value of `--flag VALUE` or `--flag=VALUE` among `args`.
fn flag_value<'a>(args: &[&'a str], flag: &str) -> Option<&'a str> {
    args.iter().enumerate().find_map(|(i, a)| {
        if *a == flag {
            args.get(i + 1).copied()
        } else {
            a.strip_prefix(flag).and_then(|rest| rest.strip_prefix('='))
        }
    })
}

/// The program's name from its path (either separator; without `.exe`).
fn program_name(command: &str) -> String {
    let file = command.rsplit(['/', '\\']).next().unwrap_or(command);
    let file = file
        .strip_suffix(".exe")
        .or_else(|| file.strip_suffix(".EXE"))
        .unwrap_or(file);
    file.to_owned()
}

/// `arn:PARTITION:eks:REGION:ACCOUNT:cluster/NAME`.
fn is_eks_arn(name: &str) -> bool {
    let parts: Vec<&str> = name.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "eks"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5]
            .strip_prefix("cluster/")
            .is_some_and(|n| !n.is_empty())
}

/// `s` as a JSON string, which is a YAML double-quoted scalar too: quotes, backslashes,
/// control characters and everything YAML 1.1 readers take as a line break or a byte
/// order mark are escaped, so the value reads back as it was whatever it holds.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control()
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                ) =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn ystr(s: &str) -> Yaml {
    Yaml::String(s.to_owned())
}

/// A value we write: a string, a list of strings, or a mapping with fixed keys.
#[derive(Debug, Clone)]
enum V {
    S(String),
    L(Vec<String>),
    M(Vec<(&'static str, V)>),
}

impl V {
    /// As a JSON value on one line (a YAML flow node).
    fn flow(&self) -> String {
        match self {
            V::S(s) => quote(s),
            V::L(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(|s| quote(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            V::M(entries) => format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, v)| format!("{}: {}", quote(k), v.flow()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn to_yaml(&self) -> Yaml {
        match self {
            V::S(s) => ystr(s),
            V::L(items) => Yaml::Array(items.iter().map(|s| ystr(s)).collect()),
            V::M(entries) => {
                let mut h = Hash::new();
                for (k, v) in entries {
                    h.insert(ystr(k), v.to_yaml());
                }
                Yaml::Hash(h)
            }
        }
    }

    /// As an item of a block sequence whose dashes are at `dash_col`.
    fn block_item(&self, dash_col: usize, eol: &str) -> String {
        let mut out = " ".repeat(dash_col);
        out.push_str("- ");
        match self {
            V::M(entries) => render_map(entries, dash_col + 2, true, eol, &mut out),
            other => {
                out.push_str(&other.flow());
                out.push_str(eol);
            }
        }
        out
    }
}

/// The entries of a block mapping at `indent` (the first on the current line when
/// `inline`); lists are written as kubectl writes them, their dashes under the key.
fn render_map(
    entries: &[(&'static str, V)],
    indent: usize,
    inline: bool,
    eol: &str,
    out: &mut String,
) {
    let pad = " ".repeat(indent);
    for (i, (key, value)) in entries.iter().enumerate() {
        if !(inline && i == 0) {
            out.push_str(&pad);
        }
        out.push_str(key);
        out.push(':');
        match value {
            V::S(s) => {
                out.push(' ');
                out.push_str(&quote(s));
                out.push_str(eol);
            }
            V::L(items) if items.is_empty() => {
                out.push_str(" []");
                out.push_str(eol);
            }
            V::L(items) => {
                out.push_str(eol);
                for item in items {
                    out.push_str(&pad);
                    out.push_str("- ");
                    out.push_str(&quote(item));
                    out.push_str(eol);
                }
            }
            V::M(inner) => {
                out.push_str(eol);
                render_map(inner, indent + 2, false, eol, out);
            }
        }
    }
}

/// A node of the document with where it starts (and, for collections, where the parser
/// ended it: exact for flow collections only).
#[derive(Debug)]
struct Node {
    kind: Kind,
    start: Marker,
    end: Marker,
}

#[derive(Debug)]
enum Kind {
    Scalar(String, TScalarStyle),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
    Alias,
}

/// Builds [`Node`]s from the parser's events.
#[derive(Default)]
struct Builder {
    open: Vec<(bool, Marker, Vec<Node>)>,
    docs: Vec<Node>,
}

impl Builder {
    fn add(&mut self, node: Node) {
        match self.open.last_mut() {
            Some((_, _, children)) => children.push(node),
            None => self.docs.push(node),
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::SequenceStart(..) => self.open.push((true, mark, Vec::new())),
            Event::MappingStart(..) => self.open.push((false, mark, Vec::new())),
            Event::SequenceEnd | Event::MappingEnd => {
                let Some((seq, start, children)) = self.open.pop() else {
                    return;
                };
                let kind = if seq {
                    Kind::Seq(children)
                } else {
                    let mut pairs = Vec::new();
                    let mut it = children.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        pairs.push((k, v));
                    }
                    Kind::Map(pairs)
                };
                self.add(Node {
                    kind,
                    start,
                    end: mark,
                });
            }
            Event::Scalar(value, style, ..) => self.add(Node {
                kind: Kind::Scalar(value, style),
                start: mark,
                end: mark,
            }),
            Event::Alias(_) => self.add(Node {
                kind: Kind::Alias,
                start: mark,
                end: mark,
            }),
            _ => {}
        }
    }
}

/// The text, split into lines (each with its line end), without a byte order mark.
struct Text<'a> {
    bom: &'a str,
    body: &'a str,
    lines: Vec<&'a str>,
    starts: Vec<usize>,
    eol: &'static str,
}

impl<'a> Text<'a> {
    fn new(text: &'a str) -> Self {
        let (bom, body) = match text.strip_prefix('\u{feff}') {
            Some(body) => (&text[..3], body),
            None => ("", text),
        };
        let lines: Vec<&str> = body.split_inclusive('\n').collect();
        let mut starts = Vec::with_capacity(lines.len());
        let mut at = 0;
        for l in &lines {
            starts.push(at);
            at += l.len();
        }
        let eol = match lines.first() {
            Some(l) if l.ends_with("\r\n") => "\r\n",
            _ => "\n",
        };
        Self {
            bom,
            body,
            lines,
            starts,
            eol,
        }
    }

    /// Line `n` (from 1) without its line end; "" past the end.
    fn content(&self, n: usize) -> &'a str {
        let line = n
            .checked_sub(1)
            .and_then(|i| self.lines.get(i))
            .copied()
            .unwrap_or("");
        let line = line.strip_suffix('\n').unwrap_or(line);
        line.strip_suffix('\r').unwrap_or(line)
    }

    fn count(&self) -> usize {
        self.lines.len()
    }

    /// The byte offset of line `n`'s start (the end of the text past the last line).
    fn line_start(&self, n: usize) -> usize {
        n.checked_sub(1)
            .and_then(|i| self.starts.get(i))
            .copied()
            .unwrap_or(self.body.len())
    }

    /// The byte offset just past line `n` and its line end.
    fn line_end(&self, n: usize) -> usize {
        self.line_start(n)
            + n.checked_sub(1)
                .and_then(|i| self.lines.get(i))
                .map_or(0, |l| l.len())
    }

    fn has_eol(&self, n: usize) -> bool {
        n.checked_sub(1)
            .and_then(|i| self.lines.get(i))
            .is_some_and(|l| l.ends_with('\n'))
    }

    /// The byte offset of `mark` (its line and its column in characters).
    fn byte_of(&self, mark: Marker) -> usize {
        let content = self.content(mark.line());
        let within = content
            .char_indices()
            .nth(mark.col())
            .map_or(content.len(), |(b, _)| b);
        self.line_start(mark.line()) + within
    }

    fn char_at(&self, mark: Marker) -> Option<char> {
        self.content(mark.line()).chars().nth(mark.col())
    }

    /// Blank, or only a comment.
    fn is_filler(&self, n: usize) -> bool {
        let t = self.content(n).trim_start_matches([' ', '\t']);
        t.is_empty() || t.starts_with('#')
    }
}

/// A sequence's dash at the start of `s` (after spaces): its column.
fn dash_col(s: &str) -> Option<usize> {
    let t = s.trim_start_matches(' ');
    let rest = t.strip_prefix('-')?;
    (rest.is_empty() || rest.starts_with([' ', '\t'])).then(|| s.len() - t.len())
}

/// Where a sequence's items are in the text.
enum Layout {
    /// The key is not there.
    Missing,
    /// `key:` with no value, or `null`/`~`, on the key's line.
    Null,
    /// A block sequence: its dashes' column, and each item's first and last line.
    Block {
        dash_col: usize,
        items: Vec<(usize, usize)>,
    },
    /// A flow sequence: the bytes of `[`, of `]`, and each item's bytes.
    Flow {
        open: usize,
        close: usize,
        items: Vec<(usize, usize)>,
    },
}

/// The parsed document: its value, and where its parts are.
struct Doc<'a> {
    text: Text<'a>,
    /// The root mapping; `None` when the file holds no document.
    value: Option<Hash>,
    /// The root mapping's node.
    root: Option<Node>,
}

fn unreadable(line: usize, what: &str) -> EditError {
    EditError::Unreadable(format!("{what} (line {line})"))
}

fn unsafe_at(line: usize, reason: impl Into<String>) -> EditError {
    EditError::Unsafe {
        line,
        reason: reason.into(),
    }
}

impl<'a> Doc<'a> {
    fn parse(source: &'a str) -> std::result::Result<Self, EditError> {
        let text = Text::new(source);
        if let Some(at) = text.body.find('\0') {
            let line = text.body[..at].matches('\n').count() + 1;
            return Err(unreadable(line, "is not YAML: it holds a NUL character"));
        }
        // YAML ends a line at a carriage return alone too; lines here end at line feeds.
        if let Some(at) = text
            .body
            .match_indices('\r')
            .find(|(i, _)| !text.body[i + 1..].starts_with('\n'))
            .map(|(i, _)| i)
        {
            let line = text.body[..at].matches('\n').count() + 1;
            return Err(unsafe_at(line, "a carriage return there ends no line"));
        }
        let docs = YamlLoader::load_from_str(text.body).map_err(|e| {
            EditError::Unreadable(format!(
                "is not valid YAML (line {}: {})",
                e.marker().line(),
                e.info()
            ))
        })?;
        if docs.len() > 1 {
            return Err(EditError::Unreadable(format!(
                "holds {} YAML documents, where a kubeconfig is one",
                docs.len()
            )));
        }
        let mut builder = Builder::default();
        Parser::new_from_str(text.body)
            .load(&mut builder, true)
            .map_err(|e| EditError::Unreadable(format!("is not valid YAML ({e})")))?;
        let value = match docs.into_iter().next() {
            None | Some(Yaml::Null) => None,
            Some(Yaml::Hash(h)) => Some(h),
            Some(_) => {
                return Err(EditError::Unreadable(
                    "is not a YAML mapping, as a kubeconfig is".into(),
                ))
            }
        };
        let root = builder.docs.into_iter().next();
        let Some(value) = value else {
            return Ok(Self {
                text,
                value: None,
                root: None,
            });
        };
        let Some(
            root @ Node {
                kind: Kind::Map(_), ..
            },
        ) = root
        else {
            return Err(unsafe_at(
                1,
                "the document's mapping is not where it was read",
            ));
        };
        let doc = Self {
            text,
            value: Some(value),
            root: Some(root),
        };
        doc.check_shape()?;
        Ok(doc)
    }

    /// Lists hold mappings; a current-context is a string.
    fn check_shape(&self) -> std::result::Result<(), EditError> {
        let root = self
            .root
            .as_ref()
            .ok_or_else(|| unsafe_at(1, "no mapping"))?;
        let Some(value) = &self.value else {
            return Ok(());
        };
        if self.flow(root) {
            return Err(unsafe_at(
                root.start.line(),
                "it is written in flow style (as JSON), which aws-sso-tray does not edit",
            ));
        }
        for key in LISTS {
            let line = self.key_line(key).unwrap_or(1);
            match value.get(&ystr(key)) {
                None | Some(Yaml::Null) => {}
                Some(Yaml::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        if !matches!(item, Yaml::Hash(_)) {
                            return Err(unreadable(
                                self.item_line(key, i),
                                &format!("has an item of {key} that is not a mapping"),
                            ));
                        }
                    }
                }
                Some(_) => return Err(unreadable(line, &format!("has {key} that is not a list"))),
            }
        }
        match value.get(&ystr(CURRENT_CONTEXT)) {
            None | Some(Yaml::Null) | Some(Yaml::String(_)) => Ok(()),
            Some(_) => Err(unreadable(
                self.key_line(CURRENT_CONTEXT).unwrap_or(1),
                "has a current-context that is not a string",
            )),
        }
    }

    /// A collection written in flow style (`[…]`, `{…}`), whose markers are exact.
    fn flow(&self, node: &Node) -> bool {
        let (open, close) = match node.kind {
            Kind::Seq(_) => ('[', ']'),
            Kind::Map(_) => ('{', '}'),
            _ => return false,
        };
        self.text.char_at(node.start) == Some(open) && self.text.char_at(node.end) == Some(close)
    }

    fn root_pairs(&self) -> &[(Node, Node)] {
        match &self.root {
            Some(Node {
                kind: Kind::Map(pairs),
                ..
            }) => pairs,
            _ => &[],
        }
    }

    fn key_index(&self, key: &str) -> Option<usize> {
        self.root_pairs()
            .iter()
            .position(|(k, _)| matches!(&k.kind, Kind::Scalar(s, _) if s == key))
    }

    fn key_line(&self, key: &str) -> Option<usize> {
        self.key_index(key)
            .map(|i| self.root_pairs()[i].0.start.line())
    }

    /// The line after the value of root key `i`: the next key's line, else past the end.
    fn next_key_line(&self, i: usize) -> usize {
        self.root_pairs()
            .get(i + 1)
            .map_or(self.text.count() + 1, |(k, _)| k.start.line())
    }

    /// The column of the root mapping's keys.
    fn root_col(&self) -> usize {
        self.root_pairs().first().map_or(0, |(k, _)| k.start.col())
    }

    /// The line of item `i` of list `key`, for messages.
    fn item_line(&self, key: &str, i: usize) -> usize {
        let Some(k) = self.key_index(key) else {
            return 1;
        };
        let (key_node, value) = &self.root_pairs()[k];
        match &value.kind {
            Kind::Seq(items) => items
                .get(i)
                .map_or(key_node.start.line(), |n| self.anchor(n).line()),
            _ => key_node.start.line(),
        }
    }

    /// Where an item's content starts: a flow collection's bracket, a block mapping's
    /// first key.
    fn anchor(&self, node: &Node) -> Marker {
        match &node.kind {
            Kind::Map(pairs) if !self.flow(node) => {
                pairs.first().map_or(node.start, |(k, _)| k.start)
            }
            _ => node.start,
        }
    }

    fn current_context(&self) -> Option<String> {
        self.value
            .as_ref()?
            .get(&ystr(CURRENT_CONTEXT))?
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    /// The byte just after the colon of root key `i`, if the key is on one line.
    fn after_colon(&self, i: usize) -> Option<usize> {
        let (key, _) = &self.root_pairs()[i];
        let Kind::Scalar(name, style) = &key.kind else {
            return None;
        };
        let line = key.start.line();
        let content = self.text.content(line);
        let start = self.text.byte_of(key.start) - self.text.line_start(line);
        let end = scalar_end(content, start, *style, Some(name))?;
        let rest = &content[end..];
        let colon = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        rest[colon..]
            .starts_with(':')
            .then(|| self.text.line_start(line) + end + colon + 1)
    }

    fn layout(&self, key: &str) -> std::result::Result<Layout, EditError> {
        let Some(k) = self.key_index(key) else {
            return Ok(Layout::Missing);
        };
        let (key_node, value) = &self.root_pairs()[k];
        let key_line = key_node.start.line();
        let next = self.next_key_line(k);
        match &value.kind {
            Kind::Scalar(..) => {
                // Only a null is taken here: everything else was refused as not a list.
                for n in key_line + 1..next {
                    if !self.text.is_filler(n) {
                        return Err(unsafe_at(
                            n,
                            format!("the empty {key} goes on past its line"),
                        ));
                    }
                }
                Ok(Layout::Null)
            }
            Kind::Seq(items) if self.flow(value) => {
                let mut spans = Vec::new();
                for item in items {
                    if !self.flow(item) {
                        return Err(unsafe_at(
                            item.start.line(),
                            format!("an item of {key} is not written in braces"),
                        ));
                    }
                    spans.push((
                        self.text.byte_of(item.start),
                        self.text.byte_of(item.end) + 1,
                    ));
                }
                Ok(Layout::Flow {
                    open: self.text.byte_of(value.start),
                    close: self.text.byte_of(value.end),
                    items: spans,
                })
            }
            Kind::Seq(items) => {
                let mut dashes: Vec<(usize, usize)> = Vec::new();
                for item in items {
                    let anchor = self.anchor(item);
                    let line = anchor.line();
                    let prefix: String =
                        self.text.content(line).chars().take(anchor.col()).collect();
                    let dash = match dash_col(&prefix) {
                        Some(col) => (line, col),
                        None => {
                            let above = (key_line + 1..line)
                                .rev()
                                .find(|&n| !self.text.is_filler(n));
                            match above.and_then(|n| dash_col(self.text.content(n)).map(|c| (n, c)))
                            {
                                Some(found) => found,
                                None => {
                                    return Err(unsafe_at(
                                        line,
                                        format!("an item of {key} has no dash before it"),
                                    ))
                                }
                            }
                        }
                    };
                    if dashes.last().is_some_and(|(l, _)| *l >= dash.0) || dash.0 <= key_line {
                        return Err(unsafe_at(
                            dash.0,
                            format!("two items of {key} share a line"),
                        ));
                    }
                    dashes.push(dash);
                }
                let col = dashes.first().map_or(0, |d| d.1);
                if let Some((line, _)) = dashes.iter().find(|d| d.1 != col) {
                    return Err(unsafe_at(
                        *line,
                        format!("the items of {key} are not aligned"),
                    ));
                }
                let mut spans = Vec::new();
                for (i, (first, _)) in dashes.iter().enumerate() {
                    let limit = dashes.get(i + 1).map_or(next, |d| d.0);
                    let last = (*first..limit)
                        .rev()
                        .find(|&n| n == *first || !self.text.is_filler(n))
                        .unwrap_or(*first);
                    spans.push((*first, last));
                }
                Ok(Layout::Block {
                    dash_col: col,
                    items: spans,
                })
            }
            _ => Err(unsafe_at(key_line, format!("{key} is not a plain list"))),
        }
    }
}

/// The byte offset (within `line`) just past the scalar starting at byte `start`, when it
/// ends on this line. A plain key ends after its text; a plain value at a comment or the
/// line's end.
fn scalar_end(line: &str, start: usize, style: TScalarStyle, key: Option<&str>) -> Option<usize> {
    let rest = line.get(start..)?;
    match style {
        TScalarStyle::DoubleQuoted => {
            let mut escaped = false;
            for (i, c) in rest.char_indices().skip(1) {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => return Some(start + i + 1),
                    _ => {}
                }
            }
            None
        }
        TScalarStyle::SingleQuoted => {
            let mut chars = rest.char_indices().skip(1).peekable();
            while let Some((i, c)) = chars.next() {
                if c == '\'' {
                    if chars.peek().is_some_and(|(_, n)| *n == '\'') {
                        chars.next();
                    } else {
                        return Some(start + i + 1);
                    }
                }
            }
            None
        }
        TScalarStyle::Plain => match key {
            Some(k) => rest.starts_with(k).then(|| start + k.len()),
            None => {
                let end = rest
                    .find(" #")
                    .or_else(|| rest.find("\t#"))
                    .unwrap_or(rest.len());
                Some(start + rest[..end].trim_end_matches([' ', '\t']).len())
            }
        },
        _ => None,
    }
}

/// One replacement of the original text's bytes `start..end`.
#[derive(Debug)]
struct Patch {
    start: usize,
    end: usize,
    text: String,
}

/// The edits to make, and the document as it must read once they are made.
struct Plan<'d, 'a> {
    doc: &'d Doc<'a>,
    patches: Vec<Patch>,
    /// Keys added at the end of the root mapping.
    appendix: String,
    expected: Hash,
}

impl<'d, 'a> Plan<'d, 'a> {
    fn new(doc: &'d Doc<'a>) -> Self {
        Self {
            doc,
            patches: Vec::new(),
            appendix: String::new(),
            expected: doc.value.clone().unwrap_or_default(),
        }
    }

    fn eol(&self) -> &'static str {
        self.doc.text.eol
    }

    fn patch(&mut self, start: usize, end: usize, text: impl Into<String>) {
        self.patches.push(Patch {
            start,
            end,
            text: text.into(),
        });
    }

    /// The item of `key` named `name`, if there is one (two are refused).
    fn find(&self, key: &str, name: &str) -> std::result::Result<Option<(usize, Yaml)>, EditError> {
        let items = self
            .doc
            .value
            .as_ref()
            .and_then(|v| v.get(&ystr(key)))
            .and_then(Yaml::as_vec)
            .cloned()
            .unwrap_or_default();
        let found: Vec<usize> = (0..items.len())
            .filter(|&i| items[i]["name"].as_str() == Some(name))
            .collect();
        match found[..] {
            [] => Ok(None),
            [i] => Ok(Some((i, items[i].clone()))),
            [a, b, ..] => Err(EditError::Unreadable(format!(
                "has two {key} named {} (lines {} and {})",
                quote(name),
                self.doc.item_line(key, a),
                self.doc.item_line(key, b)
            ))),
        }
    }

    fn expected_list(&mut self, key: &str) -> &mut Vec<Yaml> {
        let k = ystr(key);
        if !matches!(self.expected.get(&k), Some(Yaml::Array(_))) {
            self.expected.replace(k.clone(), Yaml::Array(Vec::new()));
        }
        match self.expected.get_mut(&k) {
            Some(Yaml::Array(items)) => items,
            _ => unreachable!("just made a list"),
        }
    }

    /// Puts `item` (named `name`) in list `key`: in place of the item of that name unless
    /// `keep` says it is as good, else at the end.
    fn upsert(
        &mut self,
        key: &str,
        name: &str,
        item: &V,
        keep: impl Fn(&Yaml) -> bool,
    ) -> std::result::Result<(), EditError> {
        let found = self.find(key, name)?;
        if found.as_ref().is_some_and(|(_, old)| keep(old)) {
            return Ok(());
        }
        let layout = self.doc.layout(key)?;
        let eol = self.eol();
        let root_col = self.doc.root_col();
        match (found, layout) {
            (Some((i, _)), Layout::Block { dash_col, items }) => {
                let (first, last) = items[i];
                self.patch(
                    self.doc.text.line_start(first),
                    self.doc.text.line_end(last),
                    item.block_item(dash_col, eol),
                );
                self.expected_list(key)[i] = item.to_yaml();
            }
            (Some((i, _)), Layout::Flow { items, .. }) => {
                let (start, end) = items[i];
                self.patch(start, end, item.flow());
                self.expected_list(key)[i] = item.to_yaml();
            }
            (Some(_), _) => unreachable!("an item is in a list"),
            (None, Layout::Block { dash_col, items }) => {
                let last = items.last().map_or(1, |s| s.1);
                let at = self.doc.text.line_end(last);
                let mut text = String::new();
                if !self.doc.text.has_eol(last) {
                    text.push_str(eol);
                }
                text.push_str(&item.block_item(dash_col, eol));
                self.patch(at, at, text);
                self.expected_list(key).push(item.to_yaml());
            }
            (None, Layout::Flow { open, close, items }) => match items.last() {
                Some(&(_, end)) => {
                    self.patch(end, end, format!(", {}", item.flow()));
                    self.expected_list(key).push(item.to_yaml());
                }
                None => {
                    // `key: []` becomes a block: the brackets go, the items follow the line.
                    let text = &self.doc.text;
                    let line = text.body[..open].matches('\n').count() + 1;
                    let line_start = text.line_start(line);
                    if close < line_start
                        || close >= text.line_start(line) + text.content(line).len()
                    {
                        return Err(unsafe_at(line, format!("the empty {key} spans lines")));
                    }
                    let after = &text.content(line)[close + 1 - line_start..];
                    let after = after.trim_start_matches([' ', '\t']);
                    if !(after.is_empty() || after.starts_with('#')) {
                        return Err(unsafe_at(
                            line,
                            format!("something follows the empty {key}"),
                        ));
                    }
                    let before = &text.body[line_start..open];
                    let spaces = before.len() - before.trim_end_matches([' ', '\t']).len();
                    let line_end = text.line_end(line);
                    let has_eol = text.has_eol(line);
                    self.patch(open - spaces, close + 1, "");
                    let mut add = String::new();
                    if !has_eol {
                        add.push_str(eol);
                    }
                    add.push_str(&item.block_item(root_col, eol));
                    self.patch(line_end, line_end, add);
                    self.expected_list(key).push(item.to_yaml());
                }
            },
            (None, Layout::Null) => {
                let k = self.doc.key_index(key).unwrap_or_default();
                let line = self.doc.root_pairs()[k].0.start.line();
                let after = self
                    .doc
                    .after_colon(k)
                    .ok_or_else(|| unsafe_at(line, format!("the key {key} is not on one line")))?;
                let text = &self.doc.text;
                let line_end_text = text.line_start(line) + text.content(line).len();
                let rest = &text.body[after..line_end_text];
                let trimmed = rest.trim_start_matches([' ', '\t']);
                let token = ["null", "Null", "NULL", "~"]
                    .into_iter()
                    .find(|t| trimmed.starts_with(t))
                    .unwrap_or("");
                let after_token = &trimmed[token.len()..];
                let tail = after_token.trim_start_matches([' ', '\t']);
                let separated =
                    token.is_empty() || after_token.len() != tail.len() || tail.is_empty();
                if !(separated && (tail.is_empty() || tail.starts_with('#'))) {
                    return Err(unsafe_at(
                        line,
                        format!("the empty {key} is not a plain null"),
                    ));
                }
                let removed = rest.len() - trimmed.len() + token.len();
                let (line_end, has_eol) = (text.line_end(line), text.has_eol(line));
                if removed > 0 {
                    self.patch(after, after + removed, "");
                }
                let mut add = String::new();
                if !has_eol {
                    add.push_str(eol);
                }
                add.push_str(&item.block_item(root_col, eol));
                self.patch(line_end, line_end, add);
                self.expected_list(key).push(item.to_yaml());
            }
            (None, Layout::Missing) => {
                let pad = " ".repeat(root_col);
                self.appendix.push_str(&format!("{pad}{key}:{eol}"));
                self.appendix.push_str(&item.block_item(root_col, eol));
                self.expected
                    .insert(ystr(key), Yaml::Array(vec![item.to_yaml()]));
            }
        }
        Ok(())
    }

    /// Removes items `gone` (indices, ascending) of list `key`; a list left empty reads
    /// `key: []`.
    fn remove(&mut self, key: &str, gone: &[usize]) -> std::result::Result<(), EditError> {
        if gone.is_empty() {
            return Ok(());
        }
        let layout = self.doc.layout(key)?;
        match layout {
            Layout::Block { items, .. } => {
                for &i in gone {
                    let (first, last) = items[i];
                    self.patch(
                        self.doc.text.line_start(first),
                        self.doc.text.line_end(last),
                        "",
                    );
                }
                if gone.len() == items.len() {
                    let k = self.doc.key_index(key).unwrap_or_default();
                    let line = self.doc.root_pairs()[k].0.start.line();
                    let after = self.doc.after_colon(k).ok_or_else(|| {
                        unsafe_at(line, format!("the key {key} is not on one line"))
                    })?;
                    self.patch(after, after, " []");
                }
            }
            Layout::Flow { open, close, items } => {
                let kept: Vec<&str> = (0..items.len())
                    .filter(|i| !gone.contains(i))
                    .map(|i| &self.doc.text.body[items[i].0..items[i].1])
                    .collect();
                let text = format!("[{}]", kept.join(", "));
                self.patch(open, close + 1, text);
            }
            Layout::Missing | Layout::Null => unreachable!("items were found in it"),
        }
        let list = self.expected_list(key);
        let mut i = 0;
        list.retain(|_| {
            i += 1;
            !gone.contains(&(i - 1))
        });
        Ok(())
    }

    /// Sets `current-context`: adds the key, or fills an empty one written on one line.
    /// False when the file's layout there does not allow it.
    fn set_current_context(&mut self, context: &str) -> std::result::Result<bool, EditError> {
        let doc = self.doc;
        let eol = self.eol();
        let quoted = quote(context);
        match doc.key_index(CURRENT_CONTEXT) {
            None => {
                let pad = " ".repeat(doc.root_col());
                self.appendix
                    .push_str(&format!("{pad}{CURRENT_CONTEXT}: {quoted}{eol}"));
                self.expected.insert(ystr(CURRENT_CONTEXT), ystr(context));
                Ok(true)
            }
            Some(k) => {
                let (key, value) = &doc.root_pairs()[k];
                let line = key.start.line();
                if doc.next_key_line(k) != line + 1
                    && (line + 1..doc.next_key_line(k)).any(|n| !doc.text.is_filler(n))
                {
                    return Ok(false);
                }
                let Some(after) = doc.after_colon(k) else {
                    return Ok(false);
                };
                let text = &doc.text;
                let line_start = text.line_start(line);
                let content_end = line_start + text.content(line).len();
                let rest = &text.body[after..content_end];
                let trimmed = rest.trim_start_matches([' ', '\t']);
                let token_start = after + rest.len() - trimmed.len();
                let token_end = if trimmed.is_empty() || trimmed.starts_with('#') {
                    token_start
                } else {
                    let Kind::Scalar(_, style) = &value.kind else {
                        return Ok(false);
                    };
                    if value.start.line() != line {
                        return Ok(false);
                    }
                    let start = text.byte_of(value.start) - line_start;
                    if start != token_start - line_start {
                        return Ok(false);
                    }
                    let Some(end) = scalar_end(text.content(line), start, *style, None) else {
                        return Ok(false);
                    };
                    line_start + end
                };
                let tail = text.body[token_end..content_end].trim_start_matches([' ', '\t']);
                if !(tail.is_empty() || tail.starts_with('#')) {
                    return Ok(false);
                }
                let mut new = quoted;
                if token_start == after {
                    new.insert(0, ' ');
                }
                if token_end == token_start && !tail.is_empty() {
                    new.push(' ');
                }
                self.patch(token_start, token_end, new);
                self.expected.replace(ystr(CURRENT_CONTEXT), ystr(context));
                Ok(true)
            }
        }
    }

    /// The new text, if it reads as the document as intended; else nothing is written.
    fn finish(mut self) -> std::result::Result<String, EditError> {
        let text = &self.doc.text;
        let eol = text.eol;
        if self.patches.is_empty() && self.appendix.is_empty() {
            return Ok(format!("{}{}", text.bom, text.body));
        }
        let mut appendix = std::mem::take(&mut self.appendix);
        let new_file = self.doc.value.is_none();
        if new_file && !appendix.is_empty() {
            let mut expected = Hash::new();
            expected.insert(ystr("apiVersion"), ystr("v1"));
            expected.insert(ystr("kind"), ystr("Config"));
            expected.insert(ystr("preferences"), Yaml::Hash(Hash::new()));
            for (k, v) in std::mem::take(&mut self.expected) {
                expected.insert(k, v);
            }
            self.expected = expected;
            appendix =
                format!("apiVersion: v1{eol}kind: Config{eol}preferences: {{}}{eol}{appendix}");
        }
        if !appendix.is_empty() {
            let end = text.body.len();
            if !text.body.is_empty() && !text.body.ends_with('\n') {
                appendix.insert_str(0, eol);
            }
            self.patch(end, end, appendix);
        }
        let mut order: Vec<usize> = (0..self.patches.len()).collect();
        order.sort_by_key(|&i| (self.patches[i].start, self.patches[i].end, i));
        let mut out = String::with_capacity(text.body.len() + 1024);
        out.push_str(text.bom);
        let mut at = 0;
        let first_line = self
            .patches
            .iter()
            .map(|p| {
                text.body[..p.start.min(text.body.len())]
                    .matches('\n')
                    .count()
                    + 1
            })
            .min()
            .unwrap_or(1);
        for i in order {
            let p = &self.patches[i];
            if p.start < at {
                return Err(unsafe_at(first_line, "two changes overlap"));
            }
            out.push_str(&text.body[at..p.start]);
            out.push_str(&p.text);
            at = p.end;
        }
        out.push_str(&text.body[at..]);
        let check = out.strip_prefix('\u{feff}').unwrap_or(&out);
        let reread = YamlLoader::load_from_str(check).map_err(|e| {
            unsafe_at(
                first_line,
                format!("the changed file would not be YAML ({})", e.info()),
            )
        })?;
        if reread != [Yaml::Hash(self.expected)] {
            return Err(unsafe_at(
                first_line,
                "the change would touch more than aws-sso-tray's entries",
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:eks:eu-west-1:111122223333:cluster/prod";

    fn entries(profile: &str, context: Option<&str>) -> ClusterEntries {
        ClusterEntries {
            cluster_arn: ARN.into(),
            cluster_name: "prod".into(),
            server: "https://ABC.gr7.eu-west-1.eks.amazonaws.com".into(),
            certificate_authority_data: "LS0tLS1CRUdJTg==".into(),
            profile: profile.into(),
            region: "eu-west-1".into(),
            command: "/usr/bin/aws-sso-auth".into(),
            context: context
                .map(str::to_owned)
                .unwrap_or_else(|| ClusterEntries::default_context(profile, "prod")),
        }
    }

    fn add(text: &str, e: &ClusterEntries) -> (String, AddOutcome) {
        add_text(text, e, true).unwrap_or_else(|err| panic!("{err:?}\n{text}"))
    }

    fn load(text: &str) -> Yaml {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        YamlLoader::load_from_str(text).expect("yaml").remove(0)
    }

    /// The named item of a list.
    fn item<'y>(doc: &'y Yaml, key: &str, name: &str) -> &'y Yaml {
        doc[key]
            .as_vec()
            .and_then(|l| l.iter().find(|i| i["name"].as_str() == Some(name)))
            .unwrap_or_else(|| panic!("no {key} named {name}"))
    }

    /// Checks that `new` holds our three entries, as kubectl reads them.
    fn has_entries(new: &str, e: &ClusterEntries) {
        let doc = load(new);
        let c = item(&doc, "clusters", &e.cluster_arn);
        assert_eq!(c["cluster"]["server"].as_str(), Some(e.server.as_str()));
        assert_eq!(
            c["cluster"]["certificate-authority-data"].as_str(),
            Some(e.certificate_authority_data.as_str())
        );
        let u = item(&doc, "users", &e.user_name());
        let exec = &u["user"]["exec"];
        assert_eq!(exec["apiVersion"].as_str(), Some(EXEC_API_VERSION));
        assert_eq!(exec["command"].as_str(), Some(e.command.as_str()));
        let args: Vec<&str> = exec["args"]
            .as_vec()
            .expect("args")
            .iter()
            .filter_map(Yaml::as_str)
            .collect();
        assert_eq!(args, e.args());
        let x = item(&doc, "contexts", &e.context);
        assert_eq!(
            x["context"]["cluster"].as_str(),
            Some(e.cluster_arn.as_str())
        );
        assert_eq!(x["context"]["user"].as_str(), Some(e.user_name().as_str()));
    }

    /// `new` is `old` with whole lines added (and none changed or removed); the added
    /// lines.
    fn added_lines<'n>(old: &str, new: &'n str) -> Vec<&'n str> {
        let old: Vec<&str> = old.split_inclusive('\n').collect();
        let mut added = Vec::new();
        let mut i = 0;
        for line in new.split_inclusive('\n') {
            if i < old.len() && old[i] == line {
                i += 1;
            } else {
                added.push(line);
            }
        }
        assert_eq!(
            i,
            old.len(),
            "every line of the original is kept, in order:\n{new}"
        );
        added
    }

    const KUBECTL_STYLE: &str = "\
# My clusters. Do not lose this comment.
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: QUJD
    server: https://10.0.0.1:6443   # the lab
  name: lab
# ----- production -----

contexts:
- context:
    cluster: lab
    namespace: default
    user: lab-admin
  name: lab
current-context: lab
kind: Config
preferences: {}
users:
- name: lab-admin
  user:
    client-certificate-data: 'QUJD'
    token: \"x\\ty\"
    # the token above is fake
";

    #[test]
    fn comments_and_order_are_kept_byte_for_byte() {
        let e = entries("dev", None);
        let (new, outcome) = add(KUBECTL_STYLE, &e);
        has_entries(&new, &e);
        assert!(!outcome.current_context_set);
        assert_eq!(outcome.current_context.as_deref(), Some("lab"));
        let added = added_lines(KUBECTL_STYLE, &new);
        assert!(
            added
                .iter()
                .all(|l| l.starts_with("- ") || l.starts_with("  ")),
            "{added:?}"
        );
        // Each item went to the end of its own list, before the comments that follow it.
        assert!(new.contains("  name: lab\n- cluster:\n"), "{new}");
        assert!(
            new.contains("\"\n# ----- production -----\n\ncontexts:"),
            "{new}"
        );
        assert!(
            new.contains("  name: \"dev@prod\"\ncurrent-context: lab\n"),
            "{new}"
        );
        assert!(new.ends_with("    token: \"x\\ty\"\n- name: \"aws-sso-auth:dev:arn:aws:eks:eu-west-1:111122223333:cluster/prod\"\n  user:\n    exec:\n      apiVersion: \"client.authentication.k8s.io/v1beta1\"\n      args:\n      - \"eks\"\n      - \"token\"\n      - \"--cluster\"\n      - \"prod\"\n      - \"--profile\"\n      - \"dev\"\n      - \"--region\"\n      - \"eu-west-1\"\n      command: \"/usr/bin/aws-sso-auth\"\n    # the token above is fake\n"), "{new}");
        // And removing them gives the original back, byte for byte.
        let (back, removed) = remove_text(&new, &Removal::favourite("dev")).expect("removed");
        assert_eq!(back, KUBECTL_STYLE);
        assert_eq!(
            removed.entries,
            Entries {
                contexts: vec!["dev@prod".into()],
                users: vec![e.user_name()],
                clusters: vec![ARN.into()],
            }
        );
        assert!(!removed.current_context_cleared);
    }

    #[test]
    fn a_second_run_changes_nothing() {
        let e = entries("dev", None);
        for start in ["", KUBECTL_STYLE, "clusters: []\ncontexts: null\nusers:\n"] {
            let (once, _) = add(start, &e);
            let (twice, outcome) = add(&once, &e);
            assert_eq!(once, twice);
            assert!(outcome.current_context.is_some());
            assert!(!outcome.current_context_set);
        }
    }

    #[test]
    fn a_missing_or_empty_file_becomes_a_kubeconfig() {
        let e = entries("dev", None);
        for start in ["", "\n", "# just a comment\n", "---\n"] {
            let (new, outcome) = add(start, &e);
            assert!(new.starts_with(start));
            has_entries(&new, &e);
            let doc = load(&new);
            assert_eq!(doc["apiVersion"].as_str(), Some("v1"));
            assert_eq!(doc["kind"].as_str(), Some("Config"));
            assert_eq!(doc["current-context"].as_str(), Some("dev@prod"));
            assert!(outcome.current_context_set);
        }
        let (new, _) = add("", &e);
        assert!(
            new.starts_with(
                "apiVersion: v1\nkind: Config\npreferences: {}\nclusters:\n- cluster:\n"
            ),
            "{new}"
        );
    }

    #[test]
    fn current_context_is_set_only_when_there_is_none() {
        let e = entries("dev", None);
        for (start, set) in [
            ("current-context: \"\"\n", true),
            ("current-context:\n", true),
            ("current-context: ~ # none yet\n", true),
            ("current-context: ''\nkind: Config\n", true),
            ("current-context: theirs\n", false),
        ] {
            let (new, outcome) = add(start, &e);
            assert_eq!(outcome.current_context_set, set, "{start}");
            let doc = load(&new);
            let want = if set { "dev@prod" } else { "theirs" };
            assert_eq!(doc["current-context"].as_str(), Some(want), "{new}");
            assert!(new.starts_with("current-context: "), "{new}");
        }
        let (new, _) = add("current-context: ~ # none yet\n", &e);
        assert!(
            new.starts_with("current-context: \"dev@prod\" # none yet\n"),
            "{new}"
        );
        // Not when KUBECONFIG names other files, whose current-context kubectl may use.
        let (new, outcome) = add_text("", &e, false).expect("added");
        assert!(!outcome.current_context_set);
        assert_eq!(load(&new)["current-context"], Yaml::BadValue);
        // Removing the context it names empties it.
        let (new, _) = add("current-context: \"\"\n", &e);
        let (back, removed) = remove_text(&new, &Removal::favourite("dev")).expect("removed");
        assert!(removed.current_context_cleared);
        assert!(back.starts_with("current-context: \"\"\n"), "{back}");
    }

    #[test]
    fn flow_style_lists_and_nulls() {
        let e = entries("dev", None);
        let start = "\
apiVersion: v1
clusters: [] # none yet
contexts: [{name: lab, context: {cluster: lab, user: admin}}]
users: null
";
        let (new, _) = add(start, &e);
        has_entries(&new, &e);
        assert!(
            new.starts_with("apiVersion: v1\nclusters: # none yet\n- cluster:\n"),
            "{new}"
        );
        assert!(new.contains("contexts: [{name: lab, context: {cluster: lab, user: admin}}, {\"context\": {\"cluster\": "), "{new}");
        assert!(new.contains("\nusers:\n- name: "), "{new}");
        let doc = load(&new);
        assert_eq!(
            item(&doc, "contexts", "lab")["context"]["user"].as_str(),
            Some("admin")
        );
        let (again, _) = add(&new, &e);
        assert_eq!(again, new);
        let (back, _) = remove_text(&new, &Removal::favourite("dev")).expect("removed");
        let doc = load(&back);
        assert_eq!(doc["contexts"].as_vec().map(Vec::len), Some(1));
        assert_eq!(doc["users"].as_vec().map(Vec::len), Some(0));
        assert_eq!(doc["clusters"].as_vec().map(Vec::len), Some(0));
        assert!(
            back.contains("contexts: [{name: lab, context: {cluster: lab, user: admin}}]\n"),
            "{back}"
        );
        // A changed item in a flow list is replaced where it is.
        let mut moved = e.clone();
        moved.server = "https://moved.example".into();
        let (flow, _) = add("clusters: [{name: a}, {name: \"arn:aws:eks:eu-west-1:111122223333:cluster/prod\", cluster: {server: old}}, {name: b}]\n", &moved);
        assert!(flow.starts_with("clusters: [{name: a}, {\"cluster\": {\"certificate-authority-data\": \"LS0tLS1CRUdJTg==\", \"server\": \"https://moved.example\"}, \"name\": \"arn:aws:eks:eu-west-1:111122223333:cluster/prod\"}, {name: b}]\n"), "{flow}");
    }

    #[test]
    fn crlf_files_stay_crlf() {
        let e = entries("dev", None);
        let start = KUBECTL_STYLE.replace('\n', "\r\n");
        let (new, _) = add(&start, &e);
        has_entries(&new, &e);
        assert!(
            !new.replace("\r\n", "").contains('\n'),
            "only CRLF line ends"
        );
        added_lines(&start, &new);
        let (back, _) = remove_text(&new, &Removal::favourite("dev")).expect("removed");
        assert_eq!(back, start);
        // A byte order mark stays too.
        let start = format!("\u{feff}{start}");
        let (new, _) = add(&start, &e);
        assert!(new.starts_with('\u{feff}'));
        has_entries(&new, &e);
    }

    #[test]
    fn indentation_of_the_list_is_kept() {
        let e = entries("dev", None);
        let start = "clusters:\n    -   name: a\n        cluster: {server: x}\nusers:\n  - name: u\n    user: {}\n";
        let (new, _) = add(start, &e);
        has_entries(&new, &e);
        added_lines(start, &new);
        assert!(
            new.contains("        cluster: {server: x}\n    - cluster:\n"),
            "{new}"
        );
        assert!(
            new.contains("    user: {}\n  - name: \"aws-sso-auth:"),
            "{new}"
        );
    }

    #[test]
    fn a_changed_cluster_is_replaced_in_place() {
        let e = entries("dev", None);
        let (first, _) = add(KUBECTL_STYLE, &e);
        let mut moved = e.clone();
        moved.server = "https://moved.example".into();
        let (second, _) = add(&first, &moved);
        has_entries(&second, &moved);
        assert_eq!(first.replace(&e.server, &moved.server), second);
        // An item the person wrote for the same ARN with more keys is kept while it says
        // the same server and authority.
        let theirs = format!("clusters:\n- name: {ARN}\n  cluster:\n    server: {}\n    certificate-authority-data: {}\n    proxy-url: http://proxy:3128\n", e.server, e.certificate_authority_data);
        let (new, _) = add(&theirs, &e);
        assert!(new.starts_with(&theirs), "{new}");
    }

    #[test]
    fn tabs_and_text_that_is_not_yaml_are_refused() {
        let e = entries("dev", None);
        for (text, line) in [
            ("apiVersion: v1\nclusters:\n\t- name: a\n", 3),
            ("apiVersion: v1\nclusters: [\n", 3),
            ("a: 1\na: 2\n", 2),
            ("{\"unclosed\": \n", 2),
        ] {
            match add_text(text, &e, true) {
                Err(EditError::Unreadable(problem)) => {
                    assert!(problem.contains("is not valid YAML"), "{problem}");
                    assert!(problem.contains(&format!("line {line}")), "{problem}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
        for (text, what) in [
            ("- a\n- b\n", "is not a YAML mapping"),
            ("just words\n", "is not a YAML mapping"),
            ("a: 1\n---\nb: 2\n", "2 YAML documents"),
            (
                "clusters: lab\n",
                "has clusters that is not a list (line 1)",
            ),
            (
                "users:\n- name: a\n- just a string\n",
                "has an item of users that is not a mapping (line 3)",
            ),
            (
                "current-context: [a]\n",
                "current-context that is not a string",
            ),
            ("a: \"x\0\"\n", "NUL"),
        ] {
            match add_text(text, &e, true) {
                Err(EditError::Unreadable(problem)) => assert!(problem.contains(what), "{problem}"),
                other => panic!("{text:?}: {other:?}"),
            }
            assert!(remove_text(text, &Removal::favourite("dev")).is_err());
        }
        // JSON is YAML, but not edited here.
        assert!(matches!(
            add_text("{\"apiVersion\": \"v1\", \"clusters\": []}\n", &e, true),
            Err(EditError::Unsafe { .. })
        ));
    }

    #[test]
    fn a_layout_the_editor_would_get_wrong_is_refused_not_mangled() {
        // The literal's last line looks like a comment, so the item seems to end before
        // it: inserting there would change the token, which the check after the edit sees.
        let text =
            "users:\n- name: a\n  user:\n    token: |\n      x\n      # y\ncurrent-context: z\n";
        match add_text(text, &entries("dev", None), true) {
            Err(EditError::Unsafe { line, reason }) => {
                assert_eq!(line, 6);
                assert!(
                    reason.contains("more than aws-sso-tray's entries"),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_context_of_the_persons_is_not_replaced() {
        let e = entries("dev", Some("prod"));
        let text = "contexts:\n- name: prod\n  context:\n    cluster: prod\n    user: admin\n";
        assert_eq!(
            add_text(text, &e, true),
            Err(EditError::ContextTaken {
                name: "prod".into(),
                line: 2
            })
        );
        // One of ours is re-pointed.
        let (new, _) = add("", &entries("ops", Some("prod")));
        let (new, _) = add(&new, &e);
        has_entries(&new, &e);
        // And two of the same name are the person's to sort out.
        let twice = "users:\n- name: aws-sso-auth:dev:arn:aws:eks:eu-west-1:111122223333:cluster/prod\n- name: aws-sso-auth:dev:arn:aws:eks:eu-west-1:111122223333:cluster/prod\n";
        match add_text(twice, &e, true) {
            Err(EditError::Unreadable(p)) => assert!(p.contains("lines 2 and 3"), "{p}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn two_favourites_share_a_cluster() {
        let dev = entries("dev", None);
        let ops = entries("ops", None);
        let (one, _) = add(KUBECTL_STYLE, &dev);
        let (two, _) = add(&one, &ops);
        has_entries(&two, &dev);
        has_entries(&two, &ops);
        let doc = load(&two);
        assert_eq!(doc["clusters"].as_vec().map(Vec::len), Some(2));
        assert_eq!(doc["users"].as_vec().map(Vec::len), Some(3));
        // Removing one favourite keeps the cluster the other's context uses.
        let (three, removed) = remove_text(&two, &Removal::favourite("dev")).expect("removed");
        assert!(removed.entries.clusters.is_empty());
        has_entries(&three, &ops);
        assert_eq!(load(&three)["users"].as_vec().map(Vec::len), Some(2));
        let (back, removed) = remove_text(&three, &Removal::favourite("ops")).expect("removed");
        assert_eq!(removed.entries.clusters, vec![ARN.to_owned()]);
        assert_eq!(back, KUBECTL_STYLE);
        // Nothing of a favourite: nothing changes.
        let (same, removed) =
            remove_text(KUBECTL_STYLE, &Removal::favourite("dev")).expect("nothing");
        assert_eq!(same, KUBECTL_STYLE);
        assert!(removed.entries.is_empty());
    }

    #[test]
    fn removal_by_cluster_and_region() {
        let dev = entries("dev", None);
        let mut other = entries("dev", None);
        other.cluster_arn = "arn:aws:eks:us-east-1:111122223333:cluster/test".into();
        other.cluster_name = "test".into();
        other.region = "us-east-1".into();
        other.context = "dev@test".into();
        let (one, _) = add("", &dev);
        let (two, _) = add(&one, &other);
        let only = |cluster: &str, region: Option<&str>| Removal {
            profile: "dev".into(),
            cluster: Some(cluster.into()),
            region: region.map(str::to_owned),
        };
        let (_, r) = remove_text(&two, &only("test", Some("eu-west-1"))).expect("nothing");
        assert!(r.entries.is_empty());
        let (three, r) = remove_text(&two, &only("test", None)).expect("removed");
        assert_eq!(r.entries.contexts, vec!["dev@test".to_owned()]);
        has_entries(&three, &dev);
        // A user of the person's that runs another program is never taken.
        let theirs = "users:\n- name: mine\n  user:\n    exec:\n      command: other-tool\n      args: [eks, token, --profile, dev]\n";
        let (_, r) = remove_text(theirs, &Removal::favourite("dev")).expect("nothing");
        assert!(r.entries.is_empty());
        let ours = "users:\n- name: renamed\n  user:\n    exec:\n      command: C:\\Tools\\aws-sso-auth.exe\n      args: [eks, token, --profile=dev]\n";
        let (back, r) = remove_text(ours, &Removal::favourite("dev")).expect("removed");
        assert_eq!(r.entries.users, vec!["renamed".to_owned()]);
        assert_eq!(back, "users: []\n");
    }

    #[test]
    fn hostile_names_read_back_as_they_were() {
        for profile in [
            "a\"b",
            "x\ny: z",
            "k: v",
            "#not a comment",
            "'; rm -rf /'",
            "\u{202e}evil",
            "tab\there",
            "\u{2028}ls",
            "é✓",
        ] {
            let mut e = entries(profile, Some(&format!("{profile}: #{profile}")));
            e.server = format!("https://x/{profile}");
            e.command = format!("/opt/{profile}/aws-sso-auth");
            let (new, _) = add(KUBECTL_STYLE, &e);
            has_entries(&new, &e);
            added_lines(KUBECTL_STYLE, &new);
            let (again, _) = add(&new, &e);
            assert_eq!(again, new);
            let (back, r) = remove_text(&new, &Removal::favourite(profile)).expect("removed");
            assert_eq!(back, KUBECTL_STYLE, "{profile:?}");
            assert_eq!(r.entries.users, vec![e.user_name()]);
        }
    }

    #[test]
    fn quoting_is_json_and_yaml() {
        for s in [
            "plain",
            "a\"b\\c",
            "\n\r\t\u{7}",
            "\u{85}\u{2028}\u{feff}",
            "'",
            ": #",
            "日本",
        ] {
            let q = quote(s);
            let json: String = serde_json::from_str(&q).expect("json");
            assert_eq!(json, s);
            assert_eq!(load(&format!("k: {q}\n"))["k"].as_str(), Some(s));
        }
    }

    #[test]
    fn kubeconfig_is_the_first_file_of_kubeconfig_else_home() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        #[cfg(unix)]
        {
            let k = Kubeconfig::from_env(env(&[("KUBECONFIG", "/a/one:/b/two"), ("HOME", "/h")]))
                .expect("path");
            assert_eq!(k.path(), Path::new("/a/one"));
            assert!(k.others);
            let k = Kubeconfig::from_env(env(&[("KUBECONFIG", ":/b/two"), ("HOME", "/h")]))
                .expect("path");
            assert_eq!(k.path(), Path::new("/b/two"));
            assert!(!k.others);
            let k = Kubeconfig::from_env(env(&[("KUBECONFIG", ""), ("HOME", "/h")])).expect("path");
            assert_eq!(k.path(), Path::new("/h/.kube/config"));
        }
        #[cfg(windows)]
        {
            let k = Kubeconfig::from_env(env(&[
                ("KUBECONFIG", r"C:\a\one;C:\b\two"),
                ("USERPROFILE", r"C:\h"),
            ]))
            .expect("path");
            assert_eq!(k.path(), Path::new(r"C:\a\one"));
        }
        assert!(Kubeconfig::from_env(env(&[])).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_written_atomically_with_its_mode_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("new/.kube/config");
        let k = Kubeconfig::new(&path);
        let e = entries("dev", None);
        let added = k.add(&e).expect("added");
        assert!(added.changed && added.current_context_set);
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().expect("dir")), 0o700);
        let stamp = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("mtime");
        let again = k.add(&e).expect("again");
        assert!(!again.changed);
        assert_eq!(
            std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .expect("mtime"),
            stamp
        );
        // An existing file keeps its mode, and a symlink stays one.
        let real = dir.path().join("real");
        std::fs::write(&real, KUBECTL_STYLE).expect("write");
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).expect("link");
        let k = Kubeconfig::new(&link);
        assert!(k.add(&e).expect("added").changed);
        assert!(std::fs::symlink_metadata(&link)
            .expect("meta")
            .file_type()
            .is_symlink());
        assert_eq!(mode(&real), 0o640);
        has_entries(&std::fs::read_to_string(&real).expect("read"), &e);
        let listed = k.entries(&Removal::favourite("dev")).expect("entries");
        assert_eq!(listed.entries.users, vec![e.user_name()]);
        let removed = k.remove(&Removal::favourite("dev")).expect("removed");
        assert!(removed.changed);
        assert_eq!(std::fs::read_to_string(&real).expect("read"), KUBECTL_STYLE);
        // A file that is not YAML is left as it was, and named.
        let bad = dir.path().join("bad");
        std::fs::write(&bad, "a: [\n").expect("write");
        let err = Kubeconfig::new(&bad)
            .add(&e)
            .expect_err("refused")
            .to_string();
        assert!(
            err.starts_with(&format!("{} is not valid YAML (line 2", bad.display())),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&bad).expect("read"), "a: [\n");
        std::fs::write(&bad, b"a: \xff\n").expect("write");
        let err = Kubeconfig::new(&bad)
            .add(&e)
            .expect_err("refused")
            .to_string();
        assert!(err.contains("is not UTF-8 text (line 1)"), "{err}");
        // A missing file has no entries.
        let none = Kubeconfig::new(dir.path().join("none")).entries(&Removal::favourite("dev"));
        assert!(none.expect("empty").entries.is_empty());
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn name() -> impl Strategy<Value = String> {
            prop_oneof![
                "[a-z][a-z0-9-]{0,8}",
                any::<String>().prop_map(|s| s.chars().take(12).collect()),
            ]
        }

        /// A block-style item of the person's, with a comment maybe.
        fn other_item(key: &'static str) -> impl Strategy<Value = String> {
            (name(), name(), any::<bool>(), any::<bool>()).prop_map(move |(n, v, comment, flow)| {
                let body = match key {
                    "clusters" => "cluster",
                    "contexts" => "context",
                    _ => "user",
                };
                let mut s = if flow {
                    format!(
                        "- {{name: {}, {body}: {{server: {}}}}}\n",
                        quote(&n),
                        quote(&v)
                    )
                } else {
                    format!(
                        "- name: {}\n  {body}:\n    server: {}\n",
                        quote(&n),
                        quote(&v)
                    )
                };
                if comment {
                    s.push_str("# a comment: - name: x\n\n");
                }
                s
            })
        }

        fn kubeconfig() -> impl Strategy<Value = String> {
            (
                proptest::collection::vec(other_item("clusters"), 0..4),
                proptest::collection::vec(other_item("contexts"), 0..4),
                proptest::collection::vec(other_item("users"), 0..4),
                any::<bool>(),
                any::<bool>(),
            )
                .prop_map(|(clusters, contexts, users, current, crlf)| {
                    let mut s = String::from("# head\napiVersion: v1\n");
                    for (key, items) in [
                        ("clusters", clusters),
                        ("contexts", contexts),
                        ("users", users),
                    ] {
                        if items.is_empty() {
                            s.push_str(&format!("{key}: []\n"));
                        } else {
                            s.push_str(&format!("{key}:\n{}", items.concat()));
                        }
                    }
                    if current {
                        s.push_str("current-context: \"x\"\n");
                    }
                    s.push_str("kind: Config\n");
                    if crlf {
                        s = s.replace('\n', "\r\n");
                    }
                    s
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]

            #[test]
            fn only_our_entries_change(text in kubeconfig(), profile in name(), alias in proptest::option::of(name())) {
                let e = entries(&profile, alias.as_deref());
                let before = load(&text);
                match add_text(&text, &e, true) {
                    Ok((new, _)) => {
                        has_entries(&new, &e);
                        let after = load(&new);
                        for key in LISTS {
                            let ours = [e.cluster_arn.as_str(), e.context.as_str(), e.user_name().as_str()].map(str::to_owned);
                            let others = |d: &Yaml| -> Vec<Yaml> {
                                d[key].as_vec().map(|l| l.iter().filter(|i| !i["name"].as_str().is_some_and(|n| ours.iter().any(|o| o == n))).cloned().collect()).unwrap_or_default()
                            };
                            prop_assert_eq!(others(&before), others(&after));
                        }
                        let (again, _) = add_text(&new, &e, true).expect("again");
                        prop_assert_eq!(&again, &new);
                        let (back, _) = remove_text(&new, &Removal::favourite(&profile)).expect("removed");
                        for key in LISTS {
                            let len = |d: &Yaml| d[key].as_vec().map_or(0, Vec::len);
                            prop_assert!(len(&load(&back)) <= len(&before));
                        }
                    }
                    // A person's context of the same name (an arbitrary alias can hit one).
                    Err(EditError::ContextTaken { .. }) => {}
                    // Two items of the person's with one of our names.
                    Err(EditError::Unreadable(p)) => prop_assert!(p.contains("named"), "{}", p),
                    Err(other) => prop_assert!(false, "{:?}\n{}", other, text),
                }
            }
        }
    }
}
