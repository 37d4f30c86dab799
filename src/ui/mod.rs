//! Human output: tables, blocks, sizes, progress. Engine and platform code never print; they hand
//! values and events to this module.

pub mod block;
pub mod events;
pub mod output;
pub mod progress;
pub mod size;
pub mod spinners;
pub mod table;

pub use block::Block;
pub use output::{Output, OutputFormat};
pub use size::{format_count, format_size};
pub use table::{Align, TableBuilder};
