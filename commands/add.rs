//! `nora add`: import local artifacts, no network.

use crate::common::{size, Global};
use crate::diagnostics::Outcome;
use clap::builder::TypedValueParser as _;
use nora::bundle::refs::ECOSYSTEMS;
use nora::ecosystems::{AddOptions, Ecosystem};
use std::path::PathBuf;
use std::process::ExitCode;

/// Import local artifacts into the bundle.
///
/// oci: an OCI image layout directory or a `docker save` tarball (every manifest, index,
/// config and layer). npm: a package .tgz. pypi: a wheel or sdist. cargo: a .crate. go: a
/// module zip (with optional --go-mod/--go-info). maven: any file with --gav, or a .pom /
/// .jar whose coordinates are read from it. raw: any file, stored at --path.
///
/// Every artifact is checked before anything is stored; one that is not what its
/// ecosystem says is refused and leaves the bundle unchanged.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Ecosystem of the files.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(ECOSYSTEMS)
        .map(|s| s.parse::<Ecosystem>().expect("listed ecosystems parse")))]
    ecosystem: Ecosystem,
    /// Files (or OCI layout directories) to import.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// oci: repository[:tag] for layouts whose manifests name none.
    #[arg(long, value_name = "REPO[:TAG]")]
    name: Option<String>,
    /// go: module path, checked against the zip.
    #[arg(long, value_name = "PATH")]
    module: Option<String>,
    /// go: module version, checked against the zip.
    #[arg(long = "version", value_name = "VER")]
    mod_version: Option<String>,
    /// go: the module's .mod file (default: go.mod inside the zip).
    #[arg(long, value_name = "FILE")]
    go_mod: Option<PathBuf>,
    /// go: the module's .info file (default: generated).
    #[arg(long, value_name = "FILE")]
    go_info: Option<PathBuf>,
    /// maven: coordinates group:artifact:version[:classifier][@extension].
    #[arg(long, value_name = "GAV")]
    gav: Option<String>,
    /// raw: path to store the file at (default: its file name).
    #[arg(long, value_name = "PATH")]
    path: Option<String>,
    /// raw: content type (default: guessed from the extension).
    #[arg(long, value_name = "TYPE")]
    content_type: Option<String>,
}

pub fn run(a: Args, g: &Global) -> Outcome {
    let bundle = g.open()?;
    let opts = AddOptions {
        name: a.name,
        module: a.module,
        version: a.mod_version,
        go_mod: a.go_mod,
        go_info: a.go_info,
        gav: a.gav,
        path: a.path,
        content_type: a.content_type,
    };
    let added = nora::ecosystems::add(&bundle, a.ecosystem, &a.files, &opts)?;
    if g.json {
        g.print_json(&added)?;
    } else {
        for r in &added {
            g.say(format!("{:<9} {} ({})", r.status, r.name, size(r.size)));
        }
    }
    Ok(ExitCode::SUCCESS)
}
