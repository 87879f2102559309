//! Signed notes as a Go checksum database writes them: the verifier key a client is
//! configured with (`GOSUMDB="name+hash+key"`), the check of a note's Ed25519 signature,
//! and the tree head and lookup record they carry.

use super::tlog::Hash;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use sha2::{Digest as _, Sha256};

/// A verifier key: the database's name and its Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    /// Database name (`sum.golang.org`).
    pub name: String,
    /// The 4-byte key hash that signature lines carry.
    pub hash: u32,
    key: VerifyingKey,
    /// The key as given.
    pub text: String,
}

impl Verifier {
    /// Parses `name+hash+base64key` (algorithm 1, Ed25519), checking the hash.
    pub fn parse(text: &str) -> Result<Verifier, String> {
        let bad = |why: &str| {
            format!("{text:?} is not a checksum database key ({why}); expected NAME+HASH+KEY as in GOSUMDB")
        };
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("three parts joined by '+'"));
        };
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(bad("a name"));
        }
        let hash = u32::from_str_radix(hash, 16)
            .ok()
            .filter(|_| hash.len() == 8)
            .ok_or_else(|| bad("eight hex digits of key hash"))?;
        let raw = B64.decode(key).map_err(|_| bad("base64 key"))?;
        if raw.len() != 33 || raw[0] != 1 {
            return Err(bad("an Ed25519 key"));
        }
        if key_hash(name, &raw) != hash {
            return Err(bad("the key hash does not match the key"));
        }
        let key = VerifyingKey::from_bytes(raw[1..].try_into().expect("32 bytes"))
            .map_err(|_| bad("an Ed25519 key"))?;
        Ok(Verifier {
            name: name.to_string(),
            hash,
            key,
            text: text.to_string(),
        })
    }

    /// Checks `note` (text, blank line, signature lines) and returns its text: one
    /// signature line must be this key's and verify.
    pub fn open<'a>(&self, note: &'a [u8]) -> Result<&'a str, String> {
        let s =
            std::str::from_utf8(note).map_err(|_| "the signed note is not UTF-8".to_string())?;
        let split = s
            .rfind("\n\n")
            .ok_or("the signed note has no signature block")?;
        let (text, sigs) = (&s[..split + 1], &s[split + 2..]);
        for line in sigs.lines() {
            let Some(rest) = line.strip_prefix("\u{2014} ") else {
                return Err(format!("malformed signature line {line:?}"));
            };
            let Some((name, sig)) = rest.split_once(' ') else {
                return Err(format!("malformed signature line {line:?}"));
            };
            if name != self.name {
                continue;
            }
            let raw = B64
                .decode(sig)
                .map_err(|_| format!("malformed signature line {line:?}"))?;
            if raw.len() != 68 || u32::from_be_bytes(raw[..4].try_into().expect("4")) != self.hash {
                continue;
            }
            let sig = Signature::from_bytes(raw[4..].try_into().expect("64 bytes"));
            return self
                .key
                .verify(text.as_bytes(), &sig)
                .map(|_| text)
                .map_err(|_| format!("the note's signature by {} does not verify", self.name));
        }
        Err(format!(
            "the note carries no signature by {} with key {:08x}",
            self.name, self.hash
        ))
    }
}

fn key_hash(name: &str, raw_key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update(raw_key);
    let d = h.finalize();
    u32::from_be_bytes(d[..4].try_into().expect("4"))
}

/// A tree head: the log's size and root hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tree {
    /// Number of records.
    pub n: i64,
    /// Root hash.
    pub hash: Hash,
}

/// Parses the text of a tree note (`go.sum database tree\nN\nHASH\n`).
pub fn parse_tree(text: &str) -> Result<Tree, String> {
    let mut lines = text.lines();
    if lines.next() != Some("go.sum database tree") {
        return Err("the note is not a go.sum database tree".into());
    }
    let n = lines
        .next()
        .and_then(|l| l.parse::<i64>().ok())
        .filter(|n| *n >= 0)
        .ok_or("the tree note has no size")?;
    let hash = lines
        .next()
        .and_then(|l| B64.decode(l).ok())
        .and_then(|h| <Hash>::try_from(h).ok())
        .ok_or("the tree note has no hash")?;
    Ok(Tree { n, hash })
}

/// A lookup answer: record id, the record's go.sum lines, and the signed tree note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// Position of the record in the log.
    pub id: i64,
    /// The record: go.sum lines, each ending in `\n`.
    pub text: String,
    /// The signed tree note that came with it.
    pub note: Vec<u8>,
}

