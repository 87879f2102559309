//! nora: move software artifacts into networks with no internet.
//!
//! The library holds everything: the bundle store ([`bundle`]), importers for local
//! artifacts ([`ecosystems`]), packs and receipts ([`pack`]), and the checks and
//! maintenance verbs ([`verify`], [`gc`]), and the server ([`serve`], speaking the
//! [`protocols`] over the store operations in [`registry`]), and [`mirror`], which fills a
//! bundle from [`lockfiles`] through [`upstream`] clients. The `nora` binary in `commands/` only parses
//! arguments, calls these, and reports.

pub mod auth;
pub mod bundle;
pub mod digest;
pub mod ecosystems;
pub mod error;
pub mod gc;
pub mod lockfiles;
pub mod mirror;
pub mod pack;
pub mod progress;
pub mod protocols;
pub mod proxy;
pub mod registry;
pub mod serve;
pub mod sumdb;
pub mod upstream;
pub mod verify;

pub use bundle::Bundle;
pub use digest::Digest;
pub use error::{Error, Result};
