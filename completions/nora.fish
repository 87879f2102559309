# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_nora_global_optspecs
    string join \n bundle= json q/quiet v/verbose h/help V/version
end

function __fish_nora_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_nora_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_nora_using_subcommand
    set -l cmd (__fish_nora_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c nora -n "__fish_nora_needs_command" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_needs_command" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_needs_command" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_needs_command" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nora -n "__fish_nora_needs_command" -s V -l version -d 'Print version'
complete -c nora -n "__fish_nora_needs_command" -f -a "init" -d 'Create an empty bundle (or confirm an existing one)'
complete -c nora -n "__fish_nora_needs_command" -f -a "add" -d 'Import local artifacts into the bundle'
complete -c nora -n "__fish_nora_needs_command" -f -a "ls" -d 'List the bundle\'s refs with their sizes'
complete -c nora -n "__fish_nora_needs_command" -f -a "verify" -d 'Check every blob\'s digest, every ref\'s blobs and OCI graph, and ecosystem hashes'
complete -c nora -n "__fish_nora_needs_command" -f -a "gc" -d 'Remove blobs no ref reaches and stale temp files'
complete -c nora -n "__fish_nora_needs_command" -f -a "pack" -d 'Write the bundle (or what a receipt says the far side lacks) into a pack'
complete -c nora -n "__fish_nora_needs_command" -f -a "unpack" -d 'Verify pack volumes and add their content to the bundle'
complete -c nora -n "__fish_nora_needs_command" -f -a "receipt" -d 'Write a receipt of what the bundle holds, for `nora pack --since` on the other side'
complete -c nora -n "__fish_nora_needs_command" -f -a "backup" -d 'Write a full backup of the bundle (a complete pack marked as a backup)'
complete -c nora -n "__fish_nora_needs_command" -f -a "restore" -d 'Restore a backup made by `nora backup` (or any full pack)'
complete -c nora -n "__fish_nora_needs_command" -f -a "serve" -d 'Serve the bundle over HTTP: OCI/Docker at /v2/, npm at /npm/, PyPI at /simple/, Cargo at /cargo/, Go modules at /go/, Maven at /maven2/, raw files at /raw/, plus /health, /ready and /metrics'
complete -c nora -n "__fish_nora_needs_command" -f -a "token" -d 'Manage API tokens for `nora serve --auth`'
complete -c nora -n "__fish_nora_needs_command" -f -a "key" -d 'Manage minisign-compatible Ed25519 keys for signing packs'
complete -c nora -n "__fish_nora_needs_command" -f -a "mirror" -d 'Fill the bundle with what lockfiles pin, fetched from upstream registries'
complete -c nora -n "__fish_nora_needs_command" -f -a "completions" -d 'Print a shell completion script, or write all of them into a directory'
complete -c nora -n "__fish_nora_needs_command" -f -a "man" -d 'Write man pages (nora.1 and nora-VERB.1 for each verb) into DIR'
complete -c nora -n "__fish_nora_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c nora -n "__fish_nora_using_subcommand init" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_using_subcommand init" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_using_subcommand init" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_using_subcommand init" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nora -n "__fish_nora_using_subcommand add" -l name -d 'oci: repository[:tag] for layouts whose manifests name none' -r
complete -c nora -n "__fish_nora_using_subcommand add" -l module -d 'go: module path, checked against the zip' -r
complete -c nora -n "__fish_nora_using_subcommand add" -l version -d 'go: module version, checked against the zip' -r
complete -c nora -n "__fish_nora_using_subcommand add" -l go-mod -d 'go: the module\'s .mod file (default: go.mod inside the zip)' -r -F
complete -c nora -n "__fish_nora_using_subcommand add" -l go-info -d 'go: the module\'s .info file (default: generated)' -r -F
complete -c nora -n "__fish_nora_using_subcommand add" -l gav -d 'maven: coordinates group:artifact:version[:classifier][@extension]' -r
complete -c nora -n "__fish_nora_using_subcommand add" -l path -d 'raw: path to store the file at (default: its file name)' -r
complete -c nora -n "__fish_nora_using_subcommand add" -l content-type -d 'raw: content type (default: guessed from the extension)' -r
complete -c nora -n "__fish_nora_using_subcommand add" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_using_subcommand add" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_using_subcommand add" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_using_subcommand add" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_using_subcommand add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nora -n "__fish_nora_using_subcommand ls" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_using_subcommand ls" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_using_subcommand ls" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_using_subcommand ls" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_using_subcommand ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nora -n "__fish_nora_using_subcommand verify" -l pack -d 'Check these pack volumes instead of the bundle' -r -F
complete -c nora -n "__fish_nora_using_subcommand verify" -l key -d 'Public key (minisign .pub file or base64) the volumes must be signed with' -r
complete -c nora -n "__fish_nora_using_subcommand verify" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_using_subcommand verify" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_using_subcommand verify" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_using_subcommand verify" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nora -n "__fish_nora_using_subcommand gc" -l grace -d 'Keep unreferenced blobs and temp files younger than this (e.g. 1h, 30m; 0s only for a bundle nobody is pushing to)' -r
complete -c nora -n "__fish_nora_using_subcommand gc" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_using_subcommand gc" -l dry-run -d 'Print what would be removed, remove nothing'
complete -c nora -n "__fish_nora_using_subcommand gc" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_using_subcommand gc" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_using_subcommand gc" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_using_subcommand gc" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nora -n "__fish_nora_using_subcommand pack" -s o -l output -d 'Output file; volumes are named OUT with .001, .002… before .tar.zst' -r -F
complete -c nora -n "__fish_nora_using_subcommand pack" -l since -d 'Leave out what this receipt (from `nora receipt` on the far side) says is held' -r -F
complete -c nora -n "__fish_nora_using_subcommand pack" -l split -d 'Split into volumes smaller than SIZE (e.g. 4G, 700M; binary units)' -r
complete -c nora -n "__fish_nora_using_subcommand pack" -l sign -d 'Sign every volume manifest with this minisign secret key' -r -F
complete -c nora -n "__fish_nora_using_subcommand pack" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_using_subcommand pack" -l gzip -d 'Compress with gzip instead of zstd'
complete -c nora -n "__fish_nora_using_subcommand pack" -l dry-run -d 'Print what would go in and its size; write nothing'
complete -c nora -n "__fish_nora_using_subcommand pack" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_using_subcommand pack" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_using_subcommand pack" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_using_subcommand pack" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nora -n "__fish_nora_using_subcommand unpack" -l discard -d 'Drop a partly unpacked pack that can never complete (a volume was lost): PACK-ID or its first 8+ hex digits, as `nora verify` lists them. Its blobs are left to gc' -r
complete -c nora -n "__fish_nora_using_subcommand unpack" -l on-conflict -d 'Settle conflicting refs: keep the bundle\'s or replace them with the pack\'s' -r -f -a "keep\t'Keep the bundle\'s version of conflicting refs'
replace\t'Take the incoming version of conflicting refs'"
complete -c nora -n "__fish_nora_using_subcommand unpack" -l require-signature -d 'Refuse volumes not signed with this public key (minisign .pub file or base64)' -r
complete -c nora -n "__fish_nora_using_subcommand unpack" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_using_subcommand unpack" -s y -l yes -d 'Do not ask; replace conflicting refs with the pack\'s'
complete -c nora -n "__fish_nora_using_subcommand unpack" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_using_subcommand unpack" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_using_subcommand unpack" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_using_subcommand unpack" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nora -n "__fish_nora_using_subcommand receipt" -s o -l output -d 'Receipt file to write' -r -F
complete -c nora -n "__fish_nora_using_subcommand receipt" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_using_subcommand receipt" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_using_subcommand receipt" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_using_subcommand receipt" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_using_subcommand receipt" -s h -l help -d 'Print help'
complete -c nora -n "__fish_nora_using_subcommand backup" -s o -l output -d 'Backup file to write' -r -F
complete -c nora -n "__fish_nora_using_subcommand backup" -l split -d 'Split into volumes smaller than SIZE' -r
complete -c nora -n "__fish_nora_using_subcommand backup" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_using_subcommand backup" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_using_subcommand backup" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_using_subcommand backup" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_using_subcommand backup" -s h -l help -d 'Print help'
complete -c nora -n "__fish_nora_using_subcommand restore" -l on-conflict -d 'Settle conflicting refs without asking' -r -f -a "keep\t'Keep the bundle\'s version of conflicting refs'
replace\t'Take the incoming version of conflicting refs'"
complete -c nora -n "__fish_nora_using_subcommand restore" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_using_subcommand restore" -s y -l yes -d 'Do not ask; take the backup\'s version of conflicting refs'
complete -c nora -n "__fish_nora_using_subcommand restore" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_using_subcommand restore" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_using_subcommand restore" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_using_subcommand restore" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nora -n "__fish_nora_using_subcommand serve" -l listen -d 'Address to listen on [default: 127.0.0.1:4000]' -r
complete -c nora -n "__fish_nora_using_subcommand serve" -l config -d 'TOML settings file' -r -F
complete -c nora -n "__fish_nora_using_subcommand serve" -l log-format -d 'Log format: text or json [default: text]' -r
complete -c nora -n "__fish_nora_using_subcommand serve" -l raw-max-size -d 'Largest raw file accepted, e.g. 1GiB [default: no limit]' -r
complete -c nora -n "__fish_nora_using_subcommand serve" -l blob-max-size -d 'Largest OCI blob upload accepted [default: no limit]' -r
complete -c nora -n "__fish_nora_using_subcommand serve" -l publish-max-size -d 'Largest package publish accepted (Cargo, npm, PyPI, Maven) [default: 512MiB]' -r
complete -c nora -n "__fish_nora_using_subcommand serve" -l public-url -d 'The URL clients reach this server at, for links in package metadata (behind a reverse proxy) [default: from X-Forwarded-Proto/Host or Host]' -r
complete -c nora -n "__fish_nora_using_subcommand serve" -l manifest-max-size -d 'Largest manifest accepted [default: 4MiB]' -r
complete -c nora -n "__fish_nora_using_subcommand serve" -l htpasswd -d 'An htpasswd file of bcrypt users (turns authentication on)' -r -F
complete -c nora -n "__fish_nora_using_subcommand serve" -l upstream -d 'Pull through from an upstream: a miss is fetched, checked, stored and answered (repeatable; ECOSYSTEM is oci, maven, npm, pypi, cargo, go or raw; e.g. npm=https://registry.npmjs.org). Credentials: NORA_UPSTREAM_TOKEN, and for OCI NORA_UPSTREAM_USER and NORA_UPSTREAM_PASSWORD' -r
complete -c nora -n "__fish_nora_using_subcommand serve" -l upstream-ttl -d 'Age after which upstream metadata (packuments, pages, index files, tags, …) is fetched again [default: 5m]' -r
complete -c nora -n "__fish_nora_using_subcommand serve" -l max-connections -d 'Connections open at once [default: 4096, fewer if the open-file limit is lower]' -r
complete -c nora -n "__fish_nora_using_subcommand serve" -l max-connections-per-client -d 'Connections one client address may hold at once; more are closed at once [default: 256]' -r
complete -c nora -n "__fish_nora_using_subcommand serve" -l header-timeout -d 'Time a client has to send a whole request head, from its first byte [default: 30s]' -r
complete -c nora -n "__fish_nora_using_subcommand serve" -l idle-timeout -d 'Time a connection may wait between requests, or stall while a response is sent, before it is closed [default: 75s]' -r
complete -c nora -n "__fish_nora_using_subcommand serve" -l max-uploads -d 'OCI upload sessions open at once [default: 1000]' -r
complete -c nora -n "__fish_nora_using_subcommand serve" -l max-uploads-per-client -d 'OCI upload sessions one client (user, else address) may hold at once [default: 100]' -r
complete -c nora -n "__fish_nora_using_subcommand serve" -l upload-expiry -d 'Idle time after which an OCI upload session ends and what it received is deleted [default: 168h]' -r
complete -c nora -n "__fish_nora_using_subcommand serve" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_using_subcommand serve" -l auth -d 'Require credentials: API tokens (`nora token create`) and, with --htpasswd, users'
complete -c nora -n "__fish_nora_using_subcommand serve" -l anonymous-read -d 'Let requests without credentials pull and list (turns authentication on)'
complete -c nora -n "__fish_nora_using_subcommand serve" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_using_subcommand serve" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_using_subcommand serve" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nora -n "__fish_nora_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nora -n "__fish_nora_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "create" -d 'Create a token and print it (once)'
complete -c nora -n "__fish_nora_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "list" -d 'List tokens (never their secrets)'
complete -c nora -n "__fish_nora_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "revoke" -d 'Revoke a token by id or name'
complete -c nora -n "__fish_nora_using_subcommand token; and not __fish_seen_subcommand_from create list revoke help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from create" -l name -d 'A name to tell it by' -r
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from create" -l role -d 'read (pull), write (also push and delete) or admin (also /metrics)' -r
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from create" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from create" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from list" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from list" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from revoke" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from revoke" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from revoke" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from revoke" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help'
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a token and print it (once)'
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "list" -d 'List tokens (never their secrets)'
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'Revoke a token by id or name'
complete -c nora -n "__fish_nora_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c nora -n "__fish_nora_using_subcommand key; and not __fish_seen_subcommand_from generate help" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_using_subcommand key; and not __fish_seen_subcommand_from generate help" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_using_subcommand key; and not __fish_seen_subcommand_from generate help" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_using_subcommand key; and not __fish_seen_subcommand_from generate help" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_using_subcommand key; and not __fish_seen_subcommand_from generate help" -s h -l help -d 'Print help'
complete -c nora -n "__fish_nora_using_subcommand key; and not __fish_seen_subcommand_from generate help" -f -a "generate" -d 'Generate a key pair: KEY (secret, unencrypted, mode 0600) and KEY.pub'
complete -c nora -n "__fish_nora_using_subcommand key; and not __fish_seen_subcommand_from generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c nora -n "__fish_nora_using_subcommand key; and __fish_seen_subcommand_from generate" -s o -l output -d 'Secret key file to write; the public key goes beside it with .pub' -r -F
complete -c nora -n "__fish_nora_using_subcommand key; and __fish_seen_subcommand_from generate" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_using_subcommand key; and __fish_seen_subcommand_from generate" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_using_subcommand key; and __fish_seen_subcommand_from generate" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_using_subcommand key; and __fish_seen_subcommand_from generate" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_using_subcommand key; and __fish_seen_subcommand_from generate" -s h -l help -d 'Print help'
complete -c nora -n "__fish_nora_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "generate" -d 'Generate a key pair: KEY (secret, unencrypted, mode 0600) and KEY.pub'
complete -c nora -n "__fish_nora_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c nora -n "__fish_nora_using_subcommand mirror" -l config -d 'A mirror.toml listing what to mirror and from where' -r -F
complete -c nora -n "__fish_nora_using_subcommand mirror" -l npm-lock -d 'A package-lock.json, npm-shrinkwrap.json or yarn.lock (repeatable)' -r -F
complete -c nora -n "__fish_nora_using_subcommand mirror" -l npm -d 'An npm package as name[@range] (range or dist-tag; default latest), mirrored with its dependency tree resolved against the registry (repeatable)' -r
complete -c nora -n "__fish_nora_using_subcommand mirror" -l npm-registry -d 'npm registry to fetch packages from [default: https://registry.npmjs.org]' -r
complete -c nora -n "__fish_nora_using_subcommand mirror" -l pypi-lock -d 'A requirements file, uv.lock, poetry.lock or pylock.toml (repeatable)' -r -F
complete -c nora -n "__fish_nora_using_subcommand mirror" -l pypi-index -d 'PyPI simple index to fetch distributions from [default: https://pypi.org/simple]' -r
complete -c nora -n "__fish_nora_using_subcommand mirror" -l python-version -d 'Take only wheels that run on this Python version, e.g. 3.11 (repeatable)' -r
complete -c nora -n "__fish_nora_using_subcommand mirror" -l wheel-platform -d 'Take only wheels for this platform tag, e.g. manylinux_2_17_x86_64 (repeatable)' -r
complete -c nora -n "__fish_nora_using_subcommand mirror" -l cargo-lock -d 'A Cargo.lock whose registry crates to mirror (repeatable)' -r -F
complete -c nora -n "__fish_nora_using_subcommand mirror" -l cargo-index -d 'Sparse index to fetch crates.io\'s crates from (crates of other sparse registries come from the registry their lock entry names) [default: sparse+https://index.crates.io/]' -r
complete -c nora -n "__fish_nora_using_subcommand mirror" -l go-sum -d 'A go.sum whose modules to mirror (repeatable)' -r -F
complete -c nora -n "__fish_nora_using_subcommand mirror" -l go-mod -d 'go.mod whose module graph to mirror, resolved through the proxy (repeatable); the go.sum beside it is read too, else --go-sumdb is needed to check the modules' -r -F
complete -c nora -n "__fish_nora_using_subcommand mirror" -l go-proxy -d 'GOPROXY to fetch modules from [default: https://proxy.golang.org]' -r
complete -c nora -n "__fish_nora_using_subcommand mirror" -l go-sumdb -d 'Check Go modules against this checksum database and carry its records and proofs, so `nora serve` answers GOSUMDB on the far side: `NAME+HASH+KEY [URL]` as GOSUMDB is written (sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8)' -r
complete -c nora -n "__fish_nora_using_subcommand mirror" -l maven -d 'Maven coordinates group:artifact:version[:classifier][@type], mirrored with what they depend on (repeatable)' -r
complete -c nora -n "__fish_nora_using_subcommand mirror" -l maven-pom -d 'A project\'s pom.xml whose dependencies (and their parents and BOMs) to mirror (repeatable)' -r -F
complete -c nora -n "__fish_nora_using_subcommand mirror" -l maven-repo -d 'Maven repository to fetch from [default: https://repo.maven.apache.org/maven2]' -r
complete -c nora -n "__fish_nora_using_subcommand mirror" -l image -d 'A container image to mirror: name[:tag] or name@sha256:… (repeatable). Names without a registry host are Docker Hub\'s (library/ for one-component names)' -r
complete -c nora -n "__fish_nora_using_subcommand mirror" -l platform -d 'Of multi-platform images take only this platform, os/arch[/variant] (repeatable; default: all)' -r
complete -c nora -n "__fish_nora_using_subcommand mirror" -l raw -d 'A file to fetch, as URL#sha256=HEX; stored under /raw/<host>/<path> (repeatable)' -r
complete -c nora -n "__fish_nora_using_subcommand mirror" -s j -l jobs -d 'Artifacts fetched at once per ecosystem [default: 8]' -r
complete -c nora -n "__fish_nora_using_subcommand mirror" -l timeout -d 'Seconds an upstream may stay silent before a fetch gives up (and is retried)' -r
complete -c nora -n "__fish_nora_using_subcommand mirror" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_using_subcommand mirror" -l referrers -d 'Also mirror the referrers (signatures, SBOMs) of each image'
complete -c nora -n "__fish_nora_using_subcommand mirror" -l dry-run -d 'List what would be fetched; fetch nothing'
complete -c nora -n "__fish_nora_using_subcommand mirror" -l keep-going -d 'Mirror the rest after a failure (the exit code still reports it)'
complete -c nora -n "__fish_nora_using_subcommand mirror" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_using_subcommand mirror" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_using_subcommand mirror" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_using_subcommand mirror" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c nora -n "__fish_nora_using_subcommand completions" -l dir -d 'Write scripts for bash, zsh, fish, powershell and elvish into DIR' -r -F
complete -c nora -n "__fish_nora_using_subcommand completions" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_using_subcommand completions" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_using_subcommand completions" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_using_subcommand completions" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_using_subcommand completions" -s h -l help -d 'Print help'
complete -c nora -n "__fish_nora_using_subcommand man" -l bundle -d 'Bundle directory to work on' -r -F
complete -c nora -n "__fish_nora_using_subcommand man" -l json -d 'Print machine-readable JSON on stdout instead of text'
complete -c nora -n "__fish_nora_using_subcommand man" -s q -l quiet -d 'Print nothing but errors'
complete -c nora -n "__fish_nora_using_subcommand man" -s v -l verbose -d 'Log more (repeat for debug logs); logs go to stderr'
complete -c nora -n "__fish_nora_using_subcommand man" -s h -l help -d 'Print help'
complete -c nora -n "__fish_nora_using_subcommand help; and not __fish_seen_subcommand_from init add ls verify gc pack unpack receipt backup restore serve token key mirror completions man help" -f -a "init" -d 'Create an empty bundle (or confirm an existing one)'
complete -c nora -n "__fish_nora_using_subcommand help; and not __fish_seen_subcommand_from init add ls verify gc pack unpack receipt backup restore serve token key mirror completions man help" -f -a "add" -d 'Import local artifacts into the bundle'
complete -c nora -n "__fish_nora_using_subcommand help; and not __fish_seen_subcommand_from init add ls verify gc pack unpack receipt backup restore serve token key mirror completions man help" -f -a "ls" -d 'List the bundle\'s refs with their sizes'
complete -c nora -n "__fish_nora_using_subcommand help; and not __fish_seen_subcommand_from init add ls verify gc pack unpack receipt backup restore serve token key mirror completions man help" -f -a "verify" -d 'Check every blob\'s digest, every ref\'s blobs and OCI graph, and ecosystem hashes'
complete -c nora -n "__fish_nora_using_subcommand help; and not __fish_seen_subcommand_from init add ls verify gc pack unpack receipt backup restore serve token key mirror completions man help" -f -a "gc" -d 'Remove blobs no ref reaches and stale temp files'
complete -c nora -n "__fish_nora_using_subcommand help; and not __fish_seen_subcommand_from init add ls verify gc pack unpack receipt backup restore serve token key mirror completions man help" -f -a "pack" -d 'Write the bundle (or what a receipt says the far side lacks) into a pack'
complete -c nora -n "__fish_nora_using_subcommand help; and not __fish_seen_subcommand_from init add ls verify gc pack unpack receipt backup restore serve token key mirror completions man help" -f -a "unpack" -d 'Verify pack volumes and add their content to the bundle'
complete -c nora -n "__fish_nora_using_subcommand help; and not __fish_seen_subcommand_from init add ls verify gc pack unpack receipt backup restore serve token key mirror completions man help" -f -a "receipt" -d 'Write a receipt of what the bundle holds, for `nora pack --since` on the other side'
complete -c nora -n "__fish_nora_using_subcommand help; and not __fish_seen_subcommand_from init add ls verify gc pack unpack receipt backup restore serve token key mirror completions man help" -f -a "backup" -d 'Write a full backup of the bundle (a complete pack marked as a backup)'
complete -c nora -n "__fish_nora_using_subcommand help; and not __fish_seen_subcommand_from init add ls verify gc pack unpack receipt backup restore serve token key mirror completions man help" -f -a "restore" -d 'Restore a backup made by `nora backup` (or any full pack)'
complete -c nora -n "__fish_nora_using_subcommand help; and not __fish_seen_subcommand_from init add ls verify gc pack unpack receipt backup restore serve token key mirror completions man help" -f -a "serve" -d 'Serve the bundle over HTTP: OCI/Docker at /v2/, npm at /npm/, PyPI at /simple/, Cargo at /cargo/, Go modules at /go/, Maven at /maven2/, raw files at /raw/, plus /health, /ready and /metrics'
complete -c nora -n "__fish_nora_using_subcommand help; and not __fish_seen_subcommand_from init add ls verify gc pack unpack receipt backup restore serve token key mirror completions man help" -f -a "token" -d 'Manage API tokens for `nora serve --auth`'
complete -c nora -n "__fish_nora_using_subcommand help; and not __fish_seen_subcommand_from init add ls verify gc pack unpack receipt backup restore serve token key mirror completions man help" -f -a "key" -d 'Manage minisign-compatible Ed25519 keys for signing packs'
complete -c nora -n "__fish_nora_using_subcommand help; and not __fish_seen_subcommand_from init add ls verify gc pack unpack receipt backup restore serve token key mirror completions man help" -f -a "mirror" -d 'Fill the bundle with what lockfiles pin, fetched from upstream registries'
complete -c nora -n "__fish_nora_using_subcommand help; and not __fish_seen_subcommand_from init add ls verify gc pack unpack receipt backup restore serve token key mirror completions man help" -f -a "completions" -d 'Print a shell completion script, or write all of them into a directory'
complete -c nora -n "__fish_nora_using_subcommand help; and not __fish_seen_subcommand_from init add ls verify gc pack unpack receipt backup restore serve token key mirror completions man help" -f -a "man" -d 'Write man pages (nora.1 and nora-VERB.1 for each verb) into DIR'
complete -c nora -n "__fish_nora_using_subcommand help; and not __fish_seen_subcommand_from init add ls verify gc pack unpack receipt backup restore serve token key mirror completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c nora -n "__fish_nora_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "create" -d 'Create a token and print it (once)'
complete -c nora -n "__fish_nora_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "list" -d 'List tokens (never their secrets)'
complete -c nora -n "__fish_nora_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "revoke" -d 'Revoke a token by id or name'
complete -c nora -n "__fish_nora_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "generate" -d 'Generate a key pair: KEY (secret, unencrypted, mode 0600) and KEY.pub'
