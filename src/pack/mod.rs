//! Packs: the tar streams that carry a bundle across the gap, their volumes, receipts and
//! signatures (bundle-format.md §8–§10).

pub mod manifest;
pub mod plan;
pub mod receipt;
pub mod select;
pub mod sign;
pub mod unpack;
pub mod write;

pub use receipt::Receipt;
pub use unpack::{unpack, ConflictPolicy, UnpackOptions, UnpackReport};
pub use write::{pack, Compression, PackOptions, PackReport};
