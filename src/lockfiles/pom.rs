//! `pom.xml` as written: parent, coordinates, packaging, properties, dependency management
//! and dependencies, with `${…}` left for the resolver to interpolate.

use crate::error::{Error, Result};
use quick_xml::events::Event;
use std::collections::BTreeMap;

/// `groupId:artifactId:version` of a parent or import.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gav {
    /// `groupId`.
    pub group: String,
    /// `artifactId`.
    pub artifact: String,
    /// `version`.
    pub version: String,
}

impl std::fmt::Display for Gav {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.group, self.artifact, self.version)
    }
}

/// One `<dependency>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dependency {
    /// `groupId`.
    pub group: String,
    /// `artifactId`.
    pub artifact: String,
    /// `version`, if written.
    pub version: Option<String>,
    /// `type` (default `jar`).
    pub kind: Option<String>,
    /// `classifier`.
    pub classifier: Option<String>,
    /// `scope` (default `compile`).
    pub scope: Option<String>,
    /// `optional`.
    pub optional: bool,
    /// `groupId:artifactId` patterns (`*` allowed) excluded below this dependency.
    pub exclusions: Vec<(String, String)>,
}

/// A POM as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pom {
    /// `<parent>` and its `relativePath`.
    pub parent: Option<(Gav, Option<String>)>,
    /// `groupId` (inherited from the parent when absent).
    pub group: Option<String>,
    /// `artifactId`.
    pub artifact: String,
    /// `version` (inherited from the parent when absent).
    pub version: Option<String>,
    /// `packaging` (default `jar`).
    pub packaging: Option<String>,
    /// `<properties>`.
    pub properties: BTreeMap<String, String>,
    /// `<dependencyManagement><dependencies>`.
    pub managed: Vec<Dependency>,
    /// `<dependencies>`.
    pub dependencies: Vec<Dependency>,
}

/// A minimal element tree.
#[derive(Debug, Default)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
    fn text_of(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(|c| c.text.trim().to_string())
            .filter(|t| !t.is_empty())
    }
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
}

fn tree(bytes: &[u8]) -> std::result::Result<Node, String> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| format!("XML error at byte {}: {e}", reader.error_position()))?;
        match ev {
            Event::Start(s) => stack.push(Node {
                name: String::from_utf8_lossy(s.local_name().as_ref()).into_owned(),
                ..Default::default()
            }),
            Event::Empty(s) => {
                let n = Node {
                    name: String::from_utf8_lossy(s.local_name().as_ref()).into_owned(),
                    ..Default::default()
                };
                stack.last_mut().expect("root").children.push(n);
            }
            Event::Text(t) => {
                let s = t.unescape().map_err(|e| e.to_string())?;
                stack.last_mut().expect("root").text.push_str(&s);
            }
            Event::CData(c) => stack
                .last_mut()
                .expect("root")
                .text
                .push_str(&String::from_utf8_lossy(&c.into_inner())),
            Event::End(_) => {
                let n = stack.pop().expect("balanced");
                let parent = stack.last_mut().ok_or("unbalanced end tag")?;
                parent.children.push(n);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err(format!(
            "<{}> is never closed",
            stack.last().map_or("", |n| n.name.as_str())
        ));
    }
    stack.pop().ok_or_else(|| "empty document".to_string())
}

fn dependency(n: &Node) -> std::result::Result<Dependency, String> {
    let (Some(group), Some(artifact)) = (n.text_of("groupId"), n.text_of("artifactId")) else {
        return Err("a <dependency> without groupId or artifactId".into());
    };
    let exclusions = n
        .child("exclusions")
        .into_iter()
        .flat_map(|e| e.all("exclusion"))
        .map(|e| {
            (
                e.text_of("groupId").unwrap_or_else(|| "*".into()),
                e.text_of("artifactId").unwrap_or_else(|| "*".into()),
            )
        })
        .collect();
    Ok(Dependency {
        group,
        artifact,
        version: n.text_of("version"),
        kind: n.text_of("type"),
        classifier: n.text_of("classifier"),
        scope: n.text_of("scope"),
        optional: n.text_of("optional").as_deref() == Some("true"),
        exclusions,
    })
}

