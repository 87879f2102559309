//! Mirrors Maven artifacts with everything a build resolves for them: POMs are read from
//! the upstream repository and resolved the way Maven does (parents, properties,
//! `dependencyManagement` with BOM imports, compile and runtime scopes, nearest wins,
//! exclusions, optional dependencies left out), then every POM (parents and BOMs too) and
//! artifact file is downloaded, checked against the upstream's `.sha1`, and stored.

use super::{Failure, Options, Report, Watch};
use crate::bundle::Bundle;
use crate::ecosystems::AddOptions;
use crate::lockfiles::pom::{self, Dependency, Gav, Pom};
use crate::upstream::{Client, FetchError};
use sha1::Digest as _;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// One file of the repository to mirror.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RepoFile {
    /// Coordinates.
    pub gav: Gav,
    /// Classifier.
    pub classifier: Option<String>,
    /// Extension (`pom`, `jar`, …).
    pub extension: String,
}

impl RepoFile {
    /// Its path in the repository layout.
    pub fn path(&self) -> String {
        let name = match &self.classifier {
            Some(c) => format!(
                "{}-{}-{c}.{}",
                self.gav.artifact, self.gav.version, self.extension
            ),
            None => format!(
                "{}-{}.{}",
                self.gav.artifact, self.gav.version, self.extension
            ),
        };
        format!(
            "{}/{}/{}/{name}",
            self.gav.group.replace('.', "/"),
            self.gav.artifact,
            self.gav.version
        )
    }

    fn pom(gav: &Gav) -> RepoFile {
        RepoFile {
            gav: gav.clone(),
            classifier: None,
            extension: "pom".into(),
        }
    }
}

/// A POM with its parents, properties and imports applied.
#[derive(Debug)]
struct Effective {
    gav: Gav,
    packaging: String,
    props: BTreeMap<String, String>,
    managed: Vec<Dependency>,
    deps: Vec<Dependency>,
}

fn key(d: &Dependency) -> (String, String, String, String) {
    (
        d.group.clone(),
        d.artifact.clone(),
        d.kind.clone().unwrap_or_else(|| "jar".into()),
        d.classifier.clone().unwrap_or_default(),
    )
}

/// Replaces `${name}` from `props`, repeatedly (properties may refer to others).
pub fn interpolate(s: &str, props: &BTreeMap<String, String>) -> String {
    let mut out = s.to_string();
    for _ in 0..10 {
        let Some(start) = out.find("${") else { break };
        let Some(len) = out[start..].find('}') else {
            break;
        };
        let name = &out[start + 2..start + len];
        let Some(value) = props.get(name) else { break };
        out = format!("{}{value}{}", &out[..start], &out[start + len + 1..]);
    }
    out
}

fn interpolated(d: &Dependency, props: &BTreeMap<String, String>) -> Dependency {
    let i = |s: &Option<String>| s.as_ref().map(|v| interpolate(v, props));
    Dependency {
        group: interpolate(&d.group, props),
        artifact: interpolate(&d.artifact, props),
        version: i(&d.version),
        kind: i(&d.kind),
        classifier: i(&d.classifier),
        scope: i(&d.scope),
        optional: d.optional,
        exclusions: d.exclusions.clone(),
    }
}

fn excluded(d: &Dependency, exclusions: &[(String, String)]) -> bool {
    exclusions
        .iter()
        .any(|(g, a)| (g == "*" || *g == d.group) && (a == "*" || *a == d.artifact))
}

/// `groupId:artifactId` patterns excluded below a dependency.
type Exclusions = Vec<(String, String)>;

type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send + 'a>>;

/// Reads POMs from the upstream and resolves dependency trees.
pub struct Resolver {
    repo: String,
    client: Client,
    poms: HashMap<Gav, Arc<Pom>>,
    effective: HashMap<Gav, Arc<Effective>>,
    /// Every file the resolution needs, POMs included.
    pub files: BTreeSet<RepoFile>,
    /// The POMs already fetched and checked against their `.sha1`, by path.
    pub fetched: HashMap<String, Arc<Vec<u8>>>,
}

impl Resolver {
    /// A resolver over the repository at `repo`.
    pub fn new(repo: &str, client: Client) -> Resolver {
        Resolver {
            repo: repo.trim_end_matches('/').to_string(),
            client,
            poms: HashMap::new(),
            effective: HashMap::new(),
            files: BTreeSet::new(),
            fetched: HashMap::new(),
        }
    }

