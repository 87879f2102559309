//! `nora ls`: what the bundle holds.

use crate::common::{size, Global};
use crate::diagnostics::Outcome;
use nora::bundle::refs::ECOSYSTEMS;
use serde::Serialize;
use std::process::ExitCode;

/// List the bundle's refs with their sizes.
///
/// `nora ls` lists everything; `nora ls npm` one ecosystem; `nora ls npm 'left-*'` the
/// names that match a glob (a pattern without `*`, `?` or `[` matches as a substring).
/// Sizes are the artifact's bytes; for OCI tags, the whole image (every blob of its
/// manifest graph, all platforms).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Ecosystem (oci, npm, pypi, cargo, go, maven, raw) and/or a name pattern.
    #[arg(num_args = 0..=2, value_name = "ECOSYSTEM] [PATTERN")]
    filters: Vec<String>,
}

#[derive(Serialize)]
struct Row {
    ecosystem: String,
    kind: String,
    name: String,
    key: String,
    size: u64,
}

pub fn run(a: Args, g: &Global) -> Outcome {
    let bundle = g.open()?;
    let mut eco = None;
    let mut pattern = None;
    for f in a.filters {
        if eco.is_none() && pattern.is_none() && ECOSYSTEMS.contains(&f.as_str()) {
            eco = Some(f);
        } else if pattern.is_none() {
            pattern = Some(f);
        } else {
            anyhow::bail!("too many arguments: nora ls [ECOSYSTEM] [PATTERN]");
        }
    }
    let matcher = match &pattern {
        Some(p) if p.contains(['*', '?', '[']) => {
            Some(glob::Pattern::new(p).map_err(|e| anyhow::anyhow!("bad pattern '{p}': {e}"))?)
        }
        _ => None,
    };
    let mut rows = Vec::new();
    let mut problems = 0;
    for (key, rec) in bundle.list_refs()? {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                g.note(format!("warning: {e}"));
                problems += 1;
                continue;
            }
        };
        if eco.as_deref().is_some_and(|e| e != key.ecosystem()) {
            continue;
        }
        let name = rec.body.display_name();
        let keep = match (&matcher, &pattern) {
            (Some(m), _) => m.matches(&name),
            (None, Some(p)) => name.contains(p.as_str()),
            (None, None) => true,
        };
        if keep {
            let kind = serde_json::to_value(&rec.body)?["kind"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let size = nora::pack::select::artifact_size(&bundle, &key, &rec.body);
            rows.push(Row {
                ecosystem: key.ecosystem().to_string(),
                kind,
                name,
                key: key.to_string(),
                size,
            });
        }
    }
    if g.json {
        g.print_json(&rows)?;
    } else {
        for r in &rows {
            g.say(format!(
                "{:<6} {:>10}  {}",
                r.ecosystem,
                size(r.size),
                r.name
            ));
        }
        let total: u64 = rows.iter().map(|r| r.size).sum();
        g.note(format!("{} ref(s), {}", rows.len(), size(total)));
    }
    if problems > 0 {
        g.note(format!("{problems} unreadable ref(s); run `nora verify`"));
    }
    Ok(ExitCode::SUCCESS)
}
