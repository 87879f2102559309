//! Writes one small sample artifact of each of nora's seven ecosystems into a directory,
//! for the README's offline-cycle demo: `cargo run --example make_samples -- DIR`.

#[path = "../tests/common/fixtures.rs"]
mod fixtures;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "nora-samples".into());
    let s = fixtures::make_samples(std::path::Path::new(&dir));
    for p in [
        &s.oci_layout,
        &s.docker_save,
        &s.npm,
        &s.npm_scoped,
        &s.wheel,
        &s.sdist,
        &s.crate_file,
        &s.go_zip,
        &s.maven_pom,
        &s.maven_jar,
        &s.raw,
    ] {
        println!("{}", p.display());
    }
}
