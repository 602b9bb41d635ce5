//! The faces (the command line in `src/cli`, the app in `src-tauri/src`) reach the
//! provider, the renewer, the AWS files, the keychain and the caches only through the
//! workspace. `Workspace::provider` is private to the library, so the compiler refuses a
//! face that asks for the provider; this test refuses the rest: a face that names one of
//! those types (or the one-shot helpers) fails here, naming the file and the line.

use std::path::{Path, PathBuf};

/// What only the workspace may use.
const FORBIDDEN: &[&str] = &[
    "AwsSsoDeviceAuthProvider",
    "Renewer::start",
    "AwsFiles",
    "KeychainStore",
    "SecretStore",
    "CredentialsCache",
    "AccountsCache",
    "AwsCliTokenCache",
    "PortalClient",
    "OidcClient",
    "one_shot::",
    "Settings::load",
    ".credentials(&",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// Each forbidden name a face's code (comments aside) holds, as `file:line: name`.
fn crossings(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for face in ["src/cli", "src-tauri/src"] {
        rust_files(&root.join(face), &mut files);
    }
    assert!(files.len() > 10, "the faces' files are found: {files:?}");
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for name in FORBIDDEN {
                if code.contains(name) {
                    found.push(format!(
                        "{}:{}: {name}",
                        file.strip_prefix(root).unwrap_or(&file).display(),
                        n + 1
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn the_faces_reach_the_domains_only_through_the_workspace() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = crossings(root);
    assert!(
        found.is_empty(),
        "a face uses what only the workspace may (add a workspace method instead):\n{}",
        found.join("\n")
    );
}

#[test]
fn a_face_that_crosses_the_boundary_is_found() {
    let root = tempfile::tempdir().expect("dir");
    for face in ["src/cli", "src-tauri/src"] {
        std::fs::create_dir_all(root.path().join(face)).expect("mkdir");
        for i in 0..6 {
            std::fs::write(
                root.path().join(face).join(format!("m{i}.rs")),
                "fn f() {}\n",
            )
            .expect("write");
        }
    }
    std::fs::write(
        root.path().join("src/cli/bad.rs"),
        "// AwsFiles in a comment is fine\nlet f = AwsFiles::from_env(get); // AwsFiles\n",
    )
    .expect("write");
    assert_eq!(crossings(root.path()), ["src/cli/bad.rs:2: AwsFiles"]);
}
