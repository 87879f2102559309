//! `nora key`: signing keys for packs.

use crate::common::Global;
use crate::diagnostics::Outcome;
use std::path::PathBuf;
use std::process::ExitCode;

/// Manage minisign-compatible Ed25519 keys for signing packs.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    cmd: KeyCmd,
}

#[derive(clap::Subcommand, Debug)]
enum KeyCmd {
    /// Generate a key pair: KEY (secret, unencrypted, mode 0600) and KEY.pub.
    Generate {
        /// Secret key file to write; the public key goes beside it with .pub.
        #[arg(short, long, default_value = "nora.key", value_name = "KEY")]
        output: PathBuf,
    },
}

pub fn run(a: Args, g: &Global) -> Outcome {
    match a.cmd {
        KeyCmd::Generate { output } => {
            let (pub_path, pk) = nora::pack::sign::generate(&output)?;
            if g.json {
                g.print_json(&serde_json::json!({"secret_key": output, "public_key_file": pub_path, "public_key": pk}))?;
            } else {
                g.say(format!(
                    "wrote {} (secret; keep it on the connected side)",
                    output.display()
                ));
                g.say(format!(
                    "wrote {} (public; give it to the isolated side)",
                    pub_path.display()
                ));
                g.say(format!("public key: {pk}"));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