    async fn pom(&mut self, gav: &Gav) -> Result<Arc<Pom>, String> {
        if let Some(p) = self.poms.get(gav) {
            return Ok(p.clone());
        }
        let file = RepoFile::pom(gav);
        let url = format!("{}/{}", self.repo, file.path());
        let bytes = self
            .client
            .bytes(&url, 16 << 20)
            .await
            .map_err(|e| match e {
                FetchError::NotFound(_) => format!("{gav} does not exist upstream ({url})"),
                e => e.to_string(),
            })?;
        check_sha1(&self.client, &url, &hex::encode(sha1::Sha1::digest(&bytes)))
            .await
            .map_err(|e| e.to_string())?;
        let p = Arc::new(pom::parse(&bytes, &url).map_err(|e| e.to_string())?);
        self.poms.insert(gav.clone(), p.clone());
        self.fetched.insert(file.path(), Arc::new(bytes));
        self.files.insert(file);
        Ok(p)
    }

    /// The effective model of `gav` (or of `local`, a POM read from disk).
    fn effective(&mut self, gav: Gav, local: Option<Pom>) -> Boxed<'_, Arc<Effective>> {
        Box::pin(async move {
            if local.is_none() {
                if let Some(e) = self.effective.get(&gav) {
                    return Ok(e.clone());
                }
            }
            let pom = match local {
                Some(p) => Arc::new(p),
                None => self.pom(&gav).await?,
            };
            let parent = match &pom.parent {
                Some((p, _)) => Some(self.effective(p.clone(), None).await?),
                None => None,
            };
            let mut props = parent.as_ref().map(|p| p.props.clone()).unwrap_or_default();
            props.extend(pom.properties.clone());
            let group = pom
                .group
                .clone()
                .or_else(|| parent.as_ref().map(|p| p.gav.group.clone()))
                .ok_or_else(|| format!("{gav}: no groupId"))?;
            let version = pom
                .version
                .clone()
                .or_else(|| parent.as_ref().map(|p| p.gav.version.clone()))
                .ok_or_else(|| format!("{gav}: no version"))?;
            for (k, v) in [
                ("groupId", &group),
                ("artifactId", &pom.artifact),
                ("version", &version),
            ] {
                props.insert(format!("project.{k}"), v.clone());
                props.insert(format!("pom.{k}"), v.clone());
            }
            if let Some(p) = &parent {
                props.insert("project.parent.groupId".into(), p.gav.group.clone());
                props.insert("project.parent.version".into(), p.gav.version.clone());
            }
            let me = Gav {
                group: interpolate(&group, &props),
                artifact: pom.artifact.clone(),
                version: interpolate(&version, &props),
            };
            // own entries first, then BOM imports in order, then the parent's: first wins
            let mut managed = Vec::new();
            let mut imports = Vec::new();
            for d in &pom.managed {
                let d = interpolated(d, &props);
                if d.scope.as_deref() == Some("import") && d.kind.as_deref() == Some("pom") {
                    imports.push(d);
                } else {
                    managed.push(d);
                }
            }
            for d in imports {
                let v = d.version.clone().ok_or_else(|| {
                    format!("{me}: BOM {}:{} has no version", d.group, d.artifact)
                })?;
                let bom = Gav {
                    group: d.group,
                    artifact: d.artifact,
                    version: v,
                };
                let e = self.effective(bom, None).await?;
                managed.extend(e.managed.iter().cloned());
            }
            if let Some(p) = &parent {
                managed.extend(p.managed.iter().cloned());
            }
            let mut seen = HashSet::new();
            managed.retain(|d| seen.insert(key(d)));
            let mut deps: Vec<Dependency> =
                parent.as_ref().map(|p| p.deps.clone()).unwrap_or_default();
            for d in &pom.dependencies {
                let d = interpolated(d, &props);
                deps.retain(|x| key(x) != key(&d));
                deps.push(d);
            }
            for d in &mut deps {
                if let Some(m) = managed.iter().find(|m| key(m) == key(d)) {
                    if d.version.is_none() {
                        d.version = m.version.clone();
                    }
                    if d.scope.is_none() {
                        d.scope = m.scope.clone();
                    }
                    if d.exclusions.is_empty() {
                        d.exclusions = m.exclusions.clone();
                    }
                }
            }
            let e = Arc::new(Effective {
                gav: me,
                packaging: pom.packaging.clone().unwrap_or_else(|| "jar".into()),
                props,
                managed,
                deps,
            });
            if pom.version.is_some() || pom.parent.is_some() {
                self.effective.insert(gav, e.clone());
            }
            Ok(e)
        })
    }

    /// Resolves `roots` (dependencies of a project whose `dependencyManagement` is `managed`)
    /// transitively, adding every file needed to [`Resolver::files`].
    async fn resolve(
        &mut self,
        roots: Vec<Dependency>,
        managed: &[Dependency],
    ) -> Result<(), String> {
        let mut queue: VecDeque<(Dependency, usize, Exclusions)> =
            roots.into_iter().map(|d| (d, 1, Vec::new())).collect();
        // Maven reads the POM of every node of the graph, conflict losers included, and
        // takes the artifact of the nearest version of each
        let mut winners = HashSet::new();
        let mut visited = HashSet::new();
        while let Some((mut d, depth, exclusions)) = queue.pop_front() {
            let scope = d.scope.clone().unwrap_or_else(|| "compile".into());
            if !matches!(scope.as_str(), "compile" | "runtime") {
                continue;
            }
            if depth > 1 {
                if let Some(m) = managed.iter().find(|m| key(m) == key(&d)) {
                    if m.version.is_some() {
                        d.version = m.version.clone();
                    }
                }
            }
            let name = format!("{}:{}", d.group, d.artifact);
            let version = d
                .version
                .clone()
                .ok_or_else(|| format!("{name}: no version (and none managed)"))?;
            if version.starts_with(['[', '(']) || version.contains(',') {
                return Err(format!(
                    "{name}:{version}: version ranges are not supported; pin a version"
                ));
            }
            if !visited.insert((key(&d), version.clone())) {
                continue;
            }
            let gav = Gav {
                group: d.group.clone(),
                artifact: d.artifact.clone(),
                version,
            };
            let e = self.effective(gav.clone(), None).await?;
            let winner = winners.insert(key(&d));
            let kind = d.kind.clone().unwrap_or_else(|| "jar".into());
            let (extension, classifier) = match kind.as_str() {
                "pom" => (None, None),
                "test-jar" => (Some("jar".to_string()), Some("tests".to_string())),
                "jar" if e.packaging == "pom" => (None, None),
                "jar" | "maven-plugin" | "ejb" | "bundle" => {
                    (Some("jar".to_string()), d.classifier.clone())
                }
                other => (Some(other.to_string()), d.classifier.clone()),
            };
            if let (true, Some(extension)) = (winner, extension) {
                self.files.insert(RepoFile {
                    gav,
                    classifier,
                    extension,
                });
            }
            for c in &e.deps {
                if c.optional || excluded(c, &exclusions) {
                    continue;
                }
                let mut below = exclusions.clone();
                below.extend(c.exclusions.iter().cloned());
                queue.push_back((c.clone(), depth + 1, below));
            }
        }
        Ok(())
    }

    /// Resolves artifacts given by coordinates, as a project depending on them would.
    pub async fn resolve_coordinates(
        &mut self,
        coords: &[crate::ecosystems::maven::Coordinates],
    ) -> Result<(), String> {
        let roots = coords
            .iter()
            .map(|c| Dependency {
                group: c.group_id.clone(),
                artifact: c.artifact_id.clone(),
                version: Some(c.version.clone()),
                kind: c.extension.clone(),
                classifier: c.classifier.clone(),
                ..Default::default()
            })
            .collect();
        self.resolve(roots, &[]).await
    }

    /// Resolves the dependencies of a project's `pom.xml` (its parent comes from the
    /// upstream; the project itself is not mirrored).
    pub async fn resolve_project(&mut self, pom_file: &std::path::Path) -> Result<(), String> {
        let bytes =
            std::fs::read(pom_file).map_err(|e| format!("read {}: {e}", pom_file.display()))?;
        let p = pom::parse(&bytes, &pom_file.display().to_string()).map_err(|e| e.to_string())?;
        let gav = Gav {
            group: p.group.clone().unwrap_or_default(),
            artifact: p.artifact.clone(),
            version: p.version.clone().unwrap_or_default(),
        };
        let e = self.effective(gav, Some(p)).await?;
        let roots = e.deps.clone();
        let managed = e.managed.clone();
        self.resolve(roots, &managed).await
    }
}

