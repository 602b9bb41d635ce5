//! `ARCHITECTURE.md`'s code map names every module of the core: a module added, moved or
//! renamed without the map saying so fails here, by its path.
//!
//! The map names a module by its file under `src/`, in backticks, with or without the
//! `src/` prefix (`` `portal/crawl.rs` ``, `` `src/renewer.rs` ``); a directory module
//! (`mod.rs`) also by its directory (`` `portal/` ``). The backticks keep one name from
//! passing for another: `` `cache/credentials.rs` `` does not name `credentials.rs`.

use std::path::Path;

/// A module of the core: its path under `src/` without `.rs` (`portal/crawl`), and
/// whether it is a directory's `mod.rs`.
#[derive(Debug)]
struct Module {
    path: String,
    dir: bool,
}

impl Module {
    /// The names the map may give it, the file's own first.
    fn names(&self) -> Vec<String> {
        let file = if self.dir {
            format!("{}/mod.rs", self.path)
        } else {
            format!("{}.rs", self.path)
        };
        let mut names = vec![file];
        if self.dir {
            names.push(format!("{}/", self.path));
        }
        names
            .iter()
            .flat_map(|n| [format!("`{n}`"), format!("`src/{n}`")])
            .collect()
    }

    /// Whether `map` names it.
    fn named_in(&self, map: &str) -> bool {
        self.names().iter().any(|n| map.contains(n.as_str()))
    }
}

/// Every module under `src`: `a/b.rs` and `a/b/mod.rs` are `a/b`; the crate roots
/// (`lib.rs`, `main.rs`) are not modules.
fn modules(src: &Path) -> Vec<Module> {
    fn walk(src: &Path, dir: &Path, found: &mut Vec<Module>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(src, &path, found);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path
                .strip_prefix(src)
                .expect("under src")
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            match relative.as_str() {
                "lib" | "main" => {}
                _ => match relative.strip_suffix("/mod") {
                    Some(parent) => found.push(Module {
                        path: parent.to_owned(),
                        dir: true,
                    }),
                    None => found.push(Module {
                        path: relative,
                        dir: false,
                    }),
                },
            }
        }
    }
    let mut found = Vec::new();
    walk(src, src, &mut found);
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

/// The core's part of the code map: the `## Code map` section up to the next `## `
/// heading, less its subsections headed by a directory outside `src/` (`src-tauri/`,
/// `ui/`), whose file names (`error.rs`) would otherwise pass for the core's.
fn core_map(doc: &str) -> String {
    let mut map = String::new();
    let (mut in_map, mut skipping) = (false, false);
    for line in doc.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            in_map = heading.trim() == "Code map";
            skipping = false;
            continue;
        }
        if !in_map {
            continue;
        }
        if let Some(heading) = line.strip_prefix("### ") {
            skipping = heading
                .trim()
                .strip_prefix('`')
                .is_some_and(|h| !h.starts_with("src/"));
        }
        if !skipping {
            map.push_str(line);
            map.push('\n');
        }
    }
    map
}

#[test]
fn the_code_map_names_every_module_of_the_core() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let map = core_map(&doc);
    assert!(
        map.contains("`src/workspace/`"),
        "ARCHITECTURE.md has no `## Code map` section naming `src/workspace/`"
    );
    let all = modules(&root.join("src"));
    assert!(
        all.iter().any(|m| m.path == "workspace" && m.dir),
        "no modules found under src/: {all:?}"
    );
    let missing: Vec<String> = all
        .iter()
        .filter(|m| !m.named_in(&map))
        .map(|m| format!("  {} (as {})", m.path, m.names()[0]))
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md's code map does not name these modules of src/; add each where it \
         belongs, with a line on what it holds:\n{}",
        missing.join("\n")
    );
}

#[test]
fn a_module_is_named_by_its_own_path_and_only_in_the_core_s_map() {
    let crawl = Module {
        path: "portal/crawl".into(),
        dir: false,
    };
    let portal = Module {
        path: "portal".into(),
        dir: true,
    };
    let credentials = Module {
        path: "credentials".into(),
        dir: false,
    };
    assert!(crawl.named_in("the queue: `portal/crawl.rs`."));
    assert!(crawl.named_in("`src/portal/crawl.rs` →"));
    assert!(!crawl.named_in("`crawl.rs`"));
    assert!(portal.named_in("- `portal/`: accounts"));
    assert!(portal.named_in("`src/portal/mod.rs`"));
    assert!(!portal.named_in("`portal/pacer.rs`"));
    assert!(!credentials.named_in("`cache/credentials.rs`"));
    assert!(credentials.named_in("`credentials.rs`"));

    let doc = "# A\n`credentials.rs` before\n## Code map\n### `src/workspace/`\n`workspace/`\n\
               ### Domains\n`portal/`\n### `src-tauri/`\n`credentials.rs`\n### `ui/`\n`app.js`\n\
               ## Invariants\n`renewer.rs`\n";
    let map = core_map(doc);
    assert!(portal.named_in(&map));
    assert!(map.contains("`workspace/`"));
    assert!(!credentials.named_in(&map), "{map}");
    assert!(!map.contains("renewer"), "{map}");
}
