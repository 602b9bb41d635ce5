//! What the commands print: tables for people, JSON for programs.

use super::args::Format;
use aws_sso_device_auth_provider::awsfiles::ManagedProfile;
use aws_sso_device_auth_provider::clock::rfc3339;
use aws_sso_device_auth_provider::display;
use aws_sso_device_auth_provider::settings::Favourite;
use aws_sso_device_auth_provider::{Account, AccountRoles, Error, Role, RoleCredentials};
use serde_json::json;
use std::time::{Duration, SystemTime};

fn print_json(v: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

/// The widest a name column gets in a table; AWS caps account names at 50 characters,
/// so only a name that is not one is cut.
const NAME_CHARS: usize = 64;

/// Account names as shown in a table's NAME column, and that column's width.
fn name_column<'a>(names: impl Iterator<Item = &'a str>) -> (Vec<String>, usize) {
    let names: Vec<String> = names.map(|n| display::capped(n, NAME_CHARS)).collect();
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    (names, width)
}

pub fn accounts(accounts: &[Account], as_json: bool) {
    if as_json {
        print_json(&json!(accounts));
        return;
    }
    let (names, width) = name_column(accounts.iter().map(|a| a.account_name.as_str()));
    println!("{:<12}  {:<width$}  EMAIL", "ACCOUNT", "NAME");
    for (a, name) in accounts.iter().zip(&names) {
        println!(
            "{:<12}  {:<width$}  {}",
            a.account_id,
            name,
            display::text(a.email_address.as_deref().unwrap_or(""))
        );
    }
}

/// One line per role: account id, account name, role; or the accounts with their roles
/// as JSON.
pub fn account_roles(accounts: &[AccountRoles], as_json: bool) {
    if as_json {
        print_json(&json!(accounts));
        return;
    }
    let (names, width) = name_column(accounts.iter().map(|a| a.account.account_name.as_str()));
    println!("{:<12}  {:<width$}  ROLE", "ACCOUNT", "NAME");
    for (a, name) in accounts.iter().zip(&names) {
        for r in &a.roles {
            println!(
                "{:<12}  {:<width$}  {}",
                display::text(&a.account.account_id),
                name,
                display::text(&r.role_name)
            );
        }
    }
}

pub fn roles(roles: &[Role], as_json: bool) {
    if as_json {
        print_json(&json!(roles));
        return;
    }
    println!("{:<12}  ROLE", "ACCOUNT");
    for r in roles {
        println!(
            "{:<12}  {}",
            display::text(&r.account_id),
            display::text(&r.role_name)
        );
    }
}

pub fn favourites(favourites: &[Favourite], as_json: bool) {
    if as_json {
        print_json(&json!(favourites));
        return;
    }
    let width = favourites
        .iter()
        .map(|f| f.profile.as_str().len())
        .max()
        .unwrap_or(0)
        .max(7);
    println!(
        "{:<width$}  {:<12}  {:<24}  {:<14}  INSTANCE",
        "PROFILE", "ACCOUNT", "ROLE", "REGION"
    );
    for f in favourites {
        println!(
            "{:<width$}  {:<12}  {:<24}  {:<14}  {}",
            f.profile.as_str(),
            f.account_id,
            match &f.assume_role {
                // The role assumed from it, by its ARN: the name alone may be in any account.
                Some(a) => format!("{} ⇒ {}", display::text(&f.role_name), a.role_arn()),
                None => display::text(&f.role_name).into_owned(),
            },
            f.region.as_deref().unwrap_or(""),
            f.instance,
        );
    }
}

pub fn profiles(profiles: &[ManagedProfile], now: SystemTime, as_json: bool) {
    if as_json {
        let list: Vec<_> = profiles
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "expiresAt": p.expires_at.map(rfc3339),
                    "expired": p.expires_at.map(|t| t <= now),
                    "region": p.region,
                })
            })
            .collect();
        print_json(&json!(list));
        return;
    }
    let width = profiles
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0)
        .max(7);
    println!(
        "{:<width$}  {:<20}  {:<18}  REGION",
        "PROFILE", "EXPIRES", ""
    );
    for p in profiles {
        let (at, relative) = match p.expires_at {
            Some(t) => (rfc3339(t), relative(now, t)),
            None => ("unknown".to_owned(), String::new()),
        };
        println!(
            "{:<width$}  {at:<20}  {relative:<18}  {}",
            p.name,
            p.region.as_deref().unwrap_or("")
        );
    }
}