async fn check_sha1(client: &Client, url: &str, got: &str) -> Result<(), Failure> {
    let sum_url = format!("{url}.sha1");
    let body = client.bytes(&sum_url, 4096).await.map_err(|e| match e {
        FetchError::NotFound(_) => Failure::Refused(format!(
            "{url}: the upstream has no .sha1 for it, so it cannot be checked"
        )),
        e => e.into(),
    })?;
    let want = String::from_utf8_lossy(&body)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if want != got {
        return Err(Failure::Refused(format!(
            "hash mismatch for {url}: its .sha1 says {want}, the file is {got}"
        )));
    }
    Ok(())
}

/// Mirrors every file in `files` from `repo`; those in `fetched` (already read and checked
/// while resolving) are stored without being downloaded again.
pub async fn mirror(
    bundle: Arc<Bundle>,
    files: Vec<RepoFile>,
    fetched: HashMap<String, Arc<Vec<u8>>>,
    repo: &str,
    client: &Client,
    opts: &Options,
    watch: &dyn Watch,
) -> Report {
    let repo = repo.trim_end_matches('/').to_string();
    let artifacts = files.into_iter().map(|f| (f.path(), f)).collect();
    let (b, client, fetched) = (bundle.clone(), client.clone(), Arc::new(fetched));
    super::run(
        "maven",
        artifacts,
        opts,
        watch,
        move |f: &RepoFile| matches!(crate::registry::maven::file(&b, &f.path()), Ok(Some(_))),
        move |f| {
            let (b, c, repo) = (bundle.clone(), client.clone(), repo.clone());
            let have = fetched.get(&f.path()).cloned();
            async move {
                one(&b, &f, &repo, &c, have)
                    .await
                    .map(Some)
                    .map_err(|e| e.to_string())
            }
        },
    )
    .await
}

