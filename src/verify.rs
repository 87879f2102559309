//! Integrity checks of a bundle (`nora verify`).