/// "in 42 min", "expired 3 h ago".
fn relative(now: SystemTime, then: SystemTime) -> String {
    let span = |d: Duration| {
        let m = d.as_secs() / 60;
        if m < 120 {
            format!("{m} min")
        } else {
            format!("{} h", m / 60)
        }
    };
    match then.duration_since(now) {
        Ok(d) => format!("in {}", span(d)),
        Err(e) => format!("expired {} ago", span(e.duration())),
    }
}

/// Prints the credentials in `format`. The lines of a shell's format are built whole
/// before any is printed: a value that format cannot quote is an error, and stdout is
/// left empty.
pub fn credentials(
    c: &RoleCredentials,
    account: &str,
    role: &str,
    format: Format,
) -> Result<(), Error> {
    let expiration = rfc3339(c.expiration);
    let assign: Assign = match format {
        Format::Process => {
            println!(
                "{}",
                json!({
                    "Version": 1,
                    "AccessKeyId": c.access_key_id,
                    "SecretAccessKey": c.secret_access_key.expose(),
                    "SessionToken": c.session_token.expose(),
                    "Expiration": expiration,
                })
            );
            return Ok(());
        }
        Format::Json => {
            print_json(&json!({
                "accountId": account,
                "roleName": role,
                "accessKeyId": c.access_key_id,
                "secretAccessKey": c.secret_access_key.expose(),
                "sessionToken": c.session_token.expose(),
                "expiration": expiration,
            }));
            return Ok(());
        }
        Format::Env => posix_export,
        Format::EnvNoExport => posix_assignment,
        Format::Powershell => powershell_assignment,
        Format::WindowsCmd => windows_cmd_set,
        Format::Fish => fish_set,
    };
    let variables = [
        ("AWS_ACCESS_KEY_ID", c.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", c.secret_access_key.expose()),
        ("AWS_SESSION_TOKEN", c.session_token.expose()),
        ("AWS_CREDENTIAL_EXPIRATION", expiration.as_str()),
    ];
    print!("{}", shell_lines(assign, &variables)?);
    Ok(())
}

/// One line of a shell's format that sets `variable` (a fixed name: only the value is
/// quoted) to `value`, without its line end; an error if that shell cannot quote it.
type Assign = fn(variable: &'static str, value: &str) -> Result<String, Error>;

/// The lines that set each variable, each ended by a newline; the first error if any
/// value cannot be written.
fn shell_lines(assign: Assign, variables: &[(&'static str, &str)]) -> Result<String, Error> {
    variables
        .iter()
        .map(|&(variable, value)| assign(variable, value).map(|line| line + "\n"))
        .collect()
}

/// `export NAME='value'`, for `eval "$(aws-sso-auth credentials --format env)"`.
fn posix_export(variable: &'static str, value: &str) -> Result<String, Error> {
    Ok(format!("export {variable}={}", shell_quote(value)))
}

/// `NAME='value'`: a POSIX assignment, for scripts that export only what they choose.
fn posix_assignment(variable: &'static str, value: &str) -> Result<String, Error> {
    Ok(format!("{variable}={}", shell_quote(value)))
}

/// `$Env:NAME='value'`, in a PowerShell single-quoted string.
fn powershell_assignment(variable: &'static str, value: &str) -> Result<String, Error> {
    Ok(format!("$Env:{variable}={}", powershell_quote(value)))
}

/// `set -gx NAME 'value'`, in a fish single-quoted string.
fn fish_set(variable: &'static str, value: &str) -> Result<String, Error> {
    Ok(format!("set -gx {variable} {}", fish_quote(value)))
}

/// `set "NAME=value"` for Windows cmd, whose quotes protect `& | < > ( ) ^` and spaces
/// but not every character: the value must be printable ASCII without `%`, `"` or `!`.
///
/// - `%` expands even between quotes, and `%%` is no escape on a command line, only in a
///   batch file; `"` ends the quote; `!` expands under delayed expansion, which then also
///   takes `^` as an escape (only in a line holding a `!`, so `^` itself is safe here).
/// - CR and LF end the command, and the other control characters (NUL, Ctrl-Z, tab, DEL)
///   are read differently by the console, a batch file and `for /f`.
/// - Anything outside ASCII: cmd reads a script in the console's code page, not UTF-8, so
///   it would not read back as sent; and Windows' best-fit conversion to such a code page,
///   when the lines are saved in one, turns some of those characters into the very ones
///   refused here (U+FF02 FULLWIDTH QUOTATION MARK into `"`, U+FF05 into `%`).
///
/// The credentials AWS issues are printable ASCII without these characters.
fn windows_cmd_set(variable: &'static str, value: &str) -> Result<String, Error> {
    let quotable = |c: char| (c.is_ascii_graphic() || c == ' ') && !matches!(c, '%' | '"' | '!');
    if !value.chars().all(quotable) {
        return Err(Error::Unquotable {
            variable,
            shell: "Windows cmd",
            refused: "%, \", ! or a control or non-ASCII character",
        });
    }
    Ok(format!("set \"{variable}={value}\""))
}

/// Single-quotes `value` for a POSIX shell: what the service sent can never end the quote
/// and run as a command under `eval "$(aws-sso-auth credentials --format env)"`.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// Single-quotes `value` for PowerShell, where a quote inside is written twice. PowerShell
/// takes the typographic single quotes (U+2018 to U+201B) for `'` as well, so they are
/// doubled too: each pair reads back as the one character it doubles.
fn powershell_quote(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('\'');
    for c in value.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            quoted.push(c);
        }
        quoted.push(c);
    }
    quoted.push('\'');
    quoted
}

/// Single-quotes `value` for fish, where `\\` and `\'` are the only escapes between single
/// quotes (any other backslash stays as it is).
fn fish_quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'"))
}

#[cfg(test)]
mod tests {
    use super::{Assign, Error};

    /// The variables every shell format sets, in their order.
    const VARIABLES: [&str; 4] = [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION",
    ];

    /// Values a hostile or broken service could send.
    const HOSTILE: &[&str] = &[
        "it's \"quoted\" \u{2018}every\u{2019} \u{201A}way\u{201B} `too`",
        r"back\slash\\ \' \n ends in one\",
        "$(touch pwned) `touch pwned` ${HOME} $fish_pid (touch pwned) {a,b} * ~",
        "a; touch pwned & echo pwned | cat > pwned < /dev/null # not a comment",
        "line one\nline two\r\nline three\n",
        "%PATH% !x! \" ^& ^ %%",
        "-e",
        "--help",
        "",
        " spaces around ",
        "\ttab",
        "caf\u{e9} \u{1F600} \u{FF02}\u{FF07}",
    ];

    /// The four values set for `hostile`: it alone, and next to a quote, a backslash and
    /// a newline.
    fn values(hostile: &str) -> [String; 4] {
        [
            hostile.to_owned(),
            format!("{hostile}'"),
            format!("\\{hostile}"),
            format!("{hostile}\n\\"),
        ]
    }

    fn lines(assign: Assign, values: &[String; 4]) -> Result<String, Error> {
        let variables: Vec<(&'static str, &str)> = VARIABLES
            .iter()
            .zip(values)
            .map(|(&name, value)| (name, value.as_str()))
            .collect();
        super::shell_lines(assign, &variables)
    }

    #[test]
    fn each_format_prints_the_four_variables_one_per_line() {
        let values = [
            "ASIA1".to_owned(),
            "s/+3".into(),
            "t=".into(),
            "2030-01-02T03:04:05Z".into(),
        ];
        let cases: [(Assign, &str); 5] = [
            (
                super::posix_export,
                "export AWS_ACCESS_KEY_ID='ASIA1'\nexport AWS_SECRET_ACCESS_KEY='s/+3'\n\
                 export AWS_SESSION_TOKEN='t='\nexport AWS_CREDENTIAL_EXPIRATION='2030-01-02T03:04:05Z'\n",
            ),
            (
                super::posix_assignment,
                "AWS_ACCESS_KEY_ID='ASIA1'\nAWS_SECRET_ACCESS_KEY='s/+3'\n\
                 AWS_SESSION_TOKEN='t='\nAWS_CREDENTIAL_EXPIRATION='2030-01-02T03:04:05Z'\n",
            ),
            (
                super::powershell_assignment,
                "$Env:AWS_ACCESS_KEY_ID='ASIA1'\n$Env:AWS_SECRET_ACCESS_KEY='s/+3'\n\
                 $Env:AWS_SESSION_TOKEN='t='\n$Env:AWS_CREDENTIAL_EXPIRATION='2030-01-02T03:04:05Z'\n",
            ),
            (
                super::windows_cmd_set,
                "set \"AWS_ACCESS_KEY_ID=ASIA1\"\nset \"AWS_SECRET_ACCESS_KEY=s/+3\"\n\
                 set \"AWS_SESSION_TOKEN=t=\"\nset \"AWS_CREDENTIAL_EXPIRATION=2030-01-02T03:04:05Z\"\n",
            ),
            (
                super::fish_set,
                "set -gx AWS_ACCESS_KEY_ID 'ASIA1'\nset -gx AWS_SECRET_ACCESS_KEY 's/+3'\n\
                 set -gx AWS_SESSION_TOKEN 't='\nset -gx AWS_CREDENTIAL_EXPIRATION '2030-01-02T03:04:05Z'\n",
            ),
        ];
        for (assign, expected) in cases {
            assert_eq!(lines(assign, &values).expect("printable"), expected);
        }
    }

    #[test]
    fn powershell_doubles_every_single_quote_it_knows() {
        assert_eq!(
            super::powershell_assignment(
                "AWS_SESSION_TOKEN",
                "a'b\u{2018}c\u{2019}d\u{201A}e\u{201B}f\"g$h`i\nj"
            )
            .expect("quotable"),
            "$Env:AWS_SESSION_TOKEN='a''b\u{2018}\u{2018}c\u{2019}\u{2019}d\u{201A}\u{201A}e\u{201B}\u{201B}f\"g$h`i\nj'"
        );
        // Read as PowerShell's tokenizer reads a single-quoted string, every value comes
        // back whole and the quote ends at the end of the line.
        for hostile in HOSTILE {
            for value in values(hostile) {
                let line =
                    super::powershell_assignment("AWS_SESSION_TOKEN", &value).expect("quotable");
                let quoted = line
                    .strip_prefix("$Env:AWS_SESSION_TOKEN=")
                    .expect("assignment");
                assert_eq!(powershell_unquote(quoted), Some(value), "{line}");
            }
        }
    }

    /// The value of a PowerShell single-quoted string that is the whole of `quoted`, as
    /// its tokenizer reads it: any of the five single quotes ends the string unless
    /// another follows, and then that second one is the character; `None` if the string
    /// ends before the end of `quoted`.
    fn powershell_unquote(quoted: &str) -> Option<String> {
        let is_quote =
            |c: char| matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}');
        let mut chars = quoted.chars().peekable();
        if !chars.next().is_some_and(is_quote) {
            return None;
        }
        let mut value = String::new();
        while let Some(mut c) = chars.next() {
            if is_quote(c) {
                match chars.next_if(|&next| is_quote(next)) {
                    Some(second) => c = second,
                    None => return chars.next().is_none().then_some(value),
                }
            }
            value.push(c);
        }
        None
    }

    #[test]
    fn windows_cmd_refuses_what_it_cannot_quote_and_never_shows_it() {
        assert_eq!(
            super::windows_cmd_set("AWS_SESSION_TOKEN", "a b&c|d<e>f(g)h^i=j'k`l;m")
                .expect("quotable"),
            "set \"AWS_SESSION_TOKEN=a b&c|d<e>f(g)h^i=j'k`l;m\""
        );
        for refused in [
            "%PATH%",
            "!x!",
            "a\"b",
            "a\nb",
            "a\rb",
            "a\tb",
            "a\0b",
            "a\u{1A}b",
            "a\u{7F}b",
            "caf\u{e9}",
            "\u{FF02}",
            "\u{FF05}",
        ] {
            let values = [
                "ASIA1".to_owned(),
                "secret".into(),
                format!("s3cr3t{refused}"),
                "2030".into(),
            ];
            let e = lines(super::windows_cmd_set, &values).expect_err(refused);
            assert!(
                matches!(
                    e,
                    Error::Unquotable {
                        variable: "AWS_SESSION_TOKEN",
                        ..
                    }
                ),
                "{e:?}"
            );
            let sentence = format!("{e}; {}", e.advice().expect("advice"));
            assert!(sentence.contains("AWS_SESSION_TOKEN"), "{sentence}");
            assert!(sentence.contains("use another format"), "{sentence}");
            assert!(
                !sentence.contains("s3cr3t"),
                "the value is shown: {sentence}"
            );
        }
        // Each hostile value is refused, or printed on one line between its quotes.
        for hostile in HOSTILE {
            for value in values(hostile) {
                if let Ok(line) = super::windows_cmd_set("AWS_SESSION_TOKEN", &value) {
                    assert_eq!(line, format!("set \"AWS_SESSION_TOKEN={value}\""));
                    assert!(!value.contains(['%', '!', '"', '\n', '\r']), "{line}");
                }
            }
        }
    }

    /// A shell that sources the file named after its script, then prints the variables,
    /// each ended by U+001E.
    #[cfg(unix)]
    struct Shell {
        /// The program and the arguments before the script.
        command: &'static [&'static str],
        script: &'static str,
    }

    /// What `shell` reads back for each variable once it has sourced `lines`, or `None`
    /// where it is not installed.
    #[cfg(unix)]
    fn read_back(
        Shell {
            command: shell,
            script,
        }: &Shell,
        lines: &str,
    ) -> Option<Vec<String>> {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("credentials");
        std::fs::write(&file, lines).expect("write");
        let mut command = std::process::Command::new(shell[0]);
        command
            .args(&shell[1..])
            .arg(script)
            .arg(&file)
            .current_dir(dir.path());
        for name in VARIABLES {
            command.env_remove(name);
        }
        let out = match command.output() {
            Ok(out) => out,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => panic!("{}: {e}", shell[0]),
        };
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{lines}\n{out:?}"
        );
        let mut read: Vec<String> = String::from_utf8(out.stdout)
            .expect("UTF-8")
            .split('\u{1e}')
            .map(str::to_owned)
            .collect();
        assert_eq!(read.pop().as_deref(), Some(""), "{lines}");
        // Nothing ran but the assignments: the directory holds only the file sourced.
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("dir").count(),
            1,
            "{lines}"
        );
        Some(read)
    }

    /// `sh`, the file being `$0`.
    #[cfg(unix)]
    const SH: Shell = Shell {
        command: &["sh", "-c"],
        script: r#". "$0" && printf '%s\036' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" \
                   "$AWS_SESSION_TOKEN" "$AWS_CREDENTIAL_EXPIRATION""#,
    };

    /// `fish`, the file being `$argv[1]`; a value split in two would print as two.
    #[cfg(unix)]
    const FISH: Shell = Shell {
        command: &["fish", "--no-config", "-c"],
        script: r"source $argv[1]; and printf '%s\x1e' $AWS_ACCESS_KEY_ID $AWS_SECRET_ACCESS_KEY \
                  $AWS_SESSION_TOKEN $AWS_CREDENTIAL_EXPIRATION",
    };

    /// Sources the lines `assign` prints for `values` in `shell`: true if it is installed
    /// (and then each variable read back exactly).
    #[cfg(unix)]
    fn reads_back(assign: Assign, shell: &Shell, values: &[String; 4]) -> bool {
        let lines = lines(assign, values).expect("quotable");
        match read_back(shell, &lines) {
            Some(read) => {
                assert_eq!(read, values, "{lines}");
                true
            }
            None => false,
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_shell_reads_back_each_hostile_value_as_it_was() {
        let shells: [(&str, Assign, Shell); 3] = [
            ("env", super::posix_export, SH),
            ("env-no-export", super::posix_assignment, SH),
            ("fish", super::fish_set, FISH),
        ];
        for (format, assign, shell) in shells {
            for hostile in HOSTILE {
                if !reads_back(assign, &shell, &values(hostile)) {
                    println!(
                        "note: {} is not installed: --format {format} is not run in it",
                        shell.command[0]
                    );
                    break;
                }
            }
        }
    }

    #[cfg(unix)]
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        #[test]
        fn sh_and_fish_read_back_any_value(
            value in r"[ -~\t\n\r\x{2018}-\x{201B}\x{FF02}\x{e9}\x{1F600}]{0,24}"
        ) {
            let values = values(&value);
            reads_back(super::posix_assignment, &SH, &values);
            reads_back(super::fish_set, &FISH, &values);
        }
    }

    #[cfg(unix)]
    #[test]
    fn export_lines_are_in_the_environment_of_what_the_shell_runs() {
        let lines = lines(super::posix_export, &values("x'y")).expect("quotable");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{lines}exec printenv AWS_SESSION_TOKEN"))
            .output()
            .expect("sh");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "\\x'y\n");
    }

    #[test]
    fn shell_quote_cannot_be_escaped() {
        assert_eq!(super::shell_quote("AKIA123"), "'AKIA123'");
        assert_eq!(super::shell_quote("x';y"), r"'x'\'';y'");
    }

    #[cfg(unix)]
    #[test]
    fn a_shell_reads_the_quoted_value_as_it_was() {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "printf %s {}",
                super::shell_quote("a'b;echo pwned")
            ))
            .output()
            .expect("sh");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "a'b;echo pwned");
    }
}
