//! Documents for people, rendered on the server: the statement of account (выписка) as a PDF.
//!
//! The fonts (DejaVu Sans, see `fonts/LICENSE-DejaVu.txt`) are compiled in, so a document looks
//! the same on every node whatever the host has installed, and Cyrillic always renders. Only
//! the glyphs a document uses are embedded.

mod pdf;
mod statement;

pub use statement::{Language, StatementPdf, format_money, render_statement};

/// Why a document could not be made. Every case is a defect in the program (the fonts are
/// compiled in), never the user's input.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("font: {0}")]
    Font(String),
}