/// Parses POM bytes; `what` names the POM in errors.
pub fn parse(bytes: &[u8], what: &str) -> Result<Pom> {
    let bad = |reason: String| Error::Other(format!("{what} is not a valid POM: {reason}"));
    let root = tree(bytes).map_err(bad)?;
    let project = root
        .child("project")
        .ok_or_else(|| bad("no <project> element".into()))?;
    let parent = match project.child("parent") {
        None => None,
        Some(p) => match (
            p.text_of("groupId"),
            p.text_of("artifactId"),
            p.text_of("version"),
        ) {
            (Some(group), Some(artifact), Some(version)) => Some((
                Gav {
                    group,
                    artifact,
                    version,
                },
                p.child("relativePath").map(|r| r.text.trim().to_string()),
            )),
            _ => return Err(bad("<parent> needs groupId, artifactId and version".into())),
        },
    };
    let artifact = project
        .text_of("artifactId")
        .ok_or_else(|| bad("no <artifactId>".into()))?;
    let deps = |n: Option<&Node>| -> Result<Vec<Dependency>> {
        n.into_iter()
            .flat_map(|d| d.all("dependency"))
            .map(|d| dependency(d).map_err(bad))
            .collect()
    };
    Ok(Pom {
        parent,
        group: project.text_of("groupId"),
        artifact,
        version: project.text_of("version"),
        packaging: project.text_of("packaging"),
        properties: project
            .child("properties")
            .map(|p| {
                p.children
                    .iter()
                    .map(|c| (c.name.clone(), c.text.trim().to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        managed: deps(
            project
                .child("dependencyManagement")
                .and_then(|m| m.child("dependencies")),
        )?,
        dependencies: deps(project.child("dependencies"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pom_with_everything() {
        let pom = br#"<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent><groupId>org.acme</groupId><artifactId>acme-parent</artifactId><version>1.0</version><relativePath/></parent>
  <artifactId>lib-a</artifactId>
  <properties><c.version>2.0</c.version><!-- note --></properties>
  <dependencyManagement><dependencies>
    <dependency><groupId>org.acme</groupId><artifactId>acme-bom</artifactId><version>1.0</version><type>pom</type><scope>import</scope></dependency>
  </dependencies></dependencyManagement>
  <dependencies>
    <dependency><groupId>org.acme</groupId><artifactId>lib-b</artifactId>
      <exclusions><exclusion><groupId>org.acme</groupId><artifactId>lib-x</artifactId></exclusion></exclusions></dependency>
    <dependency><groupId>org.acme</groupId><artifactId>lib-c</artifactId><version>${c.version}</version></dependency>
    <dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>4.13</version><scope>test</scope></dependency>
    <dependency><groupId>org.acme</groupId><artifactId>lib-opt</artifactId><version>1</version><optional>true</optional></dependency>
  </dependencies>
</project>"#;
        let p = parse(pom, "lib-a.pom").unwrap();
        assert_eq!(
            p.parent.as_ref().unwrap().0.to_string(),
            "org.acme:acme-parent:1.0"
        );
        assert_eq!(p.parent.as_ref().unwrap().1.as_deref(), Some(""));
        assert_eq!(
            (p.group, p.artifact.as_str(), p.version),
            (None, "lib-a", None)
        );
        assert_eq!(p.properties["c.version"], "2.0");
        assert_eq!(p.managed[0].scope.as_deref(), Some("import"));
        assert_eq!(p.dependencies.len(), 4);
        assert_eq!(
            p.dependencies[0].exclusions,
            [("org.acme".to_string(), "lib-x".to_string())]
        );
        assert_eq!(p.dependencies[1].version.as_deref(), Some("${c.version}"));
        assert!(p.dependencies[3].optional);
        assert!(parse(b"<nope/>", "x.pom")
            .unwrap_err()
            .to_string()
            .contains("no <project>"));
        assert!(parse(b"<project><artifactId>a", "x.pom").is_err());
    }
}
