//! JSON: the report structs' serde form, pretty-printed (FORMATS.md §6).

use crate::analysis::piano_annuale::PianoAnnuale;

pub(super) fn render(r: &PianoAnnuale) -> String {
    serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"errore\": \"{e}\"}}"))
}
