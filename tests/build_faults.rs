//! A build killed at any step loses nothing: the real `abitare build` binary is aborted at
//! each fault point (`ABITARE_FAULT_AT`), and after each kill the workspace still opens, whole
//! (the previous build's), and the next build removes what the killed one left. Two builds at
//! once: the second is refused with a clear message and touches nothing. The workspace, which
//! holds unit-level data, is readable by its owner only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use abitare::atomic::{self, FAULT_ENV};
use abitare::model::workspace;

const POINTS: [&str; 5] = [
    "pipeline:locked",
    "pipeline:written",
    "atomic:staged",
    "atomic:renamed",
    "atomic:swapped",
];

fn build(project: &Path, fault: Option<&str>) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_abitare"));
    c.arg("build").arg("--project").arg(project);
    c.env_remove(FAULT_ENV);
    if let Some(f) = fault {
        c.env(FAULT_ENV, f);
    }
    c.output().expect("run abitare build")
}

fn siblings(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_build_killed_at_any_step_leaves_a_whole_workspace() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let generated = abitare::demo::generate(tmp.path()).expect("demo inputs");
    let project = abitare::project::Project::load(&generated.project).expect("project");
    let ws = project.workspace_dir();

    let first = build(&generated.project, None);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let created = workspace::read_manifest(&ws).expect("manifest").creato;

    for point in POINTS {
        let out = build(&generated.project, Some(point));
        assert!(!out.status.success(), "{point}: the build was not aborted");
        let m = workspace::read_manifest(&ws)
            .unwrap_or_else(|e| panic!("{point}: no workspace after the kill: {e}"));
        workspace::load_model(&ws).unwrap_or_else(|e| panic!("{point}: model unreadable: {e}"));
        if point != "atomic:swapped" {
            assert_eq!(m.creato, created, "{point}: the old workspace was replaced");
        }
    }

    // A clean build after the kills leaves only the workspace, its live generation and the
    // lock file beside the project's inputs.
    let before: Vec<String> = siblings(ws.parent().expect("parent"));
    let ok = build(&generated.project, None);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let name = ws.file_name().expect("name").to_string_lossy().into_owned();
    let ours: Vec<String> = siblings(ws.parent().expect("parent"))
        .into_iter()
        .filter(|n| n.starts_with(&format!(".{name}.")))
        .collect();
    assert_eq!(
        ours.len(),
        2,
        "leftovers remain: {ours:?} (before: {before:?})"
    );
    assert!(
        ours.iter().any(|n| n == &format!(".{name}.lock")),
        "{ours:?}"
    );
    assert!(
        ours.iter().any(|n| n.starts_with(&format!(".{name}.gen-"))),
        "{ours:?}"
    );
    workspace::load_model(&ws).expect("model after the clean build");

    // A second build while one holds the lock is refused and names the reason.
    let held = atomic::Lock::exclusive(&ws).expect("lock");
    let refused = build(&generated.project, None);
    drop(held);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("un'altra build"), "{err}");
    workspace::load_model(&ws).expect("model after the refused build");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&ws), 0o700, "workspace folder");
        assert_eq!(mode(&ws.join("model.json")), 0o600, "model.json");
        assert_eq!(mode(&ws.join("layers")), 0o700, "layers/");
    }
}
