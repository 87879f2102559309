
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'nora' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'nora'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'nora' {
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create an empty bundle (or confirm an existing one)')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Import local artifacts into the bundle')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List the bundle''s refs with their sizes')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check every blob''s digest, every ref''s blobs and OCI graph, and ecosystem hashes')
            [CompletionResult]::new('gc', 'gc', [CompletionResultType]::ParameterValue, 'Remove blobs no ref reaches and stale temp files')
            [CompletionResult]::new('pack', 'pack', [CompletionResultType]::ParameterValue, 'Write the bundle (or what a receipt says the far side lacks) into a pack')
            [CompletionResult]::new('unpack', 'unpack', [CompletionResultType]::ParameterValue, 'Verify pack volumes and add their content to the bundle')
            [CompletionResult]::new('receipt', 'receipt', [CompletionResultType]::ParameterValue, 'Write a receipt of what the bundle holds, for `nora pack --since` on the other side')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Write a full backup of the bundle (a complete pack marked as a backup)')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Restore a backup made by `nora backup` (or any full pack)')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve the bundle over HTTP: OCI/Docker at /v2/, npm at /npm/, PyPI at /simple/, Cargo at /cargo/, Go modules at /go/, Maven at /maven2/, raw files at /raw/, plus /health, /ready and /metrics')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Manage API tokens for `nora serve --auth`')
            [CompletionResult]::new('key', 'key', [CompletionResultType]::ParameterValue, 'Manage minisign-compatible Ed25519 keys for signing packs')
            [CompletionResult]::new('mirror', 'mirror', [CompletionResultType]::ParameterValue, 'Fill the bundle with what lockfiles pin, fetched from upstream registries')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script, or write all of them into a directory')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write man pages (nora.1 and nora-VERB.1 for each verb) into DIR')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'nora;init' {
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'nora;add' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'oci: repository[:tag] for layouts whose manifests name none')
            [CompletionResult]::new('--module', '--module', [CompletionResultType]::ParameterName, 'go: module path, checked against the zip')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'go: module version, checked against the zip')
            [CompletionResult]::new('--go-mod', '--go-mod', [CompletionResultType]::ParameterName, 'go: the module''s .mod file (default: go.mod inside the zip)')
            [CompletionResult]::new('--go-info', '--go-info', [CompletionResultType]::ParameterName, 'go: the module''s .info file (default: generated)')
            [CompletionResult]::new('--gav', '--gav', [CompletionResultType]::ParameterName, 'maven: coordinates group:artifact:version[:classifier][@extension]')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'raw: path to store the file at (default: its file name)')
            [CompletionResult]::new('--content-type', '--content-type', [CompletionResultType]::ParameterName, 'raw: content type (default: guessed from the extension)')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'nora;ls' {
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'nora;verify' {
            [CompletionResult]::new('--pack', '--pack', [CompletionResultType]::ParameterName, 'Check these pack volumes instead of the bundle')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Public key (minisign .pub file or base64) the volumes must be signed with')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'nora;gc' {
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'Keep unreferenced blobs and temp files younger than this (e.g. 1h, 30m; 0s only for a bundle nobody is pushing to)')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print what would be removed, remove nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'nora;pack' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output file; volumes are named OUT with .001, .002… before .tar.zst')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output file; volumes are named OUT with .001, .002… before .tar.zst')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Leave out what this receipt (from `nora receipt` on the far side) says is held')
            [CompletionResult]::new('--split', '--split', [CompletionResultType]::ParameterName, 'Split into volumes smaller than SIZE (e.g. 4G, 700M; binary units)')
            [CompletionResult]::new('--sign', '--sign', [CompletionResultType]::ParameterName, 'Sign every volume manifest with this minisign secret key')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('--gzip', '--gzip', [CompletionResultType]::ParameterName, 'Compress with gzip instead of zstd')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print what would go in and its size; write nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'nora;unpack' {
            [CompletionResult]::new('--discard', '--discard', [CompletionResultType]::ParameterName, 'Drop a partly unpacked pack that can never complete (a volume was lost): PACK-ID or its first 8+ hex digits, as `nora verify` lists them. Its blobs are left to gc')
            [CompletionResult]::new('--on-conflict', '--on-conflict', [CompletionResultType]::ParameterName, 'Settle conflicting refs: keep the bundle''s or replace them with the pack''s')
            [CompletionResult]::new('--require-signature', '--require-signature', [CompletionResultType]::ParameterName, 'Refuse volumes not signed with this public key (minisign .pub file or base64)')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask; replace conflicting refs with the pack''s')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask; replace conflicting refs with the pack''s')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'nora;receipt' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Receipt file to write')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Receipt file to write')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'nora;backup' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Backup file to write')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Backup file to write')
            [CompletionResult]::new('--split', '--split', [CompletionResultType]::ParameterName, 'Split into volumes smaller than SIZE')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'nora;restore' {
            [CompletionResult]::new('--on-conflict', '--on-conflict', [CompletionResultType]::ParameterName, 'Settle conflicting refs without asking')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask; take the backup''s version of conflicting refs')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask; take the backup''s version of conflicting refs')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'nora;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on [default: 127.0.0.1:4000]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'TOML settings file')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log format: text or json [default: text]')
            [CompletionResult]::new('--raw-max-size', '--raw-max-size', [CompletionResultType]::ParameterName, 'Largest raw file accepted, e.g. 1GiB [default: no limit]')
            [CompletionResult]::new('--blob-max-size', '--blob-max-size', [CompletionResultType]::ParameterName, 'Largest OCI blob upload accepted [default: no limit]')
            [CompletionResult]::new('--publish-max-size', '--publish-max-size', [CompletionResultType]::ParameterName, 'Largest package publish accepted (Cargo, npm, PyPI, Maven) [default: 512MiB]')
            [CompletionResult]::new('--public-url', '--public-url', [CompletionResultType]::ParameterName, 'The URL clients reach this server at, for links in package metadata (behind a reverse proxy) [default: from X-Forwarded-Proto/Host or Host]')
            [CompletionResult]::new('--manifest-max-size', '--manifest-max-size', [CompletionResultType]::ParameterName, 'Largest manifest accepted [default: 4MiB]')
            [CompletionResult]::new('--htpasswd', '--htpasswd', [CompletionResultType]::ParameterName, 'An htpasswd file of bcrypt users (turns authentication on)')
            [CompletionResult]::new('--upstream', '--upstream', [CompletionResultType]::ParameterName, 'Pull through from an upstream: a miss is fetched, checked, stored and answered (repeatable; ECOSYSTEM is oci, maven, npm, pypi, cargo, go or raw; e.g. npm=https://registry.npmjs.org). Credentials: NORA_UPSTREAM_TOKEN, and for OCI NORA_UPSTREAM_USER and NORA_UPSTREAM_PASSWORD')
            [CompletionResult]::new('--upstream-ttl', '--upstream-ttl', [CompletionResultType]::ParameterName, 'Age after which upstream metadata (packuments, pages, index files, tags, …) is fetched again [default: 5m]')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'Connections open at once [default: 4096, fewer if the open-file limit is lower]')
            [CompletionResult]::new('--max-connections-per-client', '--max-connections-per-client', [CompletionResultType]::ParameterName, 'Connections one client address may hold at once; more are closed at once [default: 256]')
            [CompletionResult]::new('--header-timeout', '--header-timeout', [CompletionResultType]::ParameterName, 'Time a client has to send a whole request head, from its first byte [default: 30s]')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Time a connection may wait between requests, or stall while a response is sent, before it is closed [default: 75s]')
            [CompletionResult]::new('--max-uploads', '--max-uploads', [CompletionResultType]::ParameterName, 'OCI upload sessions open at once [default: 1000]')
            [CompletionResult]::new('--max-uploads-per-client', '--max-uploads-per-client', [CompletionResultType]::ParameterName, 'OCI upload sessions one client (user, else address) may hold at once [default: 100]')
            [CompletionResult]::new('--upload-expiry', '--upload-expiry', [CompletionResultType]::ParameterName, 'Idle time after which an OCI upload session ends and what it received is deleted [default: 168h]')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('--auth', '--auth', [CompletionResultType]::ParameterName, 'Require credentials: API tokens (`nora token create`) and, with --htpasswd, users')
            [CompletionResult]::new('--anonymous-read', '--anonymous-read', [CompletionResultType]::ParameterName, 'Let requests without credentials pull and list (turns authentication on)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'nora;token' {
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a token and print it (once)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List tokens (never their secrets)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a token by id or name')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'nora;token;create' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'A name to tell it by')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'read (pull), write (also push and delete) or admin (also /metrics)')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'nora;token;list' {
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'nora;token;revoke' {
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'nora;token;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a token and print it (once)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List tokens (never their secrets)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a token by id or name')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'nora;token;help;create' {
            break
        }
        'nora;token;help;list' {
            break
        }
        'nora;token;help;revoke' {
            break
        }
        'nora;token;help;help' {
            break
        }
        'nora;key' {
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Generate a key pair: KEY (secret, unencrypted, mode 0600) and KEY.pub')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'nora;key;generate' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Secret key file to write; the public key goes beside it with .pub')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Secret key file to write; the public key goes beside it with .pub')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'nora;key;help' {
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Generate a key pair: KEY (secret, unencrypted, mode 0600) and KEY.pub')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'nora;key;help;generate' {
            break
        }
        'nora;key;help;help' {
            break
        }
        'nora;mirror' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'A mirror.toml listing what to mirror and from where')
            [CompletionResult]::new('--npm-lock', '--npm-lock', [CompletionResultType]::ParameterName, 'A package-lock.json, npm-shrinkwrap.json or yarn.lock (repeatable)')
            [CompletionResult]::new('--npm', '--npm', [CompletionResultType]::ParameterName, 'An npm package as name[@range] (range or dist-tag; default latest), mirrored with its dependency tree resolved against the registry (repeatable)')
            [CompletionResult]::new('--npm-registry', '--npm-registry', [CompletionResultType]::ParameterName, 'npm registry to fetch packages from [default: https://registry.npmjs.org]')
            [CompletionResult]::new('--pypi-lock', '--pypi-lock', [CompletionResultType]::ParameterName, 'A requirements file, uv.lock, poetry.lock or pylock.toml (repeatable)')
            [CompletionResult]::new('--pypi-index', '--pypi-index', [CompletionResultType]::ParameterName, 'PyPI simple index to fetch distributions from [default: https://pypi.org/simple]')
            [CompletionResult]::new('--python-version', '--python-version', [CompletionResultType]::ParameterName, 'Take only wheels that run on this Python version, e.g. 3.11 (repeatable)')
            [CompletionResult]::new('--wheel-platform', '--wheel-platform', [CompletionResultType]::ParameterName, 'Take only wheels for this platform tag, e.g. manylinux_2_17_x86_64 (repeatable)')
            [CompletionResult]::new('--cargo-lock', '--cargo-lock', [CompletionResultType]::ParameterName, 'A Cargo.lock whose registry crates to mirror (repeatable)')
            [CompletionResult]::new('--cargo-index', '--cargo-index', [CompletionResultType]::ParameterName, 'Sparse index to fetch crates.io''s crates from (crates of other sparse registries come from the registry their lock entry names) [default: sparse+https://index.crates.io/]')
            [CompletionResult]::new('--go-sum', '--go-sum', [CompletionResultType]::ParameterName, 'A go.sum whose modules to mirror (repeatable)')
            [CompletionResult]::new('--go-mod', '--go-mod', [CompletionResultType]::ParameterName, 'go.mod whose module graph to mirror, resolved through the proxy (repeatable); the go.sum beside it is read too, else --go-sumdb is needed to check the modules')
            [CompletionResult]::new('--go-proxy', '--go-proxy', [CompletionResultType]::ParameterName, 'GOPROXY to fetch modules from [default: https://proxy.golang.org]')
            [CompletionResult]::new('--go-sumdb', '--go-sumdb', [CompletionResultType]::ParameterName, 'Check Go modules against this checksum database and carry its records and proofs, so `nora serve` answers GOSUMDB on the far side: `NAME+HASH+KEY [URL]` as GOSUMDB is written (sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8)')
            [CompletionResult]::new('--maven', '--maven', [CompletionResultType]::ParameterName, 'Maven coordinates group:artifact:version[:classifier][@type], mirrored with what they depend on (repeatable)')
            [CompletionResult]::new('--maven-pom', '--maven-pom', [CompletionResultType]::ParameterName, 'A project''s pom.xml whose dependencies (and their parents and BOMs) to mirror (repeatable)')
            [CompletionResult]::new('--maven-repo', '--maven-repo', [CompletionResultType]::ParameterName, 'Maven repository to fetch from [default: https://repo.maven.apache.org/maven2]')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'A container image to mirror: name[:tag] or name@sha256:… (repeatable). Names without a registry host are Docker Hub''s (library/ for one-component names)')
            [CompletionResult]::new('--platform', '--platform', [CompletionResultType]::ParameterName, 'Of multi-platform images take only this platform, os/arch[/variant] (repeatable; default: all)')
            [CompletionResult]::new('--raw', '--raw', [CompletionResultType]::ParameterName, 'A file to fetch, as URL#sha256=HEX; stored under /raw/<host>/<path> (repeatable)')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Artifacts fetched at once per ecosystem [default: 8]')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Artifacts fetched at once per ecosystem [default: 8]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds an upstream may stay silent before a fetch gives up (and is retried)')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('--referrers', '--referrers', [CompletionResultType]::ParameterName, 'Also mirror the referrers (signatures, SBOMs) of each image')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'List what would be fetched; fetch nothing')
            [CompletionResult]::new('--keep-going', '--keep-going', [CompletionResultType]::ParameterName, 'Mirror the rest after a failure (the exit code still reports it)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'nora;completions' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Write scripts for bash, zsh, fish, powershell and elvish into DIR')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'nora;man' {
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle directory to work on')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON on stdout instead of text')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for debug logs); logs go to stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'nora;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create an empty bundle (or confirm an existing one)')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Import local artifacts into the bundle')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List the bundle''s refs with their sizes')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check every blob''s digest, every ref''s blobs and OCI graph, and ecosystem hashes')
            [CompletionResult]::new('gc', 'gc', [CompletionResultType]::ParameterValue, 'Remove blobs no ref reaches and stale temp files')
            [CompletionResult]::new('pack', 'pack', [CompletionResultType]::ParameterValue, 'Write the bundle (or what a receipt says the far side lacks) into a pack')
            [CompletionResult]::new('unpack', 'unpack', [CompletionResultType]::ParameterValue, 'Verify pack volumes and add their content to the bundle')
            [CompletionResult]::new('receipt', 'receipt', [CompletionResultType]::ParameterValue, 'Write a receipt of what the bundle holds, for `nora pack --since` on the other side')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Write a full backup of the bundle (a complete pack marked as a backup)')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Restore a backup made by `nora backup` (or any full pack)')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve the bundle over HTTP: OCI/Docker at /v2/, npm at /npm/, PyPI at /simple/, Cargo at /cargo/, Go modules at /go/, Maven at /maven2/, raw files at /raw/, plus /health, /ready and /metrics')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Manage API tokens for `nora serve --auth`')
            [CompletionResult]::new('key', 'key', [CompletionResultType]::ParameterValue, 'Manage minisign-compatible Ed25519 keys for signing packs')
            [CompletionResult]::new('mirror', 'mirror', [CompletionResultType]::ParameterValue, 'Fill the bundle with what lockfiles pin, fetched from upstream registries')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script, or write all of them into a directory')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Write man pages (nora.1 and nora-VERB.1 for each verb) into DIR')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'nora;help;init' {
            break
        }
        'nora;help;add' {
            break
        }
        'nora;help;ls' {
            break
        }
        'nora;help;verify' {
            break
        }
        'nora;help;gc' {
            break
        }
        'nora;help;pack' {
            break
        }
        'nora;help;unpack' {
            break
        }
        'nora;help;receipt' {
            break
        }
        'nora;help;backup' {
            break
        }
        'nora;help;restore' {
            break
        }
        'nora;help;serve' {
            break
        }
        'nora;help;token' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a token and print it (once)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List tokens (never their secrets)')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a token by id or name')
            break
        }
        'nora;help;token;create' {
            break
        }
        'nora;help;token;list' {
            break
        }
        'nora;help;token;revoke' {
            break
        }
        'nora;help;key' {
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Generate a key pair: KEY (secret, unencrypted, mode 0600) and KEY.pub')
            break
        }
        'nora;help;key;generate' {
            break
        }
        'nora;help;mirror' {
            break
        }
        'nora;help;completions' {
            break
        }
        'nora;help;man' {
            break
        }
        'nora;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
