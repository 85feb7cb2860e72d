//! Analyses: pure functions of the model (no I/O, no HTTP, no formatting). Their renderers
//! live in `output`.

mod analisi;
pub mod candidates;
pub mod linkage;
pub mod piano_annuale;
pub mod private;
pub mod sintesi;
pub mod vacancy;

pub use analisi::Analisi;
