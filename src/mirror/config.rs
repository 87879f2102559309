//! `mirror.toml`: what to mirror and from where, one table per ecosystem. Relative paths
//! are read against the file's own directory; command-line flags add to the lists and
//! override the settings.

use crate::error::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Default upstream of each ecosystem.
pub mod defaults {
    /// npm registry.
    pub const NPM_REGISTRY: &str = "https://registry.npmjs.org";
    /// PyPI simple index.
    pub const PYPI_INDEX: &str = "https://pypi.org/simple";
    /// crates.io's sparse index.
    pub const CARGO_INDEX: &str = "sparse+https://index.crates.io/";
    /// Go module proxy.
    pub const GO_PROXY: &str = "https://proxy.golang.org";
    /// Maven Central.
    pub const MAVEN_REPOSITORY: &str = "https://repo.maven.apache.org/maven2";
}

/// The whole of a mirror run's inputs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Plan {
    /// Artifacts fetched at once per ecosystem.
    pub jobs: Option<usize>,
    /// npm packages.
    #[serde(default)]
    pub npm: Npm,
    /// Python distributions.
    #[serde(default)]
    pub pypi: Pypi,
    /// Crates.
    #[serde(default)]
    pub cargo: Cargo,
    /// Go modules.
    #[serde(default)]
    pub go: Go,
    /// Maven artifacts and projects.
    #[serde(default)]
    pub maven: Maven,
    /// Container images.
    #[serde(default)]
    pub oci: Oci,
    /// Files by URL.
    #[serde(default)]
    pub raw: Vec<super::raw::Pinned>,
}

/// `[maven]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Maven {
    /// Repository URL (Maven Central's layout).
    pub repository: Option<String>,
    /// `group:artifact:version[:classifier][@type]` coordinates, resolved transitively.
    #[serde(default)]
    pub artifacts: Vec<String>,
    /// Projects' pom.xml files whose dependencies to resolve.
    #[serde(default)]
    pub poms: Vec<PathBuf>,
}

/// `[oci]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Oci {
    /// Image references (`alpine:3.20`, `ghcr.io/org/img@sha256:…`).
    #[serde(default)]
    pub images: Vec<String>,
    /// Platforms of multi-platform images to take (`linux/amd64`); empty or `all` takes all.
    #[serde(default)]
    pub platforms: Vec<String>,
    /// Also take referrers (signatures, SBOMs).
    #[serde(default)]
    pub referrers: bool,
}

/// `[npm]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Npm {
    /// Registry URL.
    pub registry: Option<String>,
    /// package-lock.json, npm-shrinkwrap.json or yarn.lock files.
    #[serde(default)]
    pub lockfiles: Vec<PathBuf>,
    /// `name@range` specs, resolved against the registry with their dependency trees.
    #[serde(default)]
    pub packages: Vec<String>,
}

/// `[pypi]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Pypi {
    /// Simple index URL.
    pub index: Option<String>,
    /// requirements files, uv.lock, poetry.lock or pylock.toml.
    #[serde(default)]
    pub lockfiles: Vec<PathBuf>,
    /// Python versions wheels must run on (empty: all).
    #[serde(default)]
    pub python_versions: Vec<String>,
    /// Platform tags wheels must fit (empty: all).
    #[serde(default)]
    pub platforms: Vec<String>,
}

/// `[cargo]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Cargo {
    /// Sparse index for crates.io's crates.
    pub index: Option<String>,
    /// Cargo.lock files.
    #[serde(default)]
    pub lockfiles: Vec<PathBuf>,
}

/// `[go]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Go {
    /// GOPROXY URL.
    pub proxy: Option<String>,
    /// go.sum files.
    #[serde(default)]
    pub sums: Vec<PathBuf>,
    /// go.mod files, resolved through the proxy down their module graph; the go.sum
    /// beside each, if any, is read too.
    #[serde(default)]
    pub mods: Vec<PathBuf>,
    /// Checksum database to check modules against and carry (`NAME+HASH+KEY [URL]`, as
    /// `GOSUMDB` is written).
    pub sumdb: Option<String>,
}

impl Plan {
    /// Reads a mirror.toml, resolving its relative paths against its directory.
    pub fn load(path: &Path) -> Result<Plan> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Other(format!("read {}: {e}", path.display())))?;
        let mut plan: Plan = toml::from_str(&text).map_err(|e| {
            Error::Other(format!(
                "{} is not a valid mirror.toml: {e}",
                path.display()
            ))
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        for list in [
            &mut plan.npm.lockfiles,
            &mut plan.pypi.lockfiles,
            &mut plan.cargo.lockfiles,
            &mut plan.go.sums,
            &mut plan.go.mods,
            &mut plan.maven.poms,
        ] {
            for p in list.iter_mut() {
                if p.is_relative() {
                    *p = dir.join(&*p);
                }
            }
        }
        for r in &plan.raw {
            r.check()
                .map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
        }
        Ok(plan)
    }

    /// True when nothing is asked for.
    pub fn is_empty(&self) -> bool {
        self.npm.lockfiles.is_empty()
            && self.npm.packages.is_empty()
            && self.pypi.lockfiles.is_empty()
            && self.cargo.lockfiles.is_empty()
            && self.go.sums.is_empty()
            && self.go.mods.is_empty()
            && self.raw.is_empty()
            && self.oci.images.is_empty()
            && self.maven.artifacts.is_empty()
            && self.maven.poms.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_with_relative_paths() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("mirror.toml");
        std::fs::write(
            &p,
            format!("jobs = 4\n[npm]\nregistry = \"http://r\"\nlockfiles = [\"web/package-lock.json\"]\n[pypi]\nlockfiles = [\"/abs/requirements.txt\"]\npython-versions = [\"3.11\"]\n[[raw]]\nurl = \"https://e/x.tgz\"\nsha256 = \"{}\"\npath = \"tools/x.tgz\"\n", "a".repeat(64)),
        )
        .unwrap();
        let plan = Plan::load(&p).unwrap();
        assert_eq!(plan.jobs, Some(4));
        assert_eq!(
            plan.npm.lockfiles[0],
            d.path().join("web/package-lock.json")
        );
        assert_eq!(
            plan.pypi.lockfiles[0],
            PathBuf::from("/abs/requirements.txt")
        );
        assert_eq!(plan.raw[0].target(), "tools/x.tgz");
        std::fs::write(&p, "[npm]\nregistyr = \"x\"\n").unwrap();
        let e = Plan::load(&p).unwrap_err().to_string();
        assert!(
            e.contains("is not a valid mirror.toml") && e.contains("registyr"),
            "{e}"
        );
    }
}