/// Stores one file of the repository at `repo`: `have` when the resolution already read
/// and checked it, else downloaded and checked against the upstream's `.sha1`; returns the
/// bytes fetched.
pub(crate) async fn one(
    b: &Bundle,
    f: &RepoFile,
    repo: &str,
    c: &Client,
    have: Option<Arc<Vec<u8>>>,
) -> Result<u64, Failure> {
    let url = format!("{repo}/{}", f.path());
    let mut file = super::temp_file(b, "mirror-maven-", &format!(".{}", f.extension))?;
    let path = file.path().to_path_buf();
    let bytes = match have {
        Some(body) => {
            use std::io::Write;
            file.write_all(&body)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            body.len() as u64
        }
        None => {
            let bytes = c.to_file(&url, file.as_file_mut()).await?;
            let sha1 = tokio::task::block_in_place(|| -> std::io::Result<String> {
                let mut h = sha1::Sha1::new();
                std::io::copy(&mut std::fs::File::open(&path)?, &mut h)?;
                Ok(hex::encode(h.finalize()))
            })
            .map_err(|e| format!("{}: {e}", path.display()))?;
            check_sha1(c, &url, &sha1).await?;
            bytes
        }
    };
    let gav = match &f.classifier {
        Some(cl) => format!("{}:{cl}@{}", f.gav, f.extension),
        None => format!("{}@{}", f.gav, f.extension),
    };
    let opts = AddOptions {
        gav: Some(gav),
        ..Default::default()
    };
    tokio::task::block_in_place(|| -> Result<u64, Failure> {
        super::keep(b, || {
            crate::ecosystems::maven::import(b, &path, &opts).map_err(|e| e.to_string())
        })?;
        Ok(bytes)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation_and_paths() {
        let props = BTreeMap::from([
            ("a".to_string(), "${b}-x".to_string()),
            ("b".to_string(), "1.0".to_string()),
        ]);
        assert_eq!(interpolate("v${a}", &props), "v1.0-x");
        assert_eq!(interpolate("${missing}", &props), "${missing}");
        let f = RepoFile {
            gav: Gav {
                group: "org.acme".into(),
                artifact: "lib".into(),
                version: "1.0".into(),
            },
            classifier: Some("tests".into()),
            extension: "jar".into(),
        };
        assert_eq!(f.path(), "org/acme/lib/1.0/lib-1.0-tests.jar");
        let d = Dependency {
            group: "g".into(),
            artifact: "a".into(),
            ..Default::default()
        };
        assert!(excluded(&d, &[("g".into(), "*".into())]));
        assert!(!excluded(&d, &[("g".into(), "b".into())]));
    }
}
