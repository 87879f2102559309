//! minisign-compatible Ed25519 signatures of volume manifests, checked with no network.

use crate::error::{Error, IoContext, Result};
use minisign::{KeyPair, PublicKey, PublicKeyBox, SecretKey, SecretKeyBox, SignatureBox};
use std::path::Path;

/// Writes a new key pair: `<path>` (secret, unencrypted, mode 0600) and `<path>.pub`.
pub fn generate(secret_path: &Path) -> Result<(std::path::PathBuf, String)> {
    let kp =
        KeyPair::generate_unencrypted_keypair().map_err(|e| Error::Signature(e.to_string()))?;
    let pub_path = secret_path.with_extension("pub");
    for p in [secret_path, pub_path.as_path()] {
        if p.exists() {
            return Err(Error::Other(format!(
                "{} exists; refusing to overwrite a key",
                p.display()
            )));
        }
    }
    let sk = kp
        .sk
        .to_box(Some("nora secret key"))
        .map_err(|e| Error::Signature(e.to_string()))?
        .into_string();
    let pk = kp
        .pk
        .to_box()
        .map_err(|e| Error::Signature(e.to_string()))?
        .into_string();
    let dir = secret_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    crate::bundle::write_atomic(secret_path, sk.as_bytes(), dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(secret_path, std::fs::Permissions::from_mode(0o600))
            .at("chmod", secret_path)?;
    }
    crate::bundle::write_atomic(&pub_path, pk.as_bytes(), dir)?;
    Ok((pub_path, kp.pk.to_base64()))
}

/// Loads an unencrypted secret key written by [`generate`] or `minisign -G -W`.
pub fn load_secret(path: &Path) -> Result<SecretKey> {
    let s = std::fs::read_to_string(path).at("read secret key", path)?;
    SecretKeyBox::from_string(&s)
        .and_then(|b| b.into_unencrypted_secret_key())
        .map_err(|e| {
            Error::Signature(format!(
                "{}: not an unencrypted minisign secret key: {e}",
                path.display()
            ))
        })
}

/// Loads a public key: a minisign `.pub` file, or the bare base64 key.
pub fn load_public(spec: &str) -> Result<PublicKey> {
    let p = Path::new(spec);
    if p.exists() {
        let s = std::fs::read_to_string(p).at("read public key", p)?;
        PublicKeyBox::from_string(&s)
            .and_then(|b| b.into_public_key())
            .map_err(|e| Error::Signature(format!("{spec}: not a minisign public key: {e}")))
    } else {
        PublicKey::from_base64(spec.trim()).map_err(|e| {
            Error::Signature(format!(
                "'{spec}' is neither a public key file nor a base64 minisign key: {e}"
            ))
        })
    }
}

/// Signs manifest bytes; the trusted comment names the pack and volume.
pub fn sign(sk: &SecretKey, data: &[u8], trusted: &str) -> Result<String> {
    let sig = minisign::sign(None, sk, data, Some(trusted), Some("signature from nora"))
        .map_err(|e| Error::Signature(e.to_string()))?;
    Ok(sig.into_string())
}

/// Checks a signature over manifest bytes; returns the trusted comment.
pub fn verify(pk: &PublicKey, data: &[u8], sig: &str) -> Result<String> {
    let sb = SignatureBox::from_string(sig)
        .map_err(|e| Error::Signature(format!("malformed signature: {e}")))?;
    minisign::verify(pk, &sb, std::io::Cursor::new(data), true, false, false)
        .map_err(|e| Error::Signature(format!("does not verify with the given public key: {e}")))?;
    sb.trusted_comment()
        .map_err(|e| Error::Signature(e.to_string()))
}
