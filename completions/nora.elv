
use builtin;
use str;

set edit:completion:arg-completer[nora] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'nora'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'nora'= {
            cand --bundle 'Bundle directory to work on'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Create an empty bundle (or confirm an existing one)'
            cand add 'Import local artifacts into the bundle'
            cand ls 'List the bundle''s refs with their sizes'
            cand verify 'Check every blob''s digest, every ref''s blobs and OCI graph, and ecosystem hashes'
            cand gc 'Remove blobs no ref reaches and stale temp files'
            cand pack 'Write the bundle (or what a receipt says the far side lacks) into a pack'
            cand unpack 'Verify pack volumes and add their content to the bundle'
            cand receipt 'Write a receipt of what the bundle holds, for `nora pack --since` on the other side'
            cand backup 'Write a full backup of the bundle (a complete pack marked as a backup)'
            cand restore 'Restore a backup made by `nora backup` (or any full pack)'
            cand serve 'Serve the bundle over HTTP: OCI/Docker at /v2/, npm at /npm/, PyPI at /simple/, Cargo at /cargo/, Go modules at /go/, Maven at /maven2/, raw files at /raw/, plus /health, /ready and /metrics'
            cand token 'Manage API tokens for `nora serve --auth`'
            cand key 'Manage minisign-compatible Ed25519 keys for signing packs'
            cand mirror 'Fill the bundle with what lockfiles pin, fetched from upstream registries'
            cand completions 'Print a shell completion script, or write all of them into a directory'
            cand man 'Write man pages (nora.1 and nora-VERB.1 for each verb) into DIR'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'nora;init'= {
            cand --bundle 'Bundle directory to work on'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'nora;add'= {
            cand --name 'oci: repository[:tag] for layouts whose manifests name none'
            cand --module 'go: module path, checked against the zip'
            cand --version 'go: module version, checked against the zip'
            cand --go-mod 'go: the module''s .mod file (default: go.mod inside the zip)'
            cand --go-info 'go: the module''s .info file (default: generated)'
            cand --gav 'maven: coordinates group:artifact:version[:classifier][@extension]'
            cand --path 'raw: path to store the file at (default: its file name)'
            cand --content-type 'raw: content type (default: guessed from the extension)'
            cand --bundle 'Bundle directory to work on'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'nora;ls'= {
            cand --bundle 'Bundle directory to work on'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'nora;verify'= {
            cand --pack 'Check these pack volumes instead of the bundle'
            cand --key 'Public key (minisign .pub file or base64) the volumes must be signed with'
            cand --bundle 'Bundle directory to work on'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'nora;gc'= {
            cand --grace 'Keep unreferenced blobs and temp files younger than this (e.g. 1h, 30m; 0s only for a bundle nobody is pushing to)'
            cand --bundle 'Bundle directory to work on'
            cand --dry-run 'Print what would be removed, remove nothing'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'nora;pack'= {
            cand -o 'Output file; volumes are named OUT with .001, .002… before .tar.zst'
            cand --output 'Output file; volumes are named OUT with .001, .002… before .tar.zst'
            cand --since 'Leave out what this receipt (from `nora receipt` on the far side) says is held'
            cand --split 'Split into volumes smaller than SIZE (e.g. 4G, 700M; binary units)'
            cand --sign 'Sign every volume manifest with this minisign secret key'
            cand --bundle 'Bundle directory to work on'
            cand --gzip 'Compress with gzip instead of zstd'
            cand --dry-run 'Print what would go in and its size; write nothing'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'nora;unpack'= {
            cand --discard 'Drop a partly unpacked pack that can never complete (a volume was lost): PACK-ID or its first 8+ hex digits, as `nora verify` lists them. Its blobs are left to gc'
            cand --on-conflict 'Settle conflicting refs: keep the bundle''s or replace them with the pack''s'
            cand --require-signature 'Refuse volumes not signed with this public key (minisign .pub file or base64)'
            cand --bundle 'Bundle directory to work on'
            cand -y 'Do not ask; replace conflicting refs with the pack''s'
            cand --yes 'Do not ask; replace conflicting refs with the pack''s'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'nora;receipt'= {
            cand -o 'Receipt file to write'
            cand --output 'Receipt file to write'
            cand --bundle 'Bundle directory to work on'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'nora;backup'= {
            cand -o 'Backup file to write'
            cand --output 'Backup file to write'
            cand --split 'Split into volumes smaller than SIZE'
            cand --bundle 'Bundle directory to work on'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'nora;restore'= {
            cand --on-conflict 'Settle conflicting refs without asking'
            cand --bundle 'Bundle directory to work on'
            cand -y 'Do not ask; take the backup''s version of conflicting refs'
            cand --yes 'Do not ask; take the backup''s version of conflicting refs'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'nora;serve'= {
            cand --listen 'Address to listen on [default: 127.0.0.1:4000]'
            cand --config 'TOML settings file'
            cand --log-format 'Log format: text or json [default: text]'
            cand --raw-max-size 'Largest raw file accepted, e.g. 1GiB [default: no limit]'
            cand --blob-max-size 'Largest OCI blob upload accepted [default: no limit]'
            cand --publish-max-size 'Largest package publish accepted (Cargo, npm, PyPI, Maven) [default: 512MiB]'
            cand --public-url 'The URL clients reach this server at, for links in package metadata (behind a reverse proxy) [default: from X-Forwarded-Proto/Host or Host]'
            cand --manifest-max-size 'Largest manifest accepted [default: 4MiB]'
            cand --htpasswd 'An htpasswd file of bcrypt users (turns authentication on)'
            cand --upstream 'Pull through from an upstream: a miss is fetched, checked, stored and answered (repeatable; ECOSYSTEM is oci, maven, npm, pypi, cargo, go or raw; e.g. npm=https://registry.npmjs.org). Credentials: NORA_UPSTREAM_TOKEN, and for OCI NORA_UPSTREAM_USER and NORA_UPSTREAM_PASSWORD'
            cand --upstream-ttl 'Age after which upstream metadata (packuments, pages, index files, tags, …) is fetched again [default: 5m]'
            cand --max-connections 'Connections open at once [default: 4096, fewer if the open-file limit is lower]'
            cand --max-connections-per-client 'Connections one client address may hold at once; more are closed at once [default: 256]'
            cand --header-timeout 'Time a client has to send a whole request head, from its first byte [default: 30s]'
            cand --idle-timeout 'Time a connection may wait between requests, or stall while a response is sent, before it is closed [default: 75s]'
            cand --max-uploads 'OCI upload sessions open at once [default: 1000]'
            cand --max-uploads-per-client 'OCI upload sessions one client (user, else address) may hold at once [default: 100]'
            cand --upload-expiry 'Idle time after which an OCI upload session ends and what it received is deleted [default: 168h]'
            cand --bundle 'Bundle directory to work on'
            cand --auth 'Require credentials: API tokens (`nora token create`) and, with --htpasswd, users'
            cand --anonymous-read 'Let requests without credentials pull and list (turns authentication on)'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'nora;token'= {
            cand --bundle 'Bundle directory to work on'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand create 'Create a token and print it (once)'
            cand list 'List tokens (never their secrets)'
            cand revoke 'Revoke a token by id or name'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'nora;token;create'= {
            cand --name 'A name to tell it by'
            cand --role 'read (pull), write (also push and delete) or admin (also /metrics)'
            cand --bundle 'Bundle directory to work on'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'nora;token;list'= {
            cand --bundle 'Bundle directory to work on'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'nora;token;revoke'= {
            cand --bundle 'Bundle directory to work on'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'nora;token;help'= {
            cand create 'Create a token and print it (once)'
            cand list 'List tokens (never their secrets)'
            cand revoke 'Revoke a token by id or name'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'nora;token;help;create'= {
        }
        &'nora;token;help;list'= {
        }
        &'nora;token;help;revoke'= {
        }
        &'nora;token;help;help'= {
        }
        &'nora;key'= {
            cand --bundle 'Bundle directory to work on'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand generate 'Generate a key pair: KEY (secret, unencrypted, mode 0600) and KEY.pub'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'nora;key;generate'= {
            cand -o 'Secret key file to write; the public key goes beside it with .pub'
            cand --output 'Secret key file to write; the public key goes beside it with .pub'
            cand --bundle 'Bundle directory to work on'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'nora;key;help'= {
            cand generate 'Generate a key pair: KEY (secret, unencrypted, mode 0600) and KEY.pub'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'nora;key;help;generate'= {
        }
        &'nora;key;help;help'= {
        }
        &'nora;mirror'= {
            cand --config 'A mirror.toml listing what to mirror and from where'
            cand --npm-lock 'A package-lock.json, npm-shrinkwrap.json or yarn.lock (repeatable)'
            cand --npm 'An npm package as name[@range] (range or dist-tag; default latest), mirrored with its dependency tree resolved against the registry (repeatable)'
            cand --npm-registry 'npm registry to fetch packages from [default: https://registry.npmjs.org]'
            cand --pypi-lock 'A requirements file, uv.lock, poetry.lock or pylock.toml (repeatable)'
            cand --pypi-index 'PyPI simple index to fetch distributions from [default: https://pypi.org/simple]'
            cand --python-version 'Take only wheels that run on this Python version, e.g. 3.11 (repeatable)'
            cand --wheel-platform 'Take only wheels for this platform tag, e.g. manylinux_2_17_x86_64 (repeatable)'
            cand --cargo-lock 'A Cargo.lock whose registry crates to mirror (repeatable)'
            cand --cargo-index 'Sparse index to fetch crates.io''s crates from (crates of other sparse registries come from the registry their lock entry names) [default: sparse+https://index.crates.io/]'
            cand --go-sum 'A go.sum whose modules to mirror (repeatable)'
            cand --go-mod 'go.mod whose module graph to mirror, resolved through the proxy (repeatable); the go.sum beside it is read too, else --go-sumdb is needed to check the modules'
            cand --go-proxy 'GOPROXY to fetch modules from [default: https://proxy.golang.org]'
            cand --go-sumdb 'Check Go modules against this checksum database and carry its records and proofs, so `nora serve` answers GOSUMDB on the far side: `NAME+HASH+KEY [URL]` as GOSUMDB is written (sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8)'
            cand --maven 'Maven coordinates group:artifact:version[:classifier][@type], mirrored with what they depend on (repeatable)'
            cand --maven-pom 'A project''s pom.xml whose dependencies (and their parents and BOMs) to mirror (repeatable)'
            cand --maven-repo 'Maven repository to fetch from [default: https://repo.maven.apache.org/maven2]'
            cand --image 'A container image to mirror: name[:tag] or name@sha256:… (repeatable). Names without a registry host are Docker Hub''s (library/ for one-component names)'
            cand --platform 'Of multi-platform images take only this platform, os/arch[/variant] (repeatable; default: all)'
            cand --raw 'A file to fetch, as URL#sha256=HEX; stored under /raw/<host>/<path> (repeatable)'
            cand -j 'Artifacts fetched at once per ecosystem [default: 8]'
            cand --jobs 'Artifacts fetched at once per ecosystem [default: 8]'
            cand --timeout 'Seconds an upstream may stay silent before a fetch gives up (and is retried)'
            cand --bundle 'Bundle directory to work on'
            cand --referrers 'Also mirror the referrers (signatures, SBOMs) of each image'
            cand --dry-run 'List what would be fetched; fetch nothing'
            cand --keep-going 'Mirror the rest after a failure (the exit code still reports it)'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'nora;completions'= {
            cand --dir 'Write scripts for bash, zsh, fish, powershell and elvish into DIR'
            cand --bundle 'Bundle directory to work on'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'nora;man'= {
            cand --bundle 'Bundle directory to work on'
            cand --json 'Print machine-readable JSON on stdout instead of text'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand -v 'Log more (repeat for debug logs); logs go to stderr'
            cand --verbose 'Log more (repeat for debug logs); logs go to stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'nora;help'= {
            cand init 'Create an empty bundle (or confirm an existing one)'
            cand add 'Import local artifacts into the bundle'
            cand ls 'List the bundle''s refs with their sizes'
            cand verify 'Check every blob''s digest, every ref''s blobs and OCI graph, and ecosystem hashes'
            cand gc 'Remove blobs no ref reaches and stale temp files'
            cand pack 'Write the bundle (or what a receipt says the far side lacks) into a pack'
            cand unpack 'Verify pack volumes and add their content to the bundle'
            cand receipt 'Write a receipt of what the bundle holds, for `nora pack --since` on the other side'
            cand backup 'Write a full backup of the bundle (a complete pack marked as a backup)'
            cand restore 'Restore a backup made by `nora backup` (or any full pack)'
            cand serve 'Serve the bundle over HTTP: OCI/Docker at /v2/, npm at /npm/, PyPI at /simple/, Cargo at /cargo/, Go modules at /go/, Maven at /maven2/, raw files at /raw/, plus /health, /ready and /metrics'
            cand token 'Manage API tokens for `nora serve --auth`'
            cand key 'Manage minisign-compatible Ed25519 keys for signing packs'
            cand mirror 'Fill the bundle with what lockfiles pin, fetched from upstream registries'
            cand completions 'Print a shell completion script, or write all of them into a directory'
            cand man 'Write man pages (nora.1 and nora-VERB.1 for each verb) into DIR'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'nora;help;init'= {
        }
        &'nora;help;add'= {
        }
        &'nora;help;ls'= {
        }
        &'nora;help;verify'= {
        }
        &'nora;help;gc'= {
        }
        &'nora;help;pack'= {
        }
        &'nora;help;unpack'= {
        }
        &'nora;help;receipt'= {
        }
        &'nora;help;backup'= {
        }
        &'nora;help;restore'= {
        }
        &'nora;help;serve'= {
        }
        &'nora;help;token'= {
            cand create 'Create a token and print it (once)'
            cand list 'List tokens (never their secrets)'
            cand revoke 'Revoke a token by id or name'
        }
        &'nora;help;token;create'= {
        }
        &'nora;help;token;list'= {
        }
        &'nora;help;token;revoke'= {
        }
        &'nora;help;key'= {
            cand generate 'Generate a key pair: KEY (secret, unencrypted, mode 0600) and KEY.pub'
        }
        &'nora;help;key;generate'= {
        }
        &'nora;help;mirror'= {
        }
        &'nora;help;completions'= {
        }
        &'nora;help;man'= {
        }
        &'nora;help;help'= {
        }
    ]
    $completions[$command]
}
