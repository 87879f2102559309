//! The go, cargo, npm, pip and mvn commands as the tests run them: isolated homes and caches, nothing
//! fetched from anywhere but the proxy or registry given.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `go ARGS` in `dir` with `proxy` as its only GOPROXY, no checksum database, and module,
/// build and home directories under `home`.
pub fn go(home: &Path, dir: &Path, proxy: &str, args: &[&str]) -> Output {
    go_checked(home, dir, proxy, "off", args)
}

/// [`go`] with `GOSUMDB` set to `sumdb` (`off`, `NAME+HASH+KEY`, or that and a URL).
pub fn go_checked(home: &Path, dir: &Path, proxy: &str, sumdb: &str, args: &[&str]) -> Output {
    Command::new("go")
        .args(args)
        .current_dir(dir)
        .env("GOPROXY", proxy)
        .env("GOFLAGS", "-mod=mod")
        .env("GOSUMDB", sumdb)
        .env("GONOSUMDB", "")
        .env("GOPRIVATE", "")
        .env("GOENV", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOMODCACHE", home.join("modcache"))
        .env("GOPATH", home.join("path"))
        .env("GOCACHE", home.join("cache"))
        .env("HOME", home)
        .output()
        .expect("run go")
}

/// `cargo ARGS` in `dir` with `CARGO_HOME` at `home` (its config names the registries) and
/// builds in `target`.
pub fn cargo(home: &Path, target: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_HOME", home)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_TERM_COLOR", "never")
        .env("CARGO_HTTP_TIMEOUT", "30")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_REGISTRIES_NORA_TOKEN")
        .output()
        .expect("run cargo")
}

/// npm with its own user config (holding `token` for `registry`), cache and registry.
pub struct Npm {
    rc: PathBuf,
    cache: PathBuf,
    registry: String,
}

impl Npm {
    /// An npm whose config and cache live under `dir`; `registry` ends with `/`.
    pub fn new(dir: &Path, registry: &str, token: &str) -> Npm {
        std::fs::create_dir_all(dir).unwrap();
        let rc = dir.join("npmrc");
        let host_path = registry.split_once("//").map_or(registry, |(_, r)| r);
        std::fs::write(&rc, format!("//{host_path}:_authToken={token}\n")).unwrap();
        Npm {
            rc,
            cache: dir.join("cache"),
            registry: registry.to_string(),
        }
    }

    /// `npm ARGS` in `dir`.
    pub fn run(&self, dir: &Path, args: &[&str]) -> Output {
        Command::new("npm")
            .args(args)
            .current_dir(dir)
            .env("npm_config_userconfig", &self.rc)
            .env("npm_config_cache", &self.cache)
            .env("npm_config_registry", &self.registry)
            .env("npm_config_audit", "false")
            .env("npm_config_fund", "false")
            .env("npm_config_update_notifier", "false")
            .env("npm_config_fetch_retries", "0")
            .env("npm_config_fetch_timeout", "30000")
            .output()
            .expect("run npm")
    }

    /// `npm ARGS` in `dir`, which must succeed; its stdout.
    pub fn ok(&self, dir: &Path, args: &[&str]) -> String {
        let o = self.run(dir, args);
        assert!(
            o.status.success(),
            "npm {args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

/// A package directory `name-version` under `dir` with an index.js exporting its name and
/// version, depending on `deps` (`name`, `range`).
pub fn npm_package(dir: &Path, name: &str, version: &str, deps: &[(&str, &str)]) -> PathBuf {
    let pkg = dir.join(format!("pkg-{}-{version}", name.replace('/', "-")));
    std::fs::create_dir_all(&pkg).unwrap();
    let deps: serde_json::Map<String, serde_json::Value> = deps
        .iter()
        .map(|(n, r)| (n.to_string(), serde_json::Value::from(*r)))
        .collect();
    let manifest = serde_json::json!({
        "name": name, "version": version, "main": "index.js", "license": "MIT",
        "description": "demo", "dependencies": deps,
    });
    std::fs::write(pkg.join("package.json"), manifest.to_string()).unwrap();
    std::fs::write(
        pkg.join("index.js"),
        format!("module.exports = {{ name: '{name}', version: '{version}' }};\n"),
    )
    .unwrap();
    pkg
}

/// `pip ARGS` from a venv, with the machine's pip config, find-links and index cleared.
pub fn pip(venv: &Path, args: &[&str]) -> Output {
    Command::new(venv.join("bin/pip"))
        .args(args)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env_remove("PIP_FIND_LINKS")
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .env("PIP_NO_CACHE_DIR", "1")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PIP_DEFAULT_TIMEOUT", "30")
        .output()
        .unwrap()
}

/// A venv of the system Python at `path` (with the system's site-packages if `system`).
pub fn venv(path: &Path, system: bool) -> PathBuf {
    let mut c = Command::new("/usr/bin/python3");
    c.args(["-m", "venv"]);
    if system {
        c.arg("--system-site-packages");
    }
    let o = c.arg(path).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    path.to_path_buf()
}

/// Under `dir`: a local repository seeded from Debian's plugins, and a settings.xml
/// mirroring `*` to `{url}/maven2/` (SNAPSHOTs enabled on `central`, as with any repository
/// manager) with `password` for server `nora`. Returns the settings file.
pub fn maven_settings(dir: &Path, url: &str, password: &str) -> PathBuf {
    let repo = dir.join("m2");
    std::fs::create_dir_all(&repo).unwrap();
    let o = Command::new("cp")
        .arg("-rs")
        .arg("/usr/share/maven-repo/.")
        .arg(&repo)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let path = dir.join("settings.xml");
    std::fs::write(
        &path,
        format!(
            r#"<settings><localRepository>{}</localRepository>
<mirrors><mirror><id>nora</id><mirrorOf>*</mirrorOf><url>{url}/maven2/</url></mirror></mirrors>
<servers><server><id>nora</id><username>ci</username><password>{password}</password></server></servers>
<profiles><profile><id>snapshots</id><repositories><repository><id>central</id><url>http://central</url>
<releases><enabled>true</enabled></releases><snapshots><enabled>true</enabled></snapshots></repository></repositories></profile></profiles>
<activeProfiles><activeProfile>snapshots</activeProfile></activeProfiles>
</settings>"#,
            repo.display(),
        ),
    )
    .unwrap();
    path
}

/// `mvn -B -q -C -s SETTINGS ARGS` in `dir`.
pub fn mvn(dir: &Path, settings: &Path, args: &[&str]) -> Output {
    Command::new("mvn")
        .args(["-B", "-q", "-C", "-s"])
        .arg(settings)
        .args(args)
        .current_dir(dir)
        .env("MAVEN_OPTS", "-Xmx256m")
        .output()
        .expect("run mvn")
}

/// A cargo home at `home` whose crates.io is replaced by the sparse registry `index`
/// (`sparse+http://…/`), with no retries.
pub fn crates_io_home(home: &Path, index: &str) -> PathBuf {
    std::fs::create_dir_all(home).unwrap();
    std::fs::write(
        home.join("config.toml"),
        format!("[source.crates-io]\nreplace-with = \"nora\"\n[source.nora]\nregistry = \"{index}\"\n[net]\nretry = 0\n"),
    )
    .unwrap();
    home.to_path_buf()
}

/// `skopeo ARGS` with a 60 s command timeout.
pub fn skopeo(args: &[&str]) -> Output {
    Command::new("skopeo")
        .args(["--command-timeout", "60s"])
        .args(args)
        .output()
        .expect("run skopeo")
}
