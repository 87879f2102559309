//! The `nora` command line: parses arguments, calls the library, reports.

mod add;
mod backup;
mod common;
mod completions;
mod diagnostics;
mod gc;
mod init;
mod key;
mod ls;
mod man;
mod mirror;
mod pack;
mod receipt;
mod restore;
mod serve;
mod token;
mod unpack;
mod verify;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Move software artifacts into networks with no internet.
///
/// nora keeps OCI images, npm, PyPI, Cargo, Go, Maven and raw artifacts in one portable,
/// content-addressed bundle directory, and carries it across an air gap in verified,
/// splittable, optionally signed packs.
///
/// Exit codes: 0 success; 1 error (bad input, I/O, corrupt or refused pack); 2 usage error;
/// 3 `verify` found problems; 4 `unpack` stored its volumes but the pack still misses
/// volumes; 5 refs conflict and no decision was given (nothing changed); 6 another nora
/// process holds a lock this command needs.
#[derive(Parser, Debug)]
#[command(name = "nora", version, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    global: common::Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    Init(init::Args),
    Add(add::Args),
    Ls(ls::Args),
    Verify(verify::Args),
    Gc(gc::Args),
    Pack(pack::Args),
    Unpack(unpack::Args),
    Receipt(receipt::Args),
    Backup(backup::Args),
    Restore(restore::Args),
    Serve(serve::Args),
    Token(token::Args),
    Key(key::Args),
    Mirror(Box<mirror::Args>),
    Completions(completions::Args),
    Man(man::Args),
}

fn main() -> ExitCode {
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let mut cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    cli.global.bundle_explicit = !matches!(
        matches.value_source("bundle"),
        None | Some(clap::parser::ValueSource::DefaultValue)
    );
    if !matches!(cli.command, Command::Serve(_)) {
        common::init_logging(&cli.global);
    }
    let g = &cli.global;
    let result = match cli.command {
        Command::Init(a) => init::run(a, g),
        Command::Add(a) => add::run(a, g),
        Command::Ls(a) => ls::run(a, g),
        Command::Verify(a) => verify::run(a, g),
        Command::Gc(a) => gc::run(a, g),
        Command::Pack(a) => pack::run(a, g),
        Command::Unpack(a) => unpack::run(a, g),
        Command::Receipt(a) => receipt::run(a, g),
        Command::Backup(a) => backup::run(a, g),
        Command::Restore(a) => restore::run(a, g),
        Command::Serve(a) => serve::run(a, g),
        Command::Token(a) => token::run(a, g),
        Command::Key(a) => key::run(a, g),
        Command::Mirror(a) => mirror::run(*a, g),
        Command::Completions(a) => completions::run(a),
        Command::Man(a) => man::run(a),
    };
    diagnostics::finish(result)
}
