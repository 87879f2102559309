//! `go.mod`: the module's requirements, and the `replace` and `exclude` directives that
//! the main module applies to the whole build graph. It pins versions but no hashes.

use crate::error::{Error, Result};

/// What a go.mod says about the build graph.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoMod {
    /// The `module` path.
    pub module: String,
    /// `require`d module versions.
    pub requires: Vec<(String, String)>,
    /// `replace OLD [VERSION] => NEW [VERSION]`: the old path (and version, if given) and
    /// the new path and version; a new path without a version is a directory.
    pub replaces: Vec<Replace>,
    /// `exclude`d module versions.
    pub excludes: Vec<(String, String)>,
}

/// One `replace` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replace {
    /// Module replaced.
    pub old: String,
    /// Only this version of it, when given.
    pub old_version: Option<String>,
    /// Replacement module path or directory.
    pub new: String,
    /// Replacement version; `None` for a directory.
    pub new_version: Option<String>,
}

impl GoMod {
    /// The module version to fetch for `module@version` after `replace` directives, or
    /// `None` when it is replaced by a directory.
    pub fn replaced(&self, module: &str, version: &str) -> Option<(String, String)> {
        let r = self
            .replaces
            .iter()
            .find(|r| r.old == module && r.old_version.as_deref() == Some(version))
            .or_else(|| {
                self.replaces
                    .iter()
                    .find(|r| r.old == module && r.old_version.is_none())
            });
        match r {
            None => Some((module.to_string(), version.to_string())),
            Some(r) => r.new_version.clone().map(|v| (r.new.clone(), v)),
        }
    }
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| s.strip_prefix('`').and_then(|s| s.strip_suffix('`')))
        .unwrap_or(s)
        .to_string()
}

/// Parses go.mod text; `source` names it in errors.
pub fn parse(text: &str, source: &str) -> Result<GoMod> {
    let mut m = GoMod::default();
    let mut block: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let bad = |why: &str| Error::Other(format!("{source}:{}: {why}: {}", i + 1, raw.trim()));
        if line == ")" {
            if block.take().is_none() {
                return Err(bad("a ')' closes no block"));
            }
            continue;
        }
        let (verb, rest) = match &block {
            Some(v) => (v.clone(), line.to_string()),
            None => {
                let (v, r) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
                let r = r.trim();
                if r == "(" {
                    block = Some(v.to_string());
                    continue;
                }
                (v.to_string(), r.to_string())
            }
        };
        let words: Vec<String> = rest.split_whitespace().map(unquote).collect();
        match verb.as_str() {
            "module" => {
                m.module = words
                    .first()
                    .cloned()
                    .ok_or_else(|| bad("no module path"))?;
            }
            "require" | "exclude" => {
                let [path, version] = &words[..] else {
                    return Err(bad("expected MODULE VERSION"));
                };
                if !version.starts_with('v') {
                    return Err(bad("a version starts with 'v'"));
                }
                let list = if verb == "require" {
                    &mut m.requires
                } else {
                    &mut m.excludes
                };
                list.push((path.clone(), version.clone()));
            }
            "replace" => {
                let arrow = words
                    .iter()
                    .position(|w| w == "=>")
                    .ok_or_else(|| bad("a replace without '=>'"))?;
                let (old, new) = (&words[..arrow], &words[arrow + 1..]);
                let (Some(o), Some(n)) = (old.first(), new.first()) else {
                    return Err(bad("expected OLD [VERSION] => NEW [VERSION]"));
                };
                if old.len() > 2 || new.len() > 2 {
                    return Err(bad("expected OLD [VERSION] => NEW [VERSION]"));
                }
                m.replaces.push(Replace {
                    old: o.clone(),
                    old_version: old.get(1).cloned(),
                    new: n.clone(),
                    new_version: new.get(1).cloned(),
                });
            }
            "go" | "toolchain" | "retract" | "godebug" => {}
            other => return Err(bad(&format!("unknown directive {other:?}"))),
        }
    }
    if block.is_some() {
        return Err(Error::Other(format!("{source}: a block is not closed")));
    }
    if m.module.is_empty() {
        return Err(Error::Other(format!(
            "{source} is not a go.mod file: it has no module directive"
        )));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_and_blocks() {
        let text = "module example.com/app // the app\n\ngo 1.21\ntoolchain go1.21.3\n\nrequire (\n\texample.com/a v1.0.0\n\texample.com/b v0.1.0 // indirect\n)\nrequire \"example.com/c\" v2.0.0+incompatible\nexclude example.com/a v0.9.0\nreplace (\n\texample.com/b => example.com/b2 v0.2.0\n\texample.com/c v2.0.0+incompatible => ../c\n)\nretract v0.1.0\n";
        let m = parse(text, "go.mod").unwrap();
        assert_eq!(m.module, "example.com/app");
        assert_eq!(m.requires.len(), 3);
        assert_eq!(m.requires[2].1, "v2.0.0+incompatible");
        assert_eq!(m.excludes, [("example.com/a".into(), "v0.9.0".into())]);
        assert_eq!(
            m.replaced("example.com/b", "v0.1.0"),
            Some(("example.com/b2".into(), "v0.2.0".into()))
        );
        assert_eq!(m.replaced("example.com/c", "v2.0.0+incompatible"), None);
        assert_eq!(
            m.replaced("example.com/a", "v1.0.0"),
            Some(("example.com/a".into(), "v1.0.0".into()))
        );
        for bad in [
            "require example.com/a\n",
            "module x\nrequire (\nexample.com/a v1\n",
            "module x\nfrobnicate y\n",
            "{\"lockfileVersion\": 3}\n",
        ] {
            assert!(parse(bad, "go.mod").is_err(), "{bad}");
        }
    }
}
