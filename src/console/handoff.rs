//! Handing a console sign-in URL (a secret: whoever opens it first is signed in) to the
//! browser so that nobody else can take it first: through a private page that leads to
//! a one-time loopback address ([`crate::browser`]); only the page's name is in the
//! browser's arguments. Should the address be asked for twice all the same, the browser
//! comes second, is told so, and so is the user.

use crate::browser::{Handoff, Launch, Purpose, Served, WAIT};
use crate::error::{Error, Result};
use crate::secret::Secret;
use std::path::Path;

/// Opens the console sign-in `url` in the browser `launch` starts, once, through a page in
/// `dir`, a private directory ([`crate::paths::Paths::handoff_dir`]; made if missing,
/// refused if it is not private).
///
/// Succeeds only when the browser (and nobody else) asked for the address; fails with
/// [`Error::ConsoleLinkTaken`] when it was asked for twice.
pub async fn open_once(url: &Secret, dir: &Path, launch: &Launch) -> Result<()> {
    let handoff = Handoff::open(dir, Purpose::Console, launch).await?;
    match handoff.serve(url).await {
        Served::Browser => Ok(()),
        Served::Twice => Err(Error::ConsoleLinkTaken),
        Served::Nobody => Err(Error::ConsoleNotOpened { waited: WAIT }),
    }
}