/// Parses a `/lookup/` answer (`ID\nTEXT\n\nNOTE`).
pub fn parse_lookup(body: &[u8]) -> Result<Lookup, String> {
    let s = std::str::from_utf8(body).map_err(|_| "the lookup answer is not UTF-8")?;
    let (id, rest) = s
        .split_once('\n')
        .ok_or("the lookup answer has no record id")?;
    let id = id
        .parse::<i64>()
        .ok()
        .filter(|i| *i >= 0)
        .ok_or("the lookup answer has no record id")?;
    let end = rest
        .find("\n\n")
        .ok_or("the lookup answer has no signed tree")?;
    Ok(Lookup {
        id,
        text: rest[..end + 1].to_string(),
        note: rest.as_bytes()[end + 2..].to_vec(),
    })
}

/// The lookup answer nora serves: the record with the tree note it is proven in.
pub fn format_lookup(id: i64, text: &str, note: &[u8]) -> Vec<u8> {
    let mut out = format!("{id}\n{text}\n").into_bytes();
    out.extend_from_slice(note);
    out
}

/// The `h1:` hashes a record gives for `module version` (zip) and its go.mod.
pub fn record_hashes(text: &str, module: &str, version: &str) -> (Option<String>, Option<String>) {
    let (mut zip, mut go_mod) = (None, None);
    let gomod = format!("{version}/go.mod");
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        if f.len() == 3 && f[0] == module {
            if f[1] == version {
                zip = Some(f[2].to_string());
            } else if f[1] == gomod {
                go_mod = Some(f[2].to_string());
            }
        }
    }
    (zip, go_mod)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ed25519_dalek::{Signer as _, SigningKey};

    /// A key pair for `name` from a fixed seed: (verifier key text, signing key).
    pub fn key(name: &str, seed: u8) -> (String, SigningKey) {
        let sk = SigningKey::from_bytes(&[seed; 32]);
        let mut raw = vec![1u8];
        raw.extend_from_slice(sk.verifying_key().as_bytes());
        (
            format!("{name}+{:08x}+{}", key_hash(name, &raw), B64.encode(&raw)),
            sk,
        )
    }

    /// Signs `text` as `name` would.
    pub fn sign(name: &str, vkey: &str, sk: &SigningKey, text: &str) -> Vec<u8> {
        let v = Verifier::parse(vkey).unwrap();
        let mut raw = v.hash.to_be_bytes().to_vec();
        raw.extend_from_slice(&sk.sign(text.as_bytes()).to_bytes());
        format!("{text}\n\u{2014} {name} {}\n", B64.encode(raw)).into_bytes()
    }

    #[test]
    fn keys_and_signed_notes() {
        let (vkey, sk) = key("sum.example", 7);
        let v = Verifier::parse(&vkey).unwrap();
        let text = format!("go.sum database tree\n5\n{}\n", B64.encode([9u8; 32]));
        let note = sign("sum.example", &vkey, &sk, &text);
        assert_eq!(v.open(&note).unwrap(), text);
        let tree = parse_tree(v.open(&note).unwrap()).unwrap();
        assert_eq!((tree.n, tree.hash), (5, [9u8; 32]));
        let mut forged = note.clone();
        forged[21] = b'6';
        assert!(v.open(&forged).unwrap_err().contains("does not verify"));
        let (other, _) = key("sum.example", 8);
        assert!(Verifier::parse(&other)
            .unwrap()
            .open(&note)
            .unwrap_err()
            .contains("no signature by sum.example"));
        // the real sum.golang.org key parses
        Verifier::parse("sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8")
            .unwrap();
        for bad in [
            "sum.golang.org",
            "x+1234+AAAA",
            "sum.golang.org+033de0af+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
        ] {
            assert!(Verifier::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lookup_answers() {
        let body = b"42\nexample.com/a v1.0.0 h1:zip=\nexample.com/a v1.0.0/go.mod h1:mod=\n\ngo.sum database tree\n43\nhash\n\n\xe2\x80\x94 x sig\n";
        let l = parse_lookup(body).unwrap();
        assert_eq!(l.id, 42);
        assert_eq!(
            record_hashes(&l.text, "example.com/a", "v1.0.0"),
            (Some("h1:zip=".into()), Some("h1:mod=".into()))
        );
        assert_eq!(format_lookup(l.id, &l.text, &l.note), body);
        assert!(parse_lookup(b"x\n").is_err());
    }
}
