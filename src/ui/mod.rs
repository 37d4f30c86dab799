//! Human output: tables, blocks, sizes, progress. Engine and platform code never print; they hand
//! values and events to this module.

pub mod block;
pub mod commit;
pub mod events;
pub mod happening;
pub mod output;
pub mod progress;
pub mod spinners;

pub use crate::table::{Align, TableBuilder};
pub use crate::units::{format_count, format_size};
/// Verify's words live beside its findings (src/verdict/words.rs): the exit-5 error uses them too.
pub use crate::verdict::words as verify;
pub use block::Block;
pub use output::{Output, OutputFormat};
