//! Go's checksum database (the protocol of sum.golang.org), as far as nora needs it to
//! carry the database across the gap: the verifier key and signed notes ([`note`]), and
//! the transparency log's tiles and proofs ([`tlog`]). Nothing here speaks HTTP.

pub mod note;
pub mod tlog;
