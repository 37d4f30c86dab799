//! Human output: tables, blocks, sizes, progress. Engine and platform code never print; they hand
//! values and events to this module.

pub mod block;
pub mod commit;
pub mod events;
pub mod happening;
pub mod output;
pub mod progress;
pub mod size;
pub mod spinners;
pub mod table;
pub mod verify;

pub use block::Block;
pub use output::{Output, OutputFormat};
pub use size::{format_count, format_size};
pub use table::{Align, TableBuilder};
