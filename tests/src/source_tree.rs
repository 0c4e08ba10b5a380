//! The workspace's source tree, for the tests that check ARCHITECTURE.md's
//! claims on the code itself (`architecture_claims`, `tls_invariants`).

use std::path::{Path, PathBuf};

/// The workspace root (the parent of the `tests` package).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

/// Directories a production-source walk does not enter.
const SKIPPED_DIRS: &[&str] = &["tests", "benches", "examples", "target", "fuzz"];

/// Rust files of production code under `dirs` (relative to the workspace
/// root): outside `tests`, `benches`, `examples`, `target` and `fuzz`
/// directories, and not test modules' own files (`tests*.rs`,
/// `*_tests.rs`). Unreadable directories are skipped.
pub fn production_sources_under(dirs: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = dirs.iter().map(|d| root().join(d)).collect();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if p.is_dir() {
                if !SKIPPED_DIRS.contains(&name) {
                    stack.push(p);
                }
            } else if name.ends_with(".rs")
                && !name.starts_with("tests")
                && !name.ends_with("_tests.rs")
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Production sources of the daemons, ipc-schema and the crates.
pub fn production_sources() -> Vec<PathBuf> {
    production_sources_under(&["control", "mediad", "ipc-schema", "crates"])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The walk finds this workspace's library code and leaves out test
    /// directories and test modules' own files.
    #[test]
    fn the_walk_keeps_production_files_only() {
        let all = production_sources();
        let rel: Vec<String> = all
            .iter()
            .map(|p| {
                p.strip_prefix(root())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert!(rel.len() > 100, "only {} files", rel.len());
        assert!(rel.iter().any(|r| r == "control/src/main.rs"), "{rel:?}");
        for r in &rel {
            assert!(r.ends_with(".rs"), "{r}");
            let parts: Vec<&str> = r.split('/').collect();
            assert!(
                !parts[..parts.len() - 1]
                    .iter()
                    .any(|d| SKIPPED_DIRS.contains(d)),
                "{r}"
            );
            let name = parts[parts.len() - 1];
            assert!(
                !name.starts_with("tests") && !name.ends_with("_tests.rs"),
                "{r}"
            );
        }
        assert!(
            !rel.iter().any(|r| r.starts_with("tests/")),
            "the e2e package is not production code"
        );
    }
}
