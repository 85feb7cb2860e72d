//! Embeds the web map (`web/`: page, script, styles and the vendored MapLibre GL JS) into the
//! binary, so `abitare serve` needs no files beside it and no network.

use std::env;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_dir() {
            if name != "node_modules" && !name.starts_with('.') {
                collect(&p, root, out);
            }
            continue;
        }
        let servable = matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("html" | "js" | "mjs" | "css" | "json" | "svg" | "png" | "map" | "txt")
        ) && !name.starts_with("package");
        if servable {
            if let Ok(rel) = p.strip_prefix(root) {
                let url = format!("/{}", rel.to_string_lossy().replace('\\', "/"));
                out.push((url, p.clone()));
            }
        }
    }
}

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let web = manifest.join("web");
    println!("cargo:rerun-if-changed=web");
    let mut files = Vec::new();
    collect(&web, &web, &mut files);
    let out = PathBuf::from(env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join("assets.rs");
    let mut f = match fs::File::create(&out) {
        Ok(f) => f,
        Err(e) => panic!("cannot write {}: {e}", out.display()),
    };
    let mut src = String::from(
        "/// Files of `web/`, by URL path.\npub static ASSETS: &[(&str, &[u8])] = &[\n",
    );
    for (url, path) in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        src.push_str(&format!(
            "    ({url:?}, include_bytes!({:?})),\n",
            path.display().to_string()
        ));
    }
    src.push_str("];\n");
    if let Err(e) = f.write_all(src.as_bytes()) {
        panic!("cannot write {}: {e}", out.display());
    }
}
