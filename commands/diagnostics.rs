//! Turns an error chain into one message on stderr and the documented exit code.

use std::process::ExitCode;

/// A verb's outcome: the exit code it chose, or an error.
pub type Outcome = anyhow::Result<ExitCode>;

/// Exit code: verify found problems.
pub const PROBLEMS: u8 = 3;
/// Exit code: the pack still misses volumes.
pub const INCOMPLETE: u8 = 4;
/// Exit code: refs conflict and no decision was given.
pub const CONFLICT: u8 = 5;
/// Exit code: another process holds a lock.
pub const BUSY: u8 = 6;

/// Prints the error (if any) and picks the exit code.
pub fn finish(result: Outcome) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            let code = match e.downcast_ref::<nora::Error>() {
                Some(nora::Error::Conflicts { .. }) => CONFLICT,
                Some(nora::Error::Locked(_)) => BUSY,
                Some(nora::Error::Incomplete { .. }) => INCOMPLETE,
                _ => 1,
            };
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let mut msg = format!("error: {e}");
            for cause in e.chain().skip(1) {
                let c = cause.to_string();
                if !msg.contains(&c) {
                    msg.push_str(&format!("\n  caused by: {c}"));
                }
            }
            eprintln!("{msg}");
            ExitCode::from(code)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
