//! `nora add raw`: stores any file at a path under `/raw/`, with a content type given or
//! guessed from the path's extension.

use crate::bundle::layout::RefKey;
use crate::bundle::refs::{RawFile, RefBody, RefRecord};
use crate::bundle::Bundle;
use crate::ecosystems::AddOptions;
use crate::error::{Error, IoContext, Result};
use std::fs::File;
use std::path::Path;

/// Longest raw path, in bytes.
pub const MAX_PATH: usize = 1024;

/// Content type of files whose type is neither given nor guessable.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// Imports one file as a `raw-file` record at `opts.path` (default: the file's name).
pub fn import(bundle: &Bundle, file: &Path, opts: &AddOptions) -> Result<Vec<RefRecord>> {
    let bad = |reason: &str| Error::BadArtifact {
        path: file.to_path_buf(),
        reason: reason.into(),
    };
    let path = match &opts.path {
        Some(p) => p.clone(),
        None => file
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| bad("the file name is not valid UTF-8; give the path to store it at"))?
            .to_string(),
    };
    validate_path(&path)?;
    RefKey::new(std::iter::once("raw").chain(path.split('/')))?;
    let content_type = match &opts.content_type {
        Some(ct) => {
            validate_content_type(ct)?;
            ct.clone()
        }
        None => mime_guess::from_path(&path)
            .first_raw()
            .unwrap_or(DEFAULT_CONTENT_TYPE)
            .to_string(),
    };
    if !std::fs::metadata(file)
        .at("read metadata of", file)?
        .is_file()
    {
        return Err(bad("not a regular file"));
    }
    let stored = bundle.ingest(File::open(file).at("open", file)?, None)?;
    Ok(vec![RefRecord::new(RefBody::RawFile(RawFile {
        path,
        digest: stored.digest,
        size: stored.size,
        content_type,
    }))])
}

/// Checks a raw path: `/`-separated, relative, at most 1024 bytes, no empty, `.` or `..`
/// segment, no backslash, NUL or control character.
pub fn validate_path(path: &str) -> Result<()> {
    let fail = |reason: String| Error::InvalidName {
        what: "raw path",
        value: path.escape_debug().to_string(),
        reason,
    };
    if path.is_empty() {
        return Err(fail("the path is empty".into()));
    }
    if path.len() > MAX_PATH {
        return Err(fail(format!("longer than {MAX_PATH} bytes")));
    }
    if path.starts_with('/') {
        return Err(fail(
            "a path is relative to /raw/ and does not start with '/'".into(),
        ));
    }
    if path.contains('\\') {
        return Err(fail("use '/' to separate segments, not '\\'".into()));
    }
    if path.chars().any(char::is_control) {
        return Err(fail("holds a NUL or control character".into()));
    }
    if let Some(seg) = path
        .split('/')
        .find(|s| s.is_empty() || *s == "." || *s == "..")
    {
        return Err(fail(format!(
            "segment '{seg}' is not allowed: no empty, '.' or '..' segments"
        )));
    }
    Ok(())
}

/// Checks a content type given on the command line: `type/subtype`, optional parameters,
/// no control characters.
pub fn validate_content_type(ct: &str) -> Result<()> {
    let essence = ct.split(';').next().unwrap_or("").trim();
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && !b"/;\"(),<>@[\\]{}=?:".contains(&b))
    };
    let ok = ct.len() <= 255
        && !ct.chars().any(char::is_control)
        && essence
            .split_once('/')
            .is_some_and(|(t, s)| token(t) && token(s));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidName {
            what: "content type",
            value: ct.escape_debug().to_string(),
            reason: "expected type/subtype, such as text/plain or application/octet-stream".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;
    use crate::ecosystems::archive::testing::setup;

    fn raw(recs: &[RefRecord]) -> &RawFile {
        assert_eq!(recs.len(), 1);
        match &recs[0].body {
            RefBody::RawFile(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn imports_at_file_name_with_guessed_type() {
        let (tmp, bundle) = setup();
        let file = tmp.path().join("config.json");
        std::fs::write(&file, b"{}\n").unwrap();
        let recs = import(&bundle, &file, &AddOptions::default()).unwrap();
        let r = raw(&recs);
        assert_eq!(r.path, "config.json");
        assert_eq!(r.content_type, "application/json");
        assert_eq!(r.digest, Digest::of(b"{}\n"));
        assert_eq!(r.size, 3);
        assert_eq!(bundle.read_blob(&r.digest).unwrap(), b"{}\n");
        bundle.write_ref(&recs[0]).unwrap();
    }

    #[test]
    fn imports_at_given_path_and_type() {
        let (tmp, bundle) = setup();
        let file = tmp.path().join("blob");
        std::fs::write(&file, b"data").unwrap();
        let opts = AddOptions {
            path: Some("tools/v1/Setup.bin".into()),
            ..AddOptions::default()
        };
        let r = raw(&import(&bundle, &file, &opts).unwrap()).clone();
        assert_eq!(r.path, "tools/v1/Setup.bin");
        assert_eq!(r.content_type, DEFAULT_CONTENT_TYPE);
        let opts = AddOptions {
            path: Some("notes/readme".into()),
            content_type: Some("text/plain; charset=utf-8".into()),
            ..AddOptions::default()
        };
        let recs = import(&bundle, &file, &opts).unwrap();
        assert_eq!(raw(&recs).content_type, "text/plain; charset=utf-8");
        assert_eq!(recs[0].body.key().unwrap().to_string(), "raw/notes/readme");
    }

    #[test]
    fn refuses_bad_paths_before_storing() {
        let (tmp, bundle) = setup();
        let file = tmp.path().join("f.txt");
        std::fs::write(&file, b"x").unwrap();
        let long = "a/".repeat(512) + "b";
        for (path, needle) in [
            ("", "empty"),
            ("/abs", "does not start with '/'"),
            ("a//b", "segment ''"),
            ("a/", "segment ''"),
            ("./a", "segment '.'"),
            ("a/../b", "segment '..'"),
            ("a\\b", "not '\\'"),
            ("a\0b", "control character"),
            ("a\nb", "control character"),
            (long.as_str(), "longer than 1024 bytes"),
        ] {
            let opts = AddOptions {
                path: Some(path.into()),
                ..AddOptions::default()
            };
            match import(&bundle, &file, &opts) {
                Err(Error::InvalidName {
                    what: "raw path",
                    reason,
                    ..
                }) => {
                    assert!(reason.contains(needle), "{path:?}: {reason}")
                }
                other => panic!("{path:?}: {other:?}"),
            }
        }
        let opts = AddOptions {
            content_type: Some("text".into()),
            ..AddOptions::default()
        };
        assert!(matches!(
            import(&bundle, &file, &opts),
            Err(Error::InvalidName {
                what: "content type",
                ..
            })
        ));
        let err = import(&bundle, tmp.path(), &AddOptions::default()).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        assert!(bundle.blobs().unwrap().is_empty());
        assert!(validate_path(&"a".repeat(1024)).is_ok());
    }
}
